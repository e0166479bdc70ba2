"""Record per-module tensors of an upstream torch model by wrapping each submodule's `forward`.

torch 1.13 forward hooks cannot see keyword arguments, so every selected module gets an instance attribute
`forward` that records its inputs, calls the original forward and records its outputs. Naming (module path P as in
`model.named_modules()`, optionally with a prefix):

    P.in.<i>              positional tensor input i
    P.in.<kw>             keyword tensor input
    P.in.<kw>.<j|key>     element j / key of a tuple/list/dict input (recursively)
    P.out                 output tensor
    P.out.<i> / .<key>    element of a tuple/list/dict output (recursively; a 1-tuple gives P.out.0)

The k-th repeated call (k >= 1) of the same module path P uses the path `P@k` (P@1.out, P@2.in.0, ...).
Inputs are recorded when the call starts, outputs when it returns, so `order` is execution order (a parent's
inputs come before its children's tensors, its outputs after them). Tensors are cloned at record time (upstream
code modifies some tensors in place afterwards). A tensor bit-identical (dtype, shape, bytes) to one recorded
earlier is stored once: `aliases[name] = canonical name`.
"""
import hashlib
from collections import OrderedDict

import torch
from torch import nn

# leaf modules without parameters whose tensors are already visible as the parent's tensors
DEFAULT_SKIP_TYPES = (nn.SiLU, nn.GELU, nn.ReLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Dropout, nn.Identity)


class TensorStore:
    """Ordered name -> tensor store with bit-identical de-duplication."""

    def __init__(self):
        self.tensors = OrderedDict()  # canonical name -> tensor (stored)
        self.order = []  # every recorded name (canonical or alias), in recording order
        self.aliases = OrderedDict()  # alias name -> canonical name
        self.complex_as_real = []  # names of complex tensors stored as view_as_real (trailing dim 2)
        self._by_digest = {}
        self._names = set()

    @staticmethod
    def _digest(t):
        h = hashlib.sha256()
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        if t.dtype == torch.bfloat16:
            h.update(t.view(torch.int16).numpy().tobytes())
        else:
            h.update(t.numpy().tobytes())
        return h.hexdigest()

    def add(self, name, tensor, dedupe=True):
        if name in self._names:
            raise ValueError(f"tensor name recorded twice: {name}")
        if not isinstance(tensor, torch.Tensor):
            tensor = torch.as_tensor(tensor)
        t = tensor.detach().cpu().clone().contiguous()
        if t.is_complex():  # safetensors has no complex dtype: store [..., 2] = (real, imag)
            t = torch.view_as_real(t).clone().contiguous()
            self.complex_as_real.append(name)
        self._names.add(name)
        self.order.append(name)
        if dedupe:
            d = self._digest(t)
            canon = self._by_digest.get(d)
            if canon is not None:
                self.aliases[name] = canon
                return canon
            self._by_digest[d] = name
        self.tensors[name] = t
        return name

    def __contains__(self, name):
        return name in self._names

    def get(self, name):
        return self.tensors[self.aliases.get(name, name)]


def _flatten(value, name, out):
    """Append (name, tensor) pairs of a nested value; non-tensor leaves are ignored."""
    if isinstance(value, torch.Tensor):
        out.append((name, value))
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _flatten(v, f"{name}.{i}", out)
    elif isinstance(value, dict):  # includes diffusers BaseOutput (an OrderedDict)
        for k, v in value.items():
            _flatten(v, f"{name}.{k}", out)


