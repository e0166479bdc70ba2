#!/usr/bin/python3
"""Side-by-side benchmark: each stage under v2a4j (`v2a bench ...`) and under the ORIGINAL upstream code on
PyTorch 1.13 (Debian's /usr/bin/python3) and on PyTorch 2.x (an interpreter that sees the same upstream sources),
in fp32 and bf16 (the VAE also in fp16, the precision K4 loads it in, on request), back to back in one run.

Every row is its own process, started only when the one before has exited (peak RSS and CPU times are per row; the
machine never runs two rows at once). Per row: median and min of N timed runs after the warm-up, GFLOP/s over the
workload's FLOP count (flops.py, the same count for every engine), the ratio to v2a4j at the same precision, peak
RSS (ru_maxrss = VmHWM), user and system CPU seconds and minor page faults of the whole process (wait4 rusage), and the
load average before and after. The table goes to stdout, every figure to --json.

Environments (printed with each row):
  v2a4j      the `v2a` launcher's own environment: the harness removes every MALLOC_* variable and OMP_WAIT_POLICY it
             inherited (the launcher sets its own) and adds nothing but OMP_NUM_THREADS (the thread count).
  PyTorch    torch.set_num_threads(threads) and OMP_NUM_THREADS, plus three settings, each chosen per stage from
             measurements (TORCH_BEST below, "best") unless an option names one or asks for both:
             --torch-malloc    glibc defaults, or "tuned": MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2^40 (freed
                               memory is never handed back to the OS, so no buffer is page-faulted in afresh),
                               or "tuned-thp": tuned plus GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (transparent huge
                               pages, as the v2a launcher asks for v2a4j);
             --torch-omp-wait  OMP_WAIT_POLICY=PASSIVE (what the launcher gives v2a4j) or unset (threads spin);
             --torch-coretype  OPENBLAS_CORETYPE as inherited, or unset.

Usage (repository root; V2A_REFERENCE_SRC = the upstream checkouts, see reference-tests/README.md):
  reference-tests/bench/bench.py --torch2-python VENV/bin/python [--size smoke] [--stages unet-b2,vae]
"""
import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import flops  # noqa: E402

TUNED_MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
# glibc 2.35+: madvise(MADV_HUGEPAGE) on malloc's memory, so that fresh pages fault in 2 MB at a time (the v2a
# launcher sets it for v2a4j)
THP_MALLOC = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}

# Stage -> sizes (full, smoke), precisions, the PyTorch script and its options, the `v2a bench` command and its
# options, and how to read the v2a4j per-run times.
UNET_RUN = r"^\s+batch \d+ run \d+: ([0-9.]+) s"
RUN = r"^\s+run \d+: ([0-9.]+) s"
COG_RUNS = r"\(runs ([0-9/]+)\)"


def _unet(batch):
    return {
        "precisions": ("fp32", "bf16"),
        "full": dict(height=64, width=148, frames=96, tokens=100),
        "smoke": dict(height=8, width=16, frames=8, tokens=10),
        "flop": lambda s: flops.unet_forward(s["height"], s["width"], s["frames"], s["tokens"], batch),
        "describe": lambda s: f"latent 4x{s['height']}x{s['width']}, T={s['frames']}, {s['tokens']} tokens, batch {batch}",
        "py": lambda s: ["bench_unet.py", "--batch", str(batch)] + _opts(s),
        "java": lambda s: ["unet", "--batches", str(batch)] + _opts(s),
        "java_runs": (UNET_RUN, 1.0),
    }


def _opts(s):
    return [x for k, v in s.items() for x in (f"--{k.replace('_', '-')}", str(v))]


