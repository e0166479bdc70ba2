"""Import-only stub for `triton` (CogVLM2 util.py defines a GPU rotary kernel at import time).

`jit` is the identity, so the kernel function is defined but never runnable; the dump code must replace the
rotary call by the same (non-interleaved) formula in torch."""
__version__ = "0.0.0+v2arefstub"


def jit(fn=None, **kwargs):
    if fn is None:
        return lambda f: f
    return fn


def cdiv(a, b):
    return (a + b - 1) // b


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(f"v2aref: 'triton' is an import-only stub; triton.{name} is not available")
