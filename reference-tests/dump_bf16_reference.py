"""Reduced-precision reference of the committed UNet, CogVLM2 and VAE bundles: how far the ORIGINAL code's own bf16
(fp16 for the VAE) output is from its fp32 output on the same case, per recorded tensor.

    $V2A_TORCH2_PYTHON reference-tests/dump_bf16_reference.py            # all bundles below, into reference-tests/bundles
    $V2A_TORCH2_PYTHON reference-tests/dump_bf16_reference.py --out DIR unet-tiny
    $V2A_TORCH2_PYTHON reference-tests/dump_bf16_reference.py --compare DIR   # DIR's sidecars against the committed ones

For each bundle the model is rebuilt from the bundle's config.json + weights.safetensors (strict load), as
check_bundles.py / check_cogvlm_e2e.py do, and the upstream call of the dump script is run on the bundle's io inputs
twice with the dump script's own recording, once per kernel set (KERNELS: the default kernels of this CPU, and AVX2
ones as an AVX2-only CPU runs them), each in its own process:

  * fp32: must reproduce the committed activations and io outputs within the fp32 tolerance, 1e-5 of max |ref| per
    tensor (the committed bundles were made with torch 1.13 on a Zen 4: bit identity is not expected elsewhere;
    torch 1.13 itself on a Zen 5 differs from them by up to 1.9e-6); the worst is recorded;
  * bf16 (vae-tiny: fp16), the way Kandinsky-4 runs it: K4 loads CogVLM2 and the UNet with
    from_pretrained(torch_dtype=torch.bfloat16) and the VAE with torch_dtype=torch.float16, which leaves every
    parameter and floating buffer in that dtype (diffusers ends with model.to(torch_dtype); transformers builds the
    model under that default dtype, and neither class keeps a module in fp32). Here: module.to(dtype) after the
    strict fp32 load. Inputs as K4 casts them: UNet sample / text / video embeddings to unet.dtype; CogVLM2 frames
    cast by K4's own __prepare_inputs__ (.to(multimodal.dtype)); VAE latents.to(vae.dtype) / scaling_factor in fp16.
    What the upstream code keeps in fp32 inside a bf16 model (diffusers' time_proj, RMSNorm statistics, K4's fp32
    zero padding of the text embedding, ...) it keeps here too: the code is not touched.

Written per bundle: <out>/<name>/bf16_reference.json (vae-tiny: fp16_reference.json), a small JSON file (format:
reference-tests/README.md, "Reduced-precision sidecars"): for every name of the bundle's manifest `order` (aliases
included) and every io output (`io:<name>`), [max |low - fp32|, that / max |fp32|, cosine] in float64, with the
runtime, the CPU, the command and the deviations from the real pipeline. The bundle's own files are not touched.

Runs under torch >= 2 (--torch1 only for a comparison into another --out): Kandinsky-4's attention processors wrap
diffusers' AttnProcessor2_0, which requires torch 2's scaled_dot_product_attention, and the CogVLM2 remote code takes
its torch >= 2 branches there; under torch 1.13 the fp32 goldens use v2aref.env's SDPA shim and the remote code's
torch < 2 branches, which are number-neutral in fp32 but not in bf16 (the shim rounds the attention scores and the
softmax to bf16; torch 2's SDPA keeps them in fp32).
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from v2aref import env  # noqa: E402

env.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import dump_cogvlm  # noqa: E402
import dump_unet  # noqa: E402
import dump_vae  # noqa: E402
from check_bundles import build_k4_unet, build_vae  # noqa: E402
from v2aref import cogvlm  # noqa: E402
from v2aref.bundle import load_bundle  # noqa: E402
from v2aref.record import TensorStore  # noqa: E402

DEFAULT_BUNDLES = "reference-tests/bundles"
NAMES = ["unet-tiny", "unet-tiny-oddwidth", "cogvlm-tiny", "cogvlm-tiny-text", "vae-tiny"]
FP32_BOUND = 1e-5  # fp32 re-run vs committed fp32 tensors, max |err| / max |ref| (the fp32 tolerance of the Java side)
DIGITS = 6  # significant digits kept in the sidecar (cosines: COS_DIGITS, they sit close to 1)
COS_DIGITS = 10
FORMAT = 1
# --compare across CPU kinds / kernels: the same torch 2.13 on the same Zen 5 with its AVX2 kernels
# (ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2) moved single numbers by up to 0.46 relative (1 - cosine: 0.56)
COMPARE_REL_TOL = 0.75

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

# The reference's own low-precision arithmetic depends on which kernels run: the same torch picks AVX512-BF16 (or AMX)
# kernels where the CPU has them and AVX2 ones elsewhere, and single rows move by up to ~2x between them. A sidecar
# row is the envelope over these kernel sets, each run in its own process (ATen reads its capability at start):
# the farthest the original code's low-precision run lands from its fp32 run on this case.
KERNELS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}

UNET_DEVIATIONS = [
    "Device: CPU (1 thread) instead of CUDA: convolutions through oneDNN (avx512_core_bf16 on the recorded CPU), "
    "GEMMs through oneDNN's bf16 matmul or, for the smallest, ATen's own kernel, all with bf16 operands, fp32 "
    "accumulation and one rounding of the result (cuBLAS/cuDNN do the same in another summation order); GroupNorm "
    "with fp32 statistics; torch's CPU scaled_dot_product_attention kernel (fp32 scores and softmax, bf16 output) "
    "instead of the CUDA flash / memory-efficient kernels.",
    "Weights: the bundle's fp32 values rounded to bf16 by module.to(torch.bfloat16) (round to nearest even), which "
    "is what from_pretrained(torch_dtype=torch.bfloat16) does to a checkpoint's values. unet.py builds the K4 "
    "processors with .half(); from_pretrained then loads the checkpoint and casts the whole model to bf16, so the "
    "half cast leaves no trace; the bundle's processor weights are fp16-representable (the fp32 dump rounded them "
    "through .half()), so loading them into fp16 parameters first would give the same bf16 values.",
    "Inputs: the bundle's fp32 sample, text and video embeddings rounded to bf16 once. In the pipeline the "
    "embeddings come out of the bf16 CogVLM2 (cast to unet.dtype by K4) and the latents are drawn in bf16; the "
    "timestep is the same int64.",
    "Tiny widths: the K4 processors' 4096-wide video_k / video_v / text_projection replaced by tiny-width Linear "
    "layers and video_out non-zero, exactly as in the fp32 bundle.",
]
COGVLM_DEVIATIONS = [
    "Device: CPU (1 thread) instead of CUDA: bf16 GEMMs through oneDNN's matmul or, for the smallest, ATen's own "
    "kernel, with fp32 accumulation and one rounding of the result; the remote code's "
    "torch >= 2 branches call torch's CPU scaled_dot_product_attention (LLM: is_causal=True; vision: no mask), "
    "fp32 scores and softmax, bf16 output, instead of the CUDA kernels.",
    "Weights and the rotary inv_freq buffers: the bundle's fp32 values rounded to bf16 by module.to(torch.bfloat16). "
    "The real model is built under default dtype bf16 and loads the bf16 checkpoint (which holds inv_freq too): "
    "the same kind of values. With pos_idx_in_fp32=False the remote code then builds positions and cos/sin tables "
    "in bf16 itself.",
    "Rotary: util.apply_rotary (a Triton kernel) replaced by its arithmetic in torch (v2aref/cogvlm.py), in the "
    "input dtype, one rounding per operation as the kernel's non-interleaved path computes in the input dtype; "
    "whether the GPU compiler contracts x0*cos - x1*sin into an FMA is not reproduced.",
    "Tokenizer and tiny vocabulary as in the fp32 bundle (fixed ids; 264-row tables).",
]
VAE_DEVIATIONS = [
    "Device: CPU (1 thread) instead of CUDA: fp16 convolutions and GEMMs of torch's own CPU kernels (not oneDNN "
    "on the recorded CPU), torch's CPU "
    "scaled_dot_product_attention for the mid-block attention, GroupNorm with fp32 statistics.",
    "Weights: the bundle's fp32 values rounded to fp16 by module.to(torch.float16), as "
    "from_pretrained(torch_dtype=torch.float16) does to a checkpoint's values (the tiny decoder's conv_out scale "
    "is already in the fp32 weights).",
    "Input: K4's own expression latents.to(vae.dtype) / vae.config.scaling_factor, in fp16; io 'z' of the bundle "
    "is the fp32 quotient. Postprocess (K4's VaeImageProcessor call) as in the bundle; it converts to fp32 "
    "before numpy.",
]


# ------------------------------------------------------------------------------------------------------ runs

def _cast(t, dtype):
    return t.to(dtype) if t.is_floating_point() else t


def run_unet(cfg, w, io, dtype):
    unet = build_k4_unet(cfg)
    unet.load_state_dict(w, strict=True)
    unet = unet.to(dtype)
    noise, store = dump_unet.record_forward(unet, _cast(io["sample"], dtype), io["timestep"],
                                            _cast(io["encoder_hidden_states"], dtype),
                                            _cast(io["image_embeds"], dtype))
    return store, {"out": noise}


def _cogvlm(cfg, w, dtype):
    model = cogvlm.build_from_config(cfg)
    model.load_state_dict(w, strict=True)
    return model.to(dtype)


def run_cogvlm_video(cfg, w, io, dtype):
    model = _cogvlm(cfg, w, dtype)
    tok = cogvlm.FakeTokenizer({"": []}, bos=cfg["bos_token_id"], eos=cfg["eos_token_id"], pad=cfg["pad_token_id"])
    store = TensorStore()
    emb = dump_cogvlm._run_and_record(model, dump_cogvlm._pipeline(model, tok),
                                      lambda p: p.extract_video_embedding(io["video"]), store, cogvlm.install())
    return store, {"video_embedding": emb}


def run_cogvlm_text(cfg, w, io, dtype):
    model = _cogvlm(cfg, w, dtype)
    tok = cogvlm.FakeTokenizer({"text": io["text_ids"].tolist()}, bos=cfg["bos_token_id"], eos=cfg["eos_token_id"],
                               pad=cfg["pad_token_id"])
    store = TensorStore()
    emb = dump_cogvlm._run_and_record(model, dump_cogvlm._pipeline(model, tok),
                                      lambda p: p.extract_text_embedding("text"), store, cogvlm.install())
    return store, {"text_embedding": emb}


def run_vae(cfg, w, io, dtype):
    from diffusers.image_processor import VaeImageProcessor
    vae = build_vae(cfg)
    vae.load_state_dict(w, strict=True)
    vae = vae.to(dtype)
    # K4: vae.decode(latents.to(self.vae.dtype) / self.vae.config.scaling_factor)
    z = io["latents"].to(vae.dtype) / vae.config.scaling_factor
    sample, store = dump_vae.record_decode(vae, z)
    img_np, img_u8 = dump_vae.postprocess(VaeImageProcessor(vae_scale_factor=8), sample)
    return store, {"z": z, "sample": sample, "image_np": torch.from_numpy(img_np), "image": torch.from_numpy(img_u8)}


# bundle -> (run, low-precision dtype name, deviations)
CASES = {
    "unet-tiny": (run_unet, "bf16", UNET_DEVIATIONS),
    "unet-tiny-oddwidth": (run_unet, "bf16", UNET_DEVIATIONS),
    "cogvlm-tiny": (run_cogvlm_video, "bf16", COGVLM_DEVIATIONS),
    "cogvlm-tiny-text": (run_cogvlm_text, "bf16", COGVLM_DEVIATIONS),
    "vae-tiny": (run_vae, "fp16", VAE_DEVIATIONS),
}


VAE_BF16_DEVIATIONS = [
    "Dtype: bf16, not the fp16 K4 loads the VAE in: this sidecar is the reference's own bf16 error, the yardstick "
    "of a bf16 VAE; fp16_reference.json holds K4's arithmetic.",
    "Device: CPU (1 thread) instead of CUDA: bf16 convolutions and GEMMs of torch's CPU kernels, torch's CPU "
    "scaled_dot_product_attention for the mid-block attention, GroupNorm with fp32 statistics.",
    "Weights: the bundle's fp32 values rounded to bf16 by module.to(torch.bfloat16).",
    "Input: latents.to(vae.dtype) / vae.config.scaling_factor, in bf16; io 'z' of the bundle is the fp32 quotient. "
    "Postprocess as in the bundle; it converts to fp32 before numpy.",
]


def use_vae_dtype(low_name):
    """--vae-dtype bf16: the VAE run in bf16 instead of K4's fp16, the yardstick of a bf16 VAE (not K4's arithmetic)."""
    if low_name == "bf16":
        CASES["vae-tiny"] = (run_vae, "bf16", VAE_BF16_DEVIATIONS)


def sidecar_file(name):
    return f"{CASES[name][1]}_reference.json"


# ------------------------------------------------------------------------------------------------- distances

def _round(x, digits=DIGITS):
    return float(f"{x:.{digits}g}")


def distance(low, ref):
    """[max |low - ref|, max |low - ref| / max |ref|, cosine] in float64 (0 / 0 counts as 0; both zero: cosine 1)."""
    if low.shape != ref.shape:
        raise AssertionError(f"shape {tuple(low.shape)} vs {tuple(ref.shape)}")
    a = low.detach().to(torch.float64).reshape(-1)
    r = ref.detach().to(torch.float64).reshape(-1)
    if not (torch.isfinite(a).all() and torch.isfinite(r).all()):
        raise AssertionError("non-finite values")
    if a.numel() == 0:
        return [0.0, 0.0, 1.0]
    err = (a - r).abs().max().item()
    top = r.abs().max().item()
    if err == 0:
        rel = 0.0
    elif top == 0:
        raise AssertionError("reference is all zeros but the low-precision run is not")
    else:
        rel = err / top
    na, nr = a.norm().item(), r.norm().item()
    cos = 1.0 if na == 0 and nr == 0 else (0.0 if na == 0 or nr == 0 else (a @ r).item() / (na * nr))
    return [_round(err), _round(rel), _round(cos, COS_DIGITS)]


def _stores_rows(store_low, store_ref, io_low, io_ref):
    if store_low.order != store_ref.order:
        raise AssertionError("the low-precision run recorded other names than the fp32 run")
    rows = {}
    for n in store_ref.order:
        try:
            rows[n] = distance(store_low.get(n), store_ref.get(n))
        except AssertionError as e:
            raise AssertionError(f"{n}: {e}") from None
    for k in io_ref:
        rows["io:" + k] = distance(io_low[k], io_ref[k])
    return rows


def fp32_against_committed(store, outs, manifest, acts, io):
    """The fp32 re-run against the committed tensors; raises when a tensor is further than FP32_BOUND."""
    if store.order != manifest["order"]:
        raise AssertionError("the fp32 re-run recorded other names than the committed manifest 'order'")
    worst, worst_name, worst_abs, identical, bad, outputs = 0.0, None, 0.0, 0, [], {}
    pairs = [(n, store.get(n), acts[n]) for n in store.order] + [("io:" + k, v, io[k]) for k, v in outs.items()]
    for n, got, ref in pairs:
        if got.dtype != ref.dtype or got.shape != ref.shape:
            raise AssertionError(f"{n}: fp32 re-run gives {got.dtype} {tuple(got.shape)}, committed "
                                 f"{ref.dtype} {tuple(ref.shape)}")
        d = distance(got, ref)
        if n.startswith("io:"):
            outputs[n] = d
        if torch.equal(got, ref):
            identical += 1
            continue
        if d[1] > worst:
            worst, worst_name, worst_abs = d[1], n, d[0]
        if d[1] > FP32_BOUND:
            bad.append(f"{n}: {d[1]:.3g}")
    if bad:
        raise AssertionError(f"fp32 re-run differs from the committed tensors by more than {FP32_BOUND:g} of max|ref|: "
                             + ", ".join(bad[:10]))
    return {"bound_max_rel_to_max": FP32_BOUND, "tensors": len(pairs), "bit_identical": identical,
            "max_rel_to_max": _round(worst), "max_abs_of_that_tensor": _round(worst_abs), "worst": worst_name,
            "outputs": outputs}


# --------------------------------------------------------------------------------------------------- runtime

def cpu_description():
    """lscpu's model name, family/model and the ISA flags that select bf16/fp16 kernels (oneDNN, ATen)."""
    out = {}
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True,
                              env=dict(os.environ, LC_ALL="C")).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"dump_bf16_reference: lscpu failed ({e}); the sidecar must name the CPU")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    out["model_name"] = fields.get("Model name")
    out["vendor"] = fields.get("Vendor ID")
    out["family"] = fields.get("CPU family")
    out["model"] = fields.get("Model")
    flags = set(fields.get("Flags", "").split())
    out["isa_flags"] = sorted(f for f in flags if f.startswith(("avx512", "amx")) or f in ("avx2", "fma", "f16c"))
    out["aten_cpu_capability"] = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None
    return out