def _cog(block, full, smoke, flop, describe):
    key = "tokens" if block == "decoder" else "frames"
    return {
        "precisions": ("fp32", "bf16"),
        "full": {key: full}, "smoke": {key: smoke},
        "flop": lambda s: flop(s[key]), "describe": lambda s: describe(s[key]),
        "py": lambda s: ["bench_cogvlm.py", "--block", block] + _opts(s),
        "java": lambda s: ["cogvlm", "--only", block] + _opts(s),
        "java_runs": (COG_RUNS, 1e-3),
    }


STAGES = {
    "unet-b1": _unet(1),
    "unet-b2": _unet(2),
    "vae": {
        "precisions": ("fp32", "bf16", "fp16"),
        "full": dict(latent_height=64, latent_width=148), "smoke": dict(latent_height=4, latent_width=8),
        "flop": lambda s: flops.vae_decode(s["latent_height"], s["latent_width"]),
        "describe": lambda s: f"latent 4x{s['latent_height']}x{s['latent_width']} -> 3x{8 * s['latent_height']}x{8 * s['latent_width']}",
        "py": lambda s: ["bench_vae.py"] + _opts(s),
        "java": lambda s: ["vae"] + _opts(s),
        "java_runs": (RUN, 1.0),
    },
    "cogvlm-vision": _cog("vision", 8, 1, flops.vision_layer, lambda f: f"1 vision layer, {f} frames x 257 tokens"),
    "cogvlm-vision96": _cog("vision", 96, 2, flops.vision_layer, lambda f: f"1 vision layer, {f} frames x 257 tokens"),
    "cogvlm-adapter": _cog("adapter", 8, 1, flops.adapter, lambda f: f"conv 2x2 + GLU, {f} frames"),
    "cogvlm-decoder": _cog("decoder", 6337, 67, flops.decoder_layer, lambda n: f"1 decoder layer, {n} tokens, causal"),
    "audio": {
        "precisions": ("fp32",),
        "full": dict(frames=1184, iterations=32), "smoke": dict(frames=32, iterations=2),
        "flop": lambda s: flops.audio(s["frames"], s["iterations"]),
        "describe": lambda s: f"inverse mel + {s['iterations']} Griffin-Lim iterations, 512 x {s['frames']}",
        "py": lambda s: ["bench_audio.py"] + _opts(s),
        "java": lambda s: ["audio"] + _opts(s),
        "java_runs": (RUN, 1.0),
    },
}

# The settings of the PyTorch rows and the values each can take.
CHOICES = {"malloc": ("default", "tuned", "tuned-thp"), "omp_wait": ("passive", "default"), "coretype": ("keep", "unset")}

# PyTorch's fastest settings per stage on this project's 2-core Zen 5 VM (AMD EPYC family 26), measured with
# --torch-malloc both at reduced sizes under load 8-27 from other work (reference-tests/README.md, "Benchmarks").
# Tuned malloc cut system time 1.5-7x and user+system CPU seconds by 15-50 % in every stage, on both torches.
# OMP_WAIT_POLICY=PASSIVE (the launcher's setting for v2a4j) everywhere: a spinning OpenMP team lost 8x on MKL's
# least squares under that load. OPENBLAS_CORETYPE: torch 2.x does its GEMMs in its statically linked MKL, so it is
# kept as the machine sets it; Debian's torch 1.13 calls OpenBLAS 0.3.21, which detects this CPU as Cooperlake
# (AVX-512) when the variable is unset and ran the fp32 vision layer in 8.8 s instead of 11.7 s with the machine's
# Haswell (AVX2): torch 1.13 rows run with it unset.
TORCH_BEST = {engine: {stage: {"malloc": "tuned", "omp_wait": "passive",
                               "coretype": "unset" if engine == "torch1" else "keep"} for stage in STAGES}
              for engine in ("torch1", "torch2")}


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    lscpu = sh(["lscpu"])
    field = lambda k: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith(k + ":")), "?")  # noqa: E731,E741
    flags = set(field("Flags").split())
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:")), 0)
    return {"cpu": field("Model name"), "family": field("CPU family"), "model": field("Model"),
            "cpus": os.cpu_count(), "mem_gb": round(mem / 1e6, 1), "kernel": platform.release(),
            "isa": sorted(flags & {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
                                   "avx_vnni", "avx512_vnni"}),
            "hypervisor": "hypervisor" in flags}


