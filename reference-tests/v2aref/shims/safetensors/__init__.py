"""Import shim for the `safetensors` package (not packaged on Debian 12), backed by v2aref.st.

Only what diffusers/transformers touch at import time or in our dumps is provided. Loading real checkpoints
through it works for F32/F16/BF16/int tensors (whole file read into memory).
"""
from v2aref import st as _st

__version__ = "0.4.5+v2arefshim"


class SafetensorError(Exception):
    pass


class safe_open:  # noqa: N801 (upstream name)
    def __init__(self, filename, framework="pt", device="cpu"):
        self._tensors = _st.load_file(filename)
        self._meta = _st.read_metadata(filename)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def keys(self):
        return sorted(self._tensors)

    def get_tensor(self, name):
        return self._tensors[name]

    def metadata(self):
        return self._meta


def deserialize(data):
    raise NotImplementedError("v2aref safetensors shim: deserialize")


def serialize(tensors, metadata=None):
    raise NotImplementedError("v2aref safetensors shim: serialize")