def runtime():
    r = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
         "torch_num_threads": torch.get_num_threads(),
         "sdpa": "v2aref.env._sdpa shim" if torch.nn.functional.scaled_dot_product_attention is env._sdpa
         else "torch native"}
    if env.TORCHVISION_NOTE:
        r["torchvision"] = env.TORCHVISION_NOTE
    return r


def command(name):
    vae = ["--vae-dtype", "bf16"] if name == "vae-tiny" and CASES[name][1] == "bf16" else []
    return " ".join(["$V2A_TORCH2_PYTHON", "reference-tests/dump_bf16_reference.py", "--bundles", DEFAULT_BUNDLES,
                     "--out", DEFAULT_BUNDLES] + vae + [shlex.quote(name)])


# ------------------------------------------------------------------------------------------------------ main

def measure(name, bundles):
    """This process's fp32 and low-precision runs of one bundle: (rows, final outputs, fp32 check)."""
    run, low_name, _ = CASES[name]
    path = os.path.join(bundles, name)
    cfg, manifest, w, io, acts = load_bundle(path)
    store32, outs32 = run(cfg, w, io, torch.float32)
    fp32_check = fp32_against_committed(store32, outs32, manifest, acts, io)
    store_lo, outs_lo = run(cfg, w, io, DTYPES[low_name])
    rows = _stores_rows(store_lo, store32, outs_lo, outs32)
    finals = {k: dict(zip(("max_abs", "max_rel_to_max", "cosine"), rows["io:" + k])) for k in outs32}
    return rows, finals, fp32_check