class Recorder:
    """Context manager wrapping the forwards of `model`'s submodules.

    include(path, module) -> bool   which modules to record (default: all, minus DEFAULT_SKIP_TYPES leaves);
                                    modules reachable under several paths (shared instances) are never recorded.
    inputs: bool or callable(path) -> bool   whether to record a module's inputs (default True; aliases make
                                    most of them free).
    root: record the root module itself under `root_name` (default False: the caller records the call's I/O).
    prefix: prepended to every path ("" or e.g. "unet.").
    store: a TensorStore to share between several recorders / manual records.
    """

    def __init__(self, model, include=None, inputs=True, root=False, root_name="model", prefix="", store=None,
                 skip_types=DEFAULT_SKIP_TYPES):
        self.model = model
        self.store = store if store is not None else TensorStore()
        self.calls = {}
        self._wrapped = []
        counts = {}
        for _, m in model.named_modules(remove_duplicate=False):
            counts[id(m)] = counts.get(id(m), 0) + 1
        self.shared = set()
        self.targets = []
        for path, m in model.named_modules():
            if path == "" and not root:
                continue
            if counts[id(m)] > 1:
                self.shared.add(path)
                continue
            if include is None:
                if isinstance(m, skip_types) and len(list(m.children())) == 0:
                    continue
            elif not include(path, m):
                continue
            full = prefix + (path if path else root_name)
            self.targets.append((full, m))
        self.inputs = inputs

    def add(self, name, tensor, dedupe=True):
        """Record a tensor that is not a module input/output (e.g. a scheduler value)."""
        return self.store.add(name, tensor, dedupe)

    def _call_path(self, path):
        k = self.calls.get(path, 0)
        self.calls[path] = k + 1
        return path if k == 0 else f"{path}@{k}"

    def _make(self, path, module, orig):
        rec = self

        def forward(*args, **kwargs):
            p = rec._call_path(path)
            want_in = rec.inputs(path) if callable(rec.inputs) else rec.inputs
            if want_in:
                items = []
                for i, a in enumerate(args):
                    _flatten(a, f"{p}.in.{i}", items)
                for k, v in kwargs.items():
                    _flatten(v, f"{p}.in.{k}", items)
                for n, t in items:
                    rec.store.add(n, t)
            out = orig(*args, **kwargs)
            items = []
            _flatten(out, f"{p}.out", items)
            for n, t in items:
                rec.store.add(n, t)
            return out

        return forward

    def __enter__(self):
        for path, m in self.targets:
            had = "forward" in m.__dict__
            orig = m.forward
            m.forward = self._make(path, m, orig)
            self._wrapped.append((m, had, orig))
        return self

    def __exit__(self, *exc):
        for m, had, orig in reversed(self._wrapped):
            if had:
                m.forward = orig
            else:
                del m.forward
        self._wrapped = []
        return False


class patch_function:
    """Temporarily replace `owner.name` (a function or method) by a recording wrapper. The k-th call (k >= 1) uses
    the label `<label>@k`. Records `<label>.in.<suffix>` from record_args(args, kwargs) -> [(suffix, tensor)]
    (called BEFORE the original, so in-place changes by the callee do not leak in) and the result as
    `<label>.out` (tuple -> `.out.<i>`), or as `<label>.out.<suffix>` from record_out(result) -> [(suffix, tensor)]
    when given. Used for torch functions called inside upstream code (torch.rand for Griffin-Lim init phases,
    torch.istft for per-iteration waveforms) and for non-module upstream functions."""

    def __init__(self, owner, name, store, label, record_args=None, record_out=None, select=None):
        self.owner, self.name, self.store, self.label = owner, name, store, label
        self.select = select  # optional callable(k) -> bool: record only the selected calls (0-based)
        self.record_args = record_args
        self.record_out = record_out
        self.count = 0

    def __enter__(self):
        self.had = self.name in getattr(self.owner, "__dict__", {})
        self.orig = getattr(self.owner, self.name)
        orig = self.orig

        def wrapper(*args, **kwargs):
            k = self.count
            self.count += 1
            lbl = self.label if k == 0 else f"{self.label}@{k}"
            if self.select is not None and not self.select(k):
                return orig(*args, **kwargs)
            if self.record_args is not None:
                for suffix, t in self.record_args(args, kwargs):
                    self.store.add(f"{lbl}.in.{suffix}", t)
            out = orig(*args, **kwargs)
            if self.record_out is not None:
                for suffix, t in self.record_out(out):
                    self.store.add(f"{lbl}.out.{suffix}" if suffix else f"{lbl}.out", t)
            else:
                items = []
                _flatten(out, f"{lbl}.out", items)
                for n, t in items:
                    self.store.add(n, t)
            return out

        setattr(self.owner, self.name, wrapper)
        return self

    def __exit__(self, *exc):
        if self.had:
            setattr(self.owner, self.name, self.orig)
        else:
            delattr(self.owner, self.name)
        return False
