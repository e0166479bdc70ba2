"""Import shim for `safetensors.torch` backed by v2aref.st."""
from v2aref import st as _st


def load_file(filename, device="cpu"):
    return _st.load_file(filename)


def save_file(tensors, filename, metadata=None):
    _st.save_file(tensors, filename, metadata)


def load(data):
    return _st.load_bytes(data)


def save(tensors, metadata=None):
    return _st.save_bytes(tensors, metadata)


def storage_ptr(tensor):
    try:
        return tensor.untyped_storage().data_ptr()
    except AttributeError:
        return tensor.storage().data_ptr()


def storage_size(tensor):
    try:
        return tensor.untyped_storage().nbytes()
    except AttributeError:
        return tensor.storage().size() * tensor.element_size()