def measure_with(kernel, name, bundles):
    """measure() in a child process whose environment selects the kernel set (the default one: in this process)."""
    if not KERNELS[kernel]:
        return measure(name, bundles)
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure-only", "--bundles", bundles,
                            "--vae-dtype", CASES["vae-tiny"][1], name],
                           env=dict(os.environ, **KERNELS[kernel]), capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(f"dump_bf16_reference: {name} with the {kernel} kernels failed:\n{child.stderr}")
    got = json.loads(child.stdout)
    return got["rows"], got["finals"], got["fp32_check"]


def envelope(per_kernel):
    """Per row, over kernel sets: the largest max |err| and max |err| / max |ref|, the smallest cosine."""
    first = next(iter(per_kernel.values()))
    out = {}
    for n in first:
        vals = [rows[n] for rows in per_kernel.values()]
        out[n] = [max(v[0] for v in vals), max(v[1] for v in vals), min(v[2] for v in vals)]
    return out


def make(name, bundles, out):
    _, low_name, deviations = CASES[name]
    low = DTYPES[low_name]
    _, manifest, _, _, _ = load_bundle(os.path.join(bundles, name))
    per_kernel, finals_by_kernel, fp32_checks = {}, {}, {}
    for kernel in KERNELS:
        rows_k, finals_k, check_k = measure_with(kernel, name, bundles)
        if per_kernel and list(rows_k) != list(next(iter(per_kernel.values()))):
            raise AssertionError(f"{name}: the {kernel} kernels recorded other names")
        per_kernel[kernel], finals_by_kernel[kernel], fp32_checks[kernel] = rows_k, finals_k, check_k
    rows = envelope(per_kernel)
    finals = {k: dict(zip(("max_abs", "max_rel_to_max", "cosine"), rows["io:" + k]))
              for k in finals_by_kernel["default"]}
    sidecar = {
        "format": FORMAT,
        "bundle": name,
        "component": manifest["component"],
        "dtype": {"bf16": "bfloat16", "fp16": "float16"}[low_name],
        "what": f"distance of the ORIGINAL code's {low_name} run from its fp32 run on this bundle's io inputs "
                "(same machine, same torch), per recorded tensor: rows[name] = [max |low - fp32|, "
                "max |low - fp32| / max |fp32|, cosine], float64 over all elements, enveloped over the kernel sets "
                "of 'kernels' (largest distances, smallest cosine); names = manifest 'order' (aliases included) "
                "and 'io:<output>'",
        "use": f"v2a4j's {low_name} run passes when it is at least as close to this bundle's fp32 tensors as this "
               "run is (golden.Bf16Reference): per row max |err| / max |ref| <= rows[name][1] + 2^-9 (the half-ulp "
               "output rounding of the reference) and 1 - cosine <= 2 (1 - rows[name][2]) (one row's scatter); over "
               "the bundle the geometric mean of the 1 - cosine ratios <= 1, and at every io output the ratio <= 1. "
               "Rows holding 0 (computed in fp32 or exactly here) keep the fp32 tolerance.",
        "command": command(name),
        "runtime": runtime(),
        "cpu": cpu_description(),
        "kernels": {k: {"environment": v, "final_outputs": finals_by_kernel[k]} for k, v in KERNELS.items()},
        "fp32_rerun_vs_committed": fp32_checks["default"],
        "final_outputs": finals,
        "deviations_from_the_real_pipeline": deviations,
        "notes": [
            f"The model is rebuilt from config.json + weights.safetensors (strict load) and run twice on io inputs: "
            f"fp32, then module.to({low}) with inputs cast as K4 does (dump_bf16_reference.py docstring); once per "
            "kernel set, each in its own process.",
            "Distances depend on the CPU kind and torch build (which bf16/fp16 kernels run): regenerate.sh --check "
            "compares each number within a relative tolerance (reference-tests/README.md).",
        ],
        "rows": rows,
    }
    dest = os.path.join(out, name)
    os.makedirs(dest, exist_ok=True)
    final = os.path.join(dest, sidecar_file(name))
    tmp = final + ".tmp"
    with open(tmp, "w") as f:
        f.write(_dumps(sidecar))
    os.replace(tmp, final)
    print(f"wrote {final}: {len(rows)} rows; final outputs " + ", ".join(
        f"{k} {v['max_rel_to_max']:.3g}" for k, v in finals.items())
        + f"; fp32 re-run vs committed {fp32_checks['default']['max_rel_to_max']:.3g}", file=sys.stderr)


