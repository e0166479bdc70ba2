#!/usr/bin/python3
"""Compare a regenerated bundle with the committed one, tensor by tensor, against the bundle's own tolerances.

    /usr/bin/python3 reference-tests/compare_bundles.py COMMITTED_DIR NEW_DIR [--all]

Bit identity only holds on the CPU kind that made a bundle: torch's fp32 kernels round differently on another
one. So every tensor (weights, io, activations) is measured as max|new - committed| / max|committed| and held to
a tolerance taken from the bundle's manifest:

  1. `reference_noise` (the reference's own fp32-vs-fp64 distance of a chaotic stage): 2 x that distance, at least
     one integer step for integer tensors;
  2. `tolerance_hints`: a hint whose key names the tensor (the key, one of its '/'-separated parts, or its leading
     word, equals the tensor's name without 'io:', a dotted prefix of it, one of its dotted components, or the
     manifest's `intermediates` entry of that name); its value gives the bound: the first number like 1e-5,
     "N LSB" / "N-M LSB" (integer steps), "|diff| <= N" (integer steps), or "exact";
  3. the hint named `default` or `per_module` if the bundle has one;
  4. otherwise fp32 rounding (1e-5 of max|ref|) for floating tensors and exact for integer ones.

Prints one line per bundle (how many tensors differ, how many exceed their tolerance), a line saying whether the
files are bit-identical, and with --all or on a failure one line per differing tensor in execution order (weights,
activations, io), the first one over its tolerance marked: later tensors computed from it inherit its difference
(an image value one uint8 step apart changes every audio tensor after it). Exit status 1 when a tensor exceeds
its tolerance, changes shape or dtype, or exists on one side only.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from v2aref import st  # noqa: E402

FILES = ("weights.safetensors", "io.safetensors", "activations.safetensors")
FP32 = 1e-5
NOISE_FACTOR = 2.0
_NUMBER = re.compile(r"(\d+(?:\.\d+)?e-\d+)")
_LSB = re.compile(r"(\d+)(?:\s*-\s*(\d+))?\s*LSB")
_ABS_INT = re.compile(r"\|diff\|\s*<=\s*(\d+)(?![.\de])")


def _is_int(t):
    return not (t.is_floating_point() or t.is_complex())


def _parse_hint(text):
    """(kind, value): kind 'rel' (relative to max|ref|) or 'steps' (integer steps); None if it states no bound."""
    m = _LSB.search(text)
    if m:
        return "steps", int(m.group(2) or m.group(1))
    m = _ABS_INT.search(text)
    if m:
        return "steps", int(m.group(1))
    m = _NUMBER.search(text)
    if m:
        return "rel", float(m.group(1))
    if "exact" in text:
        return "rel", 0.0
    return None


def _key_parts(key):
    for part in key.split("/"):
        part = re.sub(r"\(.*?\)", "", part).strip()
        if part:
            yield part
            yield part.split()[0]


def _hint_for(name, hints, intermediates):
    bare = name[3:] if name.startswith("io:") else name
    parts = bare.split(".")
    for key, text in hints.items():
        for p in _key_parts(key):
            if (p == bare or bare.startswith(p + ".") or p in parts or p.rstrip(".*") == bare.split(".")[0]
                    or intermediates.get(p) == bare):
                bound = _parse_hint(text)
                if bound:
                    return key, bound
    for key in ("default", "per_module"):
        if key in hints and _parse_hint(hints[key]):
            return key, _parse_hint(hints[key])
    return None, None


def tolerance(name, ref, manifest):
    """(bound relative to max|ref|, where it comes from)."""
    peak = float(ref.abs().max()) if ref.numel() else 0.0
    step = 1.0 / peak if peak > 0 else 0.0
    noise = manifest.get("reference_noise", {})
    if name in noise:
        tol = NOISE_FACTOR * noise[name]
        return (max(tol, step) if _is_int(ref) else max(tol, FP32)), f"{NOISE_FACTOR:g} x reference_noise"
    hints = manifest.get("tolerance_hints")
    hints = hints if isinstance(hints, dict) else {}
    key, bound = _hint_for(name, hints, manifest.get("intermediates", {}))
    if bound:
        kind, value = bound
        return (value * step if kind == "steps" else value), f"hint '{key}'"
    return (0.0 if _is_int(ref) else FP32), \
        "no hint: " + ("exact (integer)" if _is_int(ref) else "fp32 rounding")


def rel_diff(a, b):
    a64 = torch.view_as_real(a).double() if a.is_complex() else a.double()
    b64 = torch.view_as_real(b).double() if b.is_complex() else b.double()
    err = float((a64 - b64).abs().max()) if a.numel() else 0.0
    peak = float(b64.abs().max()) if b.numel() else 0.0
    return err / peak if peak > 0 else (0.0 if err == 0 else float("inf"))


def compare(committed, new, show_all):
    with open(os.path.join(new, "manifest.json")) as f:
        manifest = json.load(f)
    rows, problems, identical = [], [], True
    for fname in FILES:
        pa, pb = os.path.join(committed, fname), os.path.join(new, fname)
        with open(pa, "rb") as f:
            ba = f.read()
        with open(pb, "rb") as f:
            bb = f.read()
        identical &= ba == bb
        ta, tb = st.load_bytes(ba, pa), st.load_bytes(bb, pb)
        prefix = "io:" if fname == "io.safetensors" else ("weights:" if fname.startswith("weights") else "")
        for n in sorted(set(ta) | set(tb)):
            label = prefix + n
            if n not in tb or n not in ta:
                problems.append(f"{label}: only in the {'committed' if n in ta else 'new'} bundle")
                continue
            a, b = tb[n], ta[n]
            if a.dtype != b.dtype or a.shape != b.shape:
                problems.append(f"{label}: {a.dtype}{list(a.shape)} vs committed {b.dtype}{list(b.shape)}")
                continue
            if torch.equal(a, b):
                continue
            r = rel_diff(a, b)
            tol, why = tolerance(label, b, manifest)
            differ = int((a != b).sum())
            rows.append((label, r, tol, why, r <= tol, f"{differ} of {a.numel()} values"))
    position = {n: i for i, n in enumerate(manifest.get("order", []))}
    rank = {"weights:": 0, "": 1, "io:": 2}
    rows.sort(key=lambda r: (rank[r[0][:r[0].find(":") + 1] if r[0].startswith(("io:", "weights:")) else ""],
                             position.get(r[0], len(position)), r[0]))
    for fname in ("manifest.json", "config.json"):
        with open(os.path.join(committed, fname), "rb") as f:
            same = f.read()
        with open(os.path.join(new, fname), "rb") as f:
            identical &= same == f.read()
    over = [r for r in rows if not r[4]]
    name = os.path.basename(os.path.normpath(new))
    status = "OK     " if not over and not problems else "OVER   "
    print(f"{status}{name}: {len(rows)} tensors differ, {len(over)} over tolerance"
          f"{', ' + str(len(problems)) + ' structural differences' if problems else ''}")
    print(f"         bit-identical: {'yes' if identical else 'no'}")
    first = next((r[0] for r in rows if not r[4]), None)
    for label, r, tol, why, ok, differ in rows:
        if show_all or over:
            mark = "  <== first over tolerance" if label == first else ""
            print(f"         {'ok  ' if ok else 'OVER'} {label}: {r:.3e} of max|ref|, {differ} differ (tolerance "
                  f"{tol:.3e}, {why}){mark}")
    for p in problems:
        print(f"         DIFF {p}")
    return not over and not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("committed")
    ap.add_argument("new")
    ap.add_argument("--all", action="store_true", help="list every differing tensor, not only those over tolerance")
    a = ap.parse_args()
    sys.exit(0 if compare(a.committed, a.new, a.all) else 1)


if __name__ == "__main__":
    main()
