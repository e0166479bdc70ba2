"""What the PyTorch benchmark scripts share: the reference environment, precision casts, the timing loop and the
result record that bench.py (the side-by-side harness) reads.

Each bench_*.py runs the ORIGINAL upstream code under whichever interpreter starts it: Debian's /usr/bin/python3
(torch 1.13) or a torch 2.x interpreter that sees the same upstream sources. On torch 2.x, torch's own
F.scaled_dot_product_attention is used (v2aref.env installs its shim only where torch lacks the function) and the
script says which one ran.
"""
import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # reference-tests/, for v2aref


def require_reference_src():
    """The upstream checkouts (see reference-tests/README.md, 'Reference environment'); no default location."""
    root = os.environ.get("V2A_REFERENCE_SRC")
    if not root:
        raise SystemExit("V2A_REFERENCE_SRC is not set: export it to the folder of the upstream checkouts "
                         "(k4/, diffusers/src/, transformers/src/, cogvlm/model/, ...; see reference-tests/README.md)")
    if not os.path.isdir(root):
        raise SystemExit(f"V2A_REFERENCE_SRC={root}: no such folder")
    return root


def add_args(ap, repeats=3):
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                    help="dtype of module and inputs (.to(dtype), as from_pretrained(torch_dtype=...) loads them)")
    ap.add_argument("--repeats", type=int, default=repeats, help="timed runs (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--result-json", help="also write the result record here (used by bench.py)")
    return ap


def setup(threads, upstream=True):
    """Imports torch with the reference environment (upstream sources on sys.path) and the thread count."""
    if upstream:
        require_reference_src()
        from v2aref import env
        env.setup(threads=threads)
    import torch
    torch.set_num_threads(threads)
    return torch


def stub_foreign_torchvision(torch):
    """The remote CogVLM2 code imports torchvision/pytorchvideo for its image preprocessing, which the benchmark never
    calls; a torchvision built for another torch aborts the interpreter when loaded. There, transformers first probes
    for it with the package marked absent (so that it takes no torchvision code path), then the remote code gets
    import-only stubs. Call after setup(), before importing the remote code."""
    if not _foreign("torchvision", torch):
        return
    from v2aref import env
    sys.modules["torchvision"] = None
    import transformers.utils.import_utils  # noqa: F401
    del sys.modules["torchvision"]
    env.install_import_stubs({"torchvision.transforms": ["Lambda"],
                              "torchvision.transforms._transforms_video": ["NormalizeVideo", "CenterCropVideo"],
                              "pytorchvideo.transforms": ["ShortSideScale"]})


def _foreign(pkg, torch):
    """True when `pkg` is installed beside another torch than the one running (a torch 2.x venv that sees Debian's
    torch-1.13 builds through --system-site-packages): its compiled extension cannot load here."""
    spec = importlib.util.find_spec(pkg)
    if spec is None or spec.origin is None:
        return False
    site = lambda p: os.path.dirname(os.path.dirname(os.path.realpath(p)))  # noqa: E731
    return site(spec.origin) != site(torch.__file__)


def torchaudio_functional(torch):
    """torchaudio.functional. Under a torch for which the installed torchaudio was not built, the package's pure-Python
    functional module is loaded without the compiled extension: the package __init__ (which loads it) is skipped,
    the extension is marked absent (torchaudio's own fallback), and functional/filtering.py, whose import-time probe of
    the extension's ops raises on torch 2, is an import-only stub (griffinlim and melscale_fbanks do not use it)."""
    if not _foreign("torchaudio", torch):
        import torchaudio.functional as F
        return F
    pkg = os.path.dirname(importlib.util.find_spec("torchaudio").origin)
    for name, path in (("torchaudio", pkg), ("torchaudio.functional", os.path.join(pkg, "functional"))):
        m = types.ModuleType(name)
        m.__path__ = [path]
        sys.modules[name] = m
    sys.modules["torchaudio._torchaudio"] = None
    stub = types.ModuleType("torchaudio.functional.filtering")

    def _absent(*a, **k):
        raise RuntimeError("torchaudio.functional.filtering is an import-only stub here")
    stub.highpass_biquad = stub.treble_biquad = _absent
    sys.modules["torchaudio.functional.filtering"] = stub
    import torchaudio.functional.functional as F
    return F


def dtype(torch, precision):
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@contextlib.contextmanager
def constructed_in(torch, dt):
    """Modules built inside get their parameters in dt directly, as from_pretrained(torch_dtype=...) loads them, so a
    bf16 row never holds an fp32 copy of the weights. Upstream forward code sees the default dtype again."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(dt)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def vm_hwm_gb():
    """Peak RSS so far (VmHWM), or since the last reset_hwm()."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def reset_hwm():
    """Restarts VmHWM at the current RSS (Linux clear_refs), so that the peak of the timed runs is seen apart from
    the setup's. The process's rusage maximum follows VmHWM: bench.py takes the larger of the two peaks."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def sdpa_kind(torch):
    f = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if f is None:
        return "none"
    return "torch native" if getattr(f, "__module__", "").startswith("torch") else f"shim {f.__module__}.{f.__name__}"


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def run(args, stage, size, flop, fn, check=None):
    """Warm-up + timed runs of fn() under no_grad; prints each run and the median; writes --result-json.
    check(output) -> a number printed with each run (and NaN/inf in it fails the run)."""
    import torch
    print(f"{stage} [{size}] torch {torch.__version__}, {args.precision}, {torch.get_num_threads()} threads, "
          f"SDPA: {sdpa_kind(torch)}, {flop / 1e9:.1f} GFLOP per run, load {load()}", flush=True)
    times = []
    setup_peak = vm_hwm_gb()
    reset = reset_hwm()
    with torch.no_grad():
        for i in range(args.warmup + args.repeats):
            t0 = time.perf_counter()
            out = fn()
            sec = time.perf_counter() - t0
            value = check(out) if check else float("nan")
            if check and not (value == value and abs(value) != float("inf")):
                raise SystemExit(f"{stage}: non-finite output in run {i + 1}")
            del out
            timed = i >= args.warmup
            if timed:
                times.append(sec)
            print(f"  run {i + 1}{'' if timed else ' (warm-up)'}: {sec:.3f} s ({flop / sec / 1e9:.1f} GFLOP/s), "
                  f"check {value:.6e}, peak RSS {vm_hwm_gb():.2f} GB, load {load()}", flush=True)
    med = statistics.median(times) if times else float("nan")
    runs_peak = vm_hwm_gb() if reset else float("nan")
    print(f"median {med:.3f} s over {len(times)} runs (min {min(times, default=float('nan')):.3f}), "
          f"{flop / med / 1e9:.1f} GFLOP/s, peak RSS: setup {setup_peak:.2f} GB, runs {runs_peak:.2f} GB, "
          f"load {load()}", flush=True)
    if args.result_json:
        rec = {"stage": stage, "size": size, "engine": f"torch {torch.__version__}", "precision": args.precision,
               "threads": torch.get_num_threads(), "times_s": times, "warmup": args.warmup, "flop": flop,
               "sdpa": sdpa_kind(torch), "peak_rss_setup_gb": setup_peak, "peak_rss_runs_gb": runs_peak}
        with open(args.result_json, "w") as f:
            json.dump(rec, f, indent=1)
    return med


def finite_sum(t):
    return t.double().abs().sum().item()