def _dumps(sidecar):
    """Indented JSON with one line per row (small diffs, readable)."""
    head = {k: v for k, v in sidecar.items() if k != "rows"}
    text = json.dumps(head, indent=1, ensure_ascii=True)
    rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sidecar["rows"].items())
    return text[:-2] + ',\n "rows": {\n' + rows + "\n }\n}\n"


# ---------------------------------------------------------------------------------------------------- compare

def compare(new_root, committed_root, names, rel_tol):
    """new_root's sidecars against the committed ones. Made on the same CPU kind with the same runtime: the files must
    be bit-identical. Otherwise every number must be within rel_tol: |x - y| / max(|x|, |y|) (cosines: of 1 - cosine).
    Returns the number of sidecars that fail."""
    bad = 0
    for name in names:
        a_path = os.path.join(committed_root, name, sidecar_file(name))
        b_path = os.path.join(new_root, name, sidecar_file(name))
        missing = [p for p in (a_path, b_path) if not os.path.exists(p)]
        if missing:
            print(f"MISSING  {name}: {missing[0]}")
            bad += 1
            continue
        with open(a_path, "rb") as fa, open(b_path, "rb") as fb:
            if fa.read() == fb.read():
                print(f"OK       {name}: {sidecar_file(name)} bit-identical")
                continue
        with open(a_path) as f:
            a = json.load(f)
        with open(b_path) as f:
            b = json.load(f)
        if a["cpu"] == b["cpu"] and a["runtime"] == b["runtime"]:
            print(f"DIFFERS  {name}: {sidecar_file(name)} not bit-identical on the CPU kind and runtime that made it")
            bad += 1
            continue
        errs = []
        if list(a["rows"]) != list(b["rows"]):
            errs.append("row names differ")
        worst = 0.0
        for n in a["rows"]:
            if n not in b["rows"]:
                continue
            for i, (x, y) in enumerate(zip(a["rows"][n], b["rows"][n])):
                if i == 2:
                    x, y = 1.0 - x, 1.0 - y
                d = abs(x - y) / max(abs(x), abs(y)) if x != y else 0.0
                worst = max(worst, d)
                if d > rel_tol:
                    errs.append(f"{n}[{i}]: {a['rows'][n][i]} vs {b['rows'][n][i]}")
        where = (f" (committed: {a['cpu']['model_name']} family {a['cpu']['family']} {a['cpu']['aten_cpu_capability']}"
                 f", torch {a['runtime']['torch']}; now: {b['cpu']['model_name']} family {b['cpu']['family']} "
                 f"{b['cpu']['aten_cpu_capability']}, torch {b['runtime']['torch']})")
        if errs:
            print(f"DIFFERS  {name}: {len(errs)} numbers beyond {rel_tol:g} relative{where}")
            for e in errs[:10]:
                print("         " + e)
            bad += 1
        else:
            print(f"OK       {name}: every number within {rel_tol:g} relative (worst {worst:.3g}){where}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", default=NAMES, help=f"bundles (default: {' '.join(NAMES)})")
    ap.add_argument("--bundles", default=DEFAULT_BUNDLES, help="where the committed bundles are read")
    ap.add_argument("--out", default=DEFAULT_BUNDLES, help="where <name>/<dtype>_reference.json is written")
    ap.add_argument("--compare", metavar="DIR", help="compare DIR/<name>/*_reference.json with the ones in --bundles "
                                                     "instead of running anything")
    ap.add_argument("--rel-tol", type=float, default=COMPARE_REL_TOL,
                    help="--compare on another CPU kind or runtime: relative tolerance per number (default "
                         f"{COMPARE_REL_TOL}: reference-tests/README.md)")
    ap.add_argument("--measure-only", action="store_true",
                    help="print this process's rows of ONE bundle as JSON on stdout (used for the kernel sets)")
    ap.add_argument("--vae-dtype", choices=("fp16", "bf16"), default="fp16",
                    help="vae-tiny's low precision: fp16 (K4's, default) or bf16 (writes bf16_reference.json)")
    ap.add_argument("--torch1", action="store_true",
                    help="allow torch < 2 (comparison only; see the docstring)")
    a = ap.parse_args()
    use_vae_dtype(a.vae_dtype)
    for n in a.names:
        if n not in CASES:
            ap.error(f"unknown bundle '{n}' (known: {', '.join(CASES)})")
    if a.compare:
        sys.exit(1 if compare(a.compare, a.bundles, a.names, a.rel_tol) else 0)
    if int(torch.__version__.split(".")[0]) < 2 and not a.torch1:
        raise SystemExit(f"dump_bf16_reference: torch {torch.__version__}: the reference's bf16 arithmetic needs "
                         "torch >= 2 (see --help); run it with $V2A_TORCH2_PYTHON")
    for n in a.names:
        if not os.path.isdir(os.path.join(a.bundles, n)):
            raise SystemExit(f"dump_bf16_reference: {os.path.join(a.bundles, n)}: no such bundle")
    if a.measure_only:
        if len(a.names) != 1:
            ap.error("--measure-only takes one bundle")
        rows, finals, check = measure(a.names[0], a.bundles)
        json.dump({"rows": rows, "finals": finals, "fp32_check": check}, sys.stdout)
        return
    for n in a.names:
        make(n, a.bundles, a.out)


if __name__ == "__main__":
    main()
