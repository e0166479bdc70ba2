"""Write a golden bundle directory (format: reference-tests/README.md, "Bundle format").

<out>/<name>/
  config.json               upstream config of the component (+ our additions under "v2a4j")
  weights.safetensors       state_dict with the exact upstream names, floating tensors as F32
  io.safetensors            the call's inputs and outputs
  activations.safetensors   per-module tensors (canonical names only; see manifest aliases)
  manifest.json             component, case, upstream, runtime, seed, sizes, command, order, aliases,
                            tolerance_hints, notes (+ optional extra keys)

Everything is written deterministically (no timestamps, sorted safetensors names), first into a temporary
sibling directory which then replaces <out>/<name> (never half-written).
"""
import json
import os
import shlex
import shutil
import sys

import torch

from . import env, st
from .record import TensorStore

REPO_SCRIPT_DIR = "reference-tests"
DEFAULT_OUT = "reference-tests/bundles"
PYTHON = "/usr/bin/python3"


def canonical_command(script, args):
    """The command that regenerates a bundle, run from the repository root. `args` is a list of (flag, value)
    pairs (value None for a bare flag); --out is always the committed location."""
    parts = [PYTHON, f"{REPO_SCRIPT_DIR}/{os.path.basename(script)}"]
    for flag, value in args:
        parts.append(flag)
        if value is not None:
            parts.append(str(value))
    parts += ["--out", DEFAULT_OUT]
    return " ".join(shlex.quote(p) for p in parts)


def _fp32_state_dict(sd):
    out = {}
    for k, v in sd.items():
        v = v.detach().cpu()
        if v.is_floating_point():
            v = v.float()
        out[k] = v.contiguous().clone()
    return out


def _json(obj):
    return json.dumps(obj, indent=1, ensure_ascii=True) + "\n"


def write_bundle(out_root, name, *, component, case, config, weights=None, io=None, store=None, seed=None,
                 sizes=None, command=None, tolerance_hints=None, notes=None, extra=None):
    store = store if store is not None else TensorStore()
    io = io or {}
    weights = _fp32_state_dict(weights or {})
    for k, v in io.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"io tensor '{k}' is {type(v)}")
    final = os.path.join(out_root, name)
    tmp = final + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    st.save_file(weights, os.path.join(tmp, "weights.safetensors"))
    st.save_file({k: v.detach().cpu().contiguous() for k, v in io.items()}, os.path.join(tmp, "io.safetensors"))
    st.save_file(dict(store.tensors), os.path.join(tmp, "activations.safetensors"))
    with open(os.path.join(tmp, "config.json"), "w") as f:
        f.write(_json(config))
    manifest = {
        "component": component,
        "case": case,
        "upstream": env.upstream_versions(),
        "runtime": env.runtime_versions(),
        "seed": seed,
        "sizes": sizes or {},
        "command": command,
        "files": {
            "weights.safetensors": len(weights),
            "io.safetensors": len(io),
            "activations.safetensors": len(store.tensors),
        },
        "io": list(io.keys()),
        "order": list(store.order),
        "aliases": dict(store.aliases),
        "complex_as_real": list(store.complex_as_real),
        "tolerance_hints": tolerance_hints or {},
        "notes": notes or [],
    }
    if extra:
        for k, v in extra.items():
            if k in manifest:
                raise ValueError(f"manifest key clash: {k}")
            manifest[k] = v
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        f.write(_json(manifest))
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    total = sum(os.path.getsize(os.path.join(final, f)) for f in os.listdir(final))
    print(f"wrote {final}: {total / 1e6:.3f} MB, {len(store.tensors)} activation tensors "
          f"({len(store.aliases)} aliases), {len(weights)} weights, {len(io)} io", file=sys.stderr)
    return final


def load_bundle(path):
    """(config, manifest, weights, io, activations) with aliases resolved (for checks and tests in Python)."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    weights = st.load_file(os.path.join(path, "weights.safetensors"))
    io = st.load_file(os.path.join(path, "io.safetensors"))
    acts = st.load_file(os.path.join(path, "activations.safetensors"))
    for alias, canon in manifest["aliases"].items():
        acts[alias] = acts[canon]
    return config, manifest, weights, io, acts