def load():
    return [float(x) for x in open("/proc/loadavg").read().split()[:3]]


def meminfo_gb(key):
    for line in open("/proc/meminfo"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def rss_gb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return 0.0


def run_row(cmd, env, log_path, timeout, max_rss_gb):
    """Runs one row to completion (killed past `timeout` s or `max_rss_gb` of RSS, so that a shared machine never
    swaps or meets the OOM killer); returns (rc, rusage, wall, load before, load after)."""
    before = load()
    t0 = time.time()
    with open(log_path, "w") as log:
        p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        rc = None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > t0 + timeout:
                rc = f"killed after {timeout:.0f} s"
            elif rss_gb(p.pid) > max_rss_gb:
                rc = f"killed at {max_rss_gb:.1f} GB RSS"
            if rc:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.2)
    rc = rc or os.waitstatus_to_exitcode(status)
    return rc, ru, time.time() - t0, before, load()


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class Harness:
    def __init__(self, a):
        self.a = a
        self.rows = []
        self.out_dir = a.log_dir or tempfile.mkdtemp(prefix="v2a-bench-")
        os.makedirs(self.out_dir, exist_ok=True)
        self.java_precision = {}
        self.env0 = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "OMP_WAIT_POLICY"}
        self.env0["OMP_NUM_THREADS"] = str(a.threads)
        self.meta = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                     "command": " ".join(shlex.quote(x) for x in sys.argv), "machine": machine(),
                     "threads": a.threads, "size": a.size, "warmup": a.warmup, "repeats": a.repeats,
                     "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "tuned_malloc": TUNED_MALLOC,
                     "overrides": a.set, "logs": self.out_dir}

    # ---------------------------------------------------------------------------------------------- row building
    def java_supports_precision(self, command):
        if command not in self.java_precision:
            out = sh([self.a.v2a, "bench", command, "--help"])
            if "Usage" not in out:
                raise SystemExit(f"{self.a.v2a} bench {command} --help failed (build the project first: mvn -q -DskipTests package)")
            self.java_precision[command] = "--precision" in out
        return self.java_precision[command]

    def rows_for(self, stage, precision):
        st = STAGES[stage]
        size = st[self.a.size]
        common = ["--warmup", str(self.a.warmup), "--repeats", str(self.a.repeats)]
        rows = []
        for engine in self.a.engines:
            if engine == "v2a4j":
                java = st["java"](size)
                row = {"engine": "v2a4j", "settings": "launcher environment"}
                if precision == "fp16":
                    row["skip"] = "v2a4j has no fp16"
                elif self.java_supports_precision(java[0]):
                    java += ["--precision", precision]
                elif precision != "fp32":
                    row["skip"] = f"this build's `v2a bench {java[0]}` has no --precision"
                row["cmd"] = [self.a.v2a, "bench"] + java + common
                row["env"] = dict(self.env0)
                rows.append(row)
                continue
            python = self.a.torch1_python if engine == "torch1" else self.a.torch2_python
            for malloc, wait, coretype in itertools.product(self.variants("malloc", engine, stage),
                                                            self.variants("omp_wait", engine, stage),
                                                            self.variants("coretype", engine, stage)):
                env = dict(self.env0)
                settings = [f"malloc {malloc}"]
                env.pop("GLIBC_TUNABLES", None)
                if malloc in ("tuned", "tuned-thp"):
                    env.update(TUNED_MALLOC)
                if malloc == "tuned-thp":
                    env.update(THP_MALLOC)
                if wait == "passive":
                    env["OMP_WAIT_POLICY"] = "PASSIVE"
                    settings.append("OMP passive")
                else:
                    env.pop("OMP_WAIT_POLICY", None)
                    settings.append("OMP default")
                if coretype == "unset":
                    env.pop("OPENBLAS_CORETYPE", None)
                    settings.append("OPENBLAS_CORETYPE unset")
                py = st["py"](size)
                rows.append({"engine": engine, "settings": ", ".join(settings), "malloc": malloc,
                             "omp_wait": wait, "coretype": coretype, "env": env,
                             "cmd": [python, os.path.join(HERE, py[0])] + py[1:] + common
                             + ["--precision", precision, "--threads", str(self.a.threads)]})
        for r in rows:
            r.update(stage=stage, precision=precision, size=self.a.size, describe=st["describe"](size),
                     flop=st["flop"](size))
        return rows

    def variants(self, kind, engine, stage):
        choice = getattr(self.a, "torch_" + kind)
        if choice == "both":
            return list(CHOICES[kind])
        if choice == "best":
            return [TORCH_BEST[engine][stage][kind]]
        return [choice]

    # ---------------------------------------------------------------------------------------------------- running
    def run(self):
        m = self.meta["machine"]
        print(f"# {m['cpu']} (family {m['family']}, model {m['model']}), {m['cpus']} CPUs, {m['mem_gb']} GB, "
              f"ISA {' '.join(m['isa'])}{', under a hypervisor' if m['hypervisor'] else ''}; threads {self.a.threads}; "
              f"size {self.a.size}, {self.a.warmup} warm-up + {self.a.repeats} timed runs; "
              f"OPENBLAS_CORETYPE={self.meta['OPENBLAS_CORETYPE']}; logs in {self.out_dir}", flush=True)
        plan = [r for stage in self.a.stages for p in STAGES[stage]["precisions"] if p in self.a.precisions
                for r in self.rows_for(stage, p)]
        for i, row in enumerate(plan):
            self.one(i, len(plan), row)
            self.write_json()
        self.report()
        self.write_json()

    def one(self, i, n, row):
        row["label"] = self.label(row)
        if "skip" in row:
            row["status"] = "skipped: " + row.pop("skip")
            print(f"[{i + 1}/{n}] {row['stage']} {row['label']} {row['precision']}: {row['status']}", flush=True)
            self.rows.append(self.public(row))
            return
        log = os.path.join(self.out_dir, f"{i + 1:02d}-{row['stage']}-{row['engine']}-{row['precision']}.log")
        result_json = log[:-4] + ".json"
        cmd = row["cmd"] + (["--result-json", result_json] if row["engine"] != "v2a4j" else [])
        print(f"[{i + 1}/{n}] {row['stage']} {row['label']} {row['precision']} ({row['settings']}): "
              f"{' '.join(shlex.quote(c) for c in cmd)}", flush=True)
        limit = self.a.max_rss_gb or 0.9 * meminfo_gb("MemAvailable")
        rc, ru, wall, before, after = run_row(cmd, row["env"], log, self.a.row_timeout, limit)
        row.update(rc=rc, wall_s=round(wall, 2), load_before=before, load_after=after, log=log,
                   peak_rss_gb=round(ru.ru_maxrss * 1024 / 1e9, 3), user_s=round(ru.ru_utime, 2),
                   sys_s=round(ru.ru_stime, 2), minor_faults=ru.ru_minflt, major_faults=ru.ru_majflt,
                   invol_switches=ru.ru_nivcsw)
        text = open(log, errors="replace").read()
        times = None
        if rc == 0 and row["engine"] == "v2a4j":
            pattern, scale = STAGES[row["stage"]]["java_runs"]
            times = [float(x) * scale for m in re.finditer(pattern, text, re.M) for x in m.group(1).split("/")]
        elif rc == 0 and os.path.exists(result_json):
            rec = json.load(open(result_json))
            times = rec["times_s"]
            row["engine_version"], row["sdpa"] = rec["engine"], rec["sdpa"]
            # the script restarts VmHWM before its timed runs: whole-process peak = max(setup, runs)
            row["peak_rss_runs_gb"] = round(rec["peak_rss_runs_gb"], 3)
            row["peak_rss_gb"] = round(max(row["peak_rss_gb"], rec["peak_rss_setup_gb"]), 3)
        if times:
            row["times_s"] = times
            row["median_s"] = median(times)
            row["min_s"] = min(times)
            row["gflops"] = row["flop"] / row["median_s"] / 1e9
            row["status"] = "ok"
        else:
            last = [l for l in text.strip().splitlines() if l.strip()][-1:] or ["(no output)"]
            row["status"] = (f"failed (rc {rc}): {last[0].strip()[:160]}" if isinstance(rc, int)
                             else f"{rc} (--row-timeout / --max-rss-gb)")
        print(f"    {row['status']}; median {row.get('median_s', float('nan')):.3f} s, "
              f"peak RSS {row['peak_rss_gb']:.2f} GB, user {row['user_s']:.1f} s, sys {row['sys_s']:.1f} s, "
              f"load {before[0]:.2f} -> {after[0]:.2f}", flush=True)
        self.rows.append(self.public(row))

    def label(self, row):
        if row["engine"] == "v2a4j":
            return "v2a4j"
        python = self.a.torch1_python if row["engine"] == "torch1" else self.a.torch2_python
        if not hasattr(self, "_versions"):
            self._versions = {}
        if python not in self._versions:
            self._versions[python] = sh([python, "-c", "import torch; print(torch.__version__)"]).strip() or "?"
        return f"torch {self._versions[python]}"

    @staticmethod
    def public(row):
        r = {k: v for k, v in row.items() if k not in ("env",)}
        r["env_set"] = {k: row["env"][k] for k in sorted(row.get("env", {}))
                        if k.startswith(("MALLOC_", "OMP_", "OPENBLAS_", "MKL_"))}
        return r

    # --------------------------------------------------------------------------------------------------- report
    def report(self):
        for r in self.rows:
            ref = self.v2a4j_row(r["stage"], "bf16" if r["precision"] == "fp16" else r["precision"])
            if ref and "median_s" in r:
                r["ratio_to_v2a4j"] = r["median_s"] / ref["median_s"]
                r["ratio_against"] = f"v2a4j {ref['precision']}"
        hdr = ["stage", "engine", "prec", "settings", "median s", "min s", "GFLOP/s", "ratio", "peak RSS GB (runs)",
               "user s", "sys s", "minflt", "load before>after", "status"]
        lines = []
        for r in self.rows:
            ok = "median_s" in r
            lines.append([r["stage"], r["label"], r["precision"], r["settings"],
                          f"{r['median_s']:.3f}" if ok else "-", f"{r['min_s']:.3f}" if ok else "-",
                          f"{r['gflops']:.1f}" if ok else "-",
                          f"{r['ratio_to_v2a4j']:.2f}" if "ratio_to_v2a4j" in r else "-",
                          (f"{r['peak_rss_gb']:.2f}" + (f" ({r['peak_rss_runs_gb']:.2f})" if "peak_rss_runs_gb" in r
                                                          else "")) if "peak_rss_gb" in r else "-",
                          f"{r['user_s']:.1f}" if "user_s" in r else "-", f"{r['sys_s']:.1f}" if "sys_s" in r else "-",
                          str(r.get("minor_faults", "-")),
                          f"{r['load_before'][0]:.1f}>{r['load_after'][0]:.1f}" if "load_before" in r else "-",
                          r["status"] if r["status"] != "ok" or r["stage"] == "audio" or "sdpa" not in r
                          else f"ok, SDPA {r['sdpa']}"])
        w = [max(len(str(x[i])) for x in [hdr] + lines) for i in range(len(hdr))]
        print()
        m = self.meta["machine"]
        print(f"## {m['cpu']} (family {m['family']}, model {m['model']}), {m['cpus']} CPUs; threads {self.a.threads}; "
              f"size {self.a.size}; {self.a.warmup} warm-up + {self.a.repeats} timed runs per row")
        print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
        print("|" + "|".join("-" * (x + 2) for x in w) + "|")
        for l in lines:  # noqa: E741
            print("| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(l)) + " |")
        print(f"ratio = median / v2a4j's median at the same precision (fp16 rows: against v2a4j bf16). peak RSS: the "
              f"whole process (VmHWM), in brackets the PyTorch scripts' timed runs alone. "
              f"malloc tuned = {' '.join(f'{k}={v}' for k, v in TUNED_MALLOC.items())}; v2a4j rows: the launcher's "
              f"environment. GFLOP counts: reference-tests/bench/flops.py.")
        for stage, (describe, flop) in {r["stage"]: (r["describe"], r["flop"]) for r in self.rows}.items():
            print(f"  {stage}: {describe}, {flop / 1e9:.1f} GFLOP per run")
        self.meta["derived"] = self.derive()
        for line in self.meta["derived"]:
            print(line)

    def v2a4j_row(self, stage, precision):
        return next((r for r in self.rows if r["engine"] == "v2a4j" and r["stage"] == stage
                     and r["precision"] == precision and "median_s" in r), None)

    def best(self, label, stage, precision):
        xs = [r for r in self.rows if r["label"] == label and r["stage"] == stage and r["precision"] == precision
              and "median_s" in r]
        return min(xs, key=lambda r: r["median_s"]) if xs else None

    def derive(self):
        """A 12 s clip from the full-size rows: CogVLM2 video pass (63 vision layers x 96 frames, from the 96-frame
        row or 12x the 8-frame row; adapter 12x the 8-frame row; 31 decoder layers at 6337 tokens) + 51 UNet
        evaluations at batch 2 + one VAE decode (fp16 where the engine has it, as K4) + audio (fp32)."""
        if self.a.size != "full" or self.a.set:
            return ["(a 12 s clip is estimated only at size full without --set)"]
        out = []
        for label in dict.fromkeys(r["label"] for r in self.rows):
            for p in ("fp32", "bf16"):
                v96 = self.best(label, "cogvlm-vision96", p)
                v8 = self.best(label, "cogvlm-vision", p)
                ad = self.best(label, "cogvlm-adapter", p)
                dec = self.best(label, "cogvlm-decoder", p)
                unet = self.best(label, "unet-b2", p)
                vae = (self.best(label, "vae", "fp16") if p == "bf16" else None) or self.best(label, "vae", p)
                audio = self.best(label, "audio", "fp32")
                vision = v96["median_s"] * 63 if v96 else (v8["median_s"] * 12 * 63 if v8 else None)
                parts = [vision, ad and ad["median_s"] * 12, dec and dec["median_s"] * 31,
                         unet and unet["median_s"] * 51, vae and vae["median_s"], audio and audio["median_s"]]
                if all(x is not None for x in parts):
                    cog = sum(parts[:3])
                    out.append(f"12 s clip, {label} {p}: CogVLM2 video pass {cog / 60:.1f} min + UNet 51 x batch 2 "
                               f"{parts[3] / 60:.1f} min + VAE ({vae['precision']}) {parts[4]:.0f} s + audio "
                               f"{parts[5]:.0f} s = {sum(parts) / 60:.1f} min")
        return out or ["(12 s clip estimate needs every stage at size full)"]

    def write_json(self):
        if self.a.json:
            with open(self.a.json, "w") as f:
                json.dump({**self.meta, "rows": self.rows}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stages", default=",".join(STAGES), help="comma list of: " + ", ".join(STAGES))
    ap.add_argument("--engines", default="v2a4j,torch1,torch2", help="comma list of v2a4j, torch1, torch2")
    ap.add_argument("--precisions", default="fp32,bf16",
                    help="comma list of fp32, bf16, fp16 (a stage runs those it has; only the VAE has fp16, which "
                         "PyTorch runs on this CPU at ~0.4 GFLOP/s, hours per full-size decode: opt in)")
    ap.add_argument("--size", default="full", choices=["full", "smoke"],
                    help="full: the real workloads; smoke: tiny inputs (same weights) to check the harness")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per row (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="threads of every engine (default %(default)s)")
    ap.add_argument("--torch-malloc", default="best", choices=["best", "default", "tuned", "tuned-thp", "both"],
                    help="glibc malloc of the PyTorch rows: defaults, tuned, tuned-thp (see above), one row each "
                         "('both'), or the "
                         "measured best per stage (default)")
    ap.add_argument("--torch-omp-wait", default="best", choices=["best", "passive", "default", "both"],
                    help="OMP_WAIT_POLICY of the PyTorch rows: PASSIVE (as the v2a launcher sets for v2a4j), unset "
                         "(OpenMP threads spin), one row each, or the measured best per stage (default)")
    ap.add_argument("--torch-coretype", default="best", choices=["best", "keep", "unset", "both"],
                    help="OPENBLAS_CORETYPE of the PyTorch rows: as inherited, removed, one row each, or the "
                         "measured best per stage (default)")
    ap.add_argument("--set", action="append", default=[], metavar="STAGE.KEY=VALUE",
                    help="override one size of a stage, e.g. --set vae.latent_height=32 (repeatable)")
    ap.add_argument("--torch1-python", default="/usr/bin/python3", help="interpreter with Debian's torch 1.13")
    ap.add_argument("--torch2-python", default=os.environ.get("V2A_TORCH2_PYTHON"),
                    help="interpreter with torch 2.x that sees the upstream dependencies (default $V2A_TORCH2_PYTHON)")
    ap.add_argument("--v2a", default=os.path.join(ROOT, "v2a"), help="the v2a launcher (default: the repository's)")
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--log-dir", help="keep each row's output here (default: a new temporary folder)")
    ap.add_argument("--row-timeout", type=float, default=3600, help="seconds before a row is killed (default %(default)s)")
    ap.add_argument("--max-rss-gb", type=float,
                    help="RSS at which a row is killed (default: 90%% of MemAvailable when the row starts)")
    a = ap.parse_args()
    a.stages = [s for s in a.stages.split(",") if s]
    a.engines = [e for e in a.engines.split(",") if e]
    a.precisions = [p for p in a.precisions.split(",") if p]
    for s in a.stages:
        if s not in STAGES:
            ap.error(f"unknown stage {s!r}; stages: {', '.join(STAGES)}")
    for o in a.set:
        m = re.fullmatch(r"([\w-]+)\.(\w+)=(\d+)", o)
        if not m or m.group(1) not in STAGES or m.group(2) not in STAGES[m.group(1)][a.size]:
            ap.error(f"--set {o}: expected STAGE.KEY=INTEGER, KEY one of the stage's sizes")
        STAGES[m.group(1)][a.size][m.group(2)] = int(m.group(3))
    for e in a.engines:
        if e not in ("v2a4j", "torch1", "torch2"):
            ap.error(f"unknown engine {e!r}")
    for p in a.precisions:
        if p not in ("fp32", "bf16", "fp16"):
            ap.error(f"unknown precision {p!r}")
    if "torch2" in a.engines and not a.torch2_python:
        ap.error("torch2 rows need --torch2-python (or V2A_TORCH2_PYTHON): a python with torch 2.x that imports the "
                 "upstream dependencies, e.g. a venv made with --system-site-packages")
    if any(e.startswith("torch") for e in a.engines) and any(s != "audio" for s in a.stages):
        import common
        common.require_reference_src()
    Harness(a).run()


if __name__ == "__main__":
    main()
