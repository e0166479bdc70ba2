"""Pure-Python safetensors reader/writer (the documented format, no external package).

Layout: u64 little-endian header length N, N bytes of JSON header (padded with spaces to a multiple of 8),
then the raw little-endian tensor bytes. The header maps each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the start of the data section),
plus an optional "__metadata__" {str: str}.

Writing is deterministic: JSON with sorted keys and no whitespace, tensors laid out back to back in sorted name
order (no padding between tensors; readers must use data_offsets, never assume alignment).
"""
import json
import os
import struct

import numpy as np
import torch

# safetensors dtype string <-> torch dtype
_TORCH_TO_ST = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_ST_TO_TORCH = {v: k for k, v in _TORCH_TO_ST.items()}
_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def _to_bytes(t):
    """Raw little-endian bytes of a tensor (contiguous, CPU)."""
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret as int16 (same bytes)
        return t.view(torch.int16).numpy().astype("<i2", copy=False).tobytes()
    a = t.numpy()
    if a.dtype.byteorder == ">":
        a = a.byteswap().newbyteorder()
    return a.tobytes()


def to_tensor(x):
    """Accept torch tensors, numpy arrays and python scalars/lists."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    return torch.tensor(x)


def save_bytes(tensors, metadata=None):
    """Serialize {name: tensor} to safetensors bytes (deterministic)."""
    names = sorted(tensors)
    header = {}
    blobs = []
    offset = 0
    for name in names:
        t = to_tensor(tensors[name])
        if t.dtype not in _TORCH_TO_ST:
            raise ValueError(f"safetensors: unsupported dtype {t.dtype} for tensor '{name}'")
        b = _to_bytes(t)
        header[name] = {"dtype": _TORCH_TO_ST[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(blobs)


def save_file(tensors, path, metadata=None):
    """Write atomically (temp file then rename)."""
    data = save_bytes(tensors, metadata)
    tmp = str(path) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def load_bytes(data, path="<bytes>"):
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (too short)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(data)}")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _ST_TO_TORCH:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {dt}")
        b, e = info["data_offsets"]
        raw = bytearray(data[base + b: base + e])
        shape = info["shape"]
        count = 1
        for s in shape:
            count *= s
        if count * _ITEMSIZE[dt] != e - b:
            raise ValueError(f"{path}: tensor '{name}' byte size {e - b} does not match shape {shape} {dt}")
        if dt == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if count else torch.empty(0, dtype=torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=_ST_TO_TORCH[dt]) if count else torch.empty(0, dtype=_ST_TO_TORCH[dt])
        out[name] = t.reshape(shape).clone()
    return out


def load_file(path):
    with open(path, "rb") as f:
        return load_bytes(f.read(), str(path))


def read_metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header.get("__metadata__", {})
