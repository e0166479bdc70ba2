#!/usr/bin/python3
"""Golden bundle for diffusers' DDIMScheduler (v0.31.0) as `v2a generate --scheduler DDIMScheduler` builds it:
`DDIMScheduler.from_config(<the model's scheduler_config>)` with the SD-1.x config K4 ships for PNDM
(dump_pndm.SD1_CONFIG): beta scaled_linear 0.00085..0.012, set_alpha_to_one False, steps_offset 1, timestep_spacing
"leading"; keys the PNDM config does not have take DDIMScheduler's defaults (clip_sample True, clip_sample_range 1).
`step(model_output, t, sample)` with eta 0 (the default, what a pipeline that passes no eta runs).

  ddim   set_timesteps(50) -> 50 steps

For every step i: model_output is random (seeded, recorded) and the latents chain: sample[i+1] = prev_sample[i].

io.safetensors:  timesteps [N] i64, betas [1000], alphas_cumprod [1000], final_alpha_cumprod [],
                 init_sample [shape], model_output [N, *shape]
activations:     `scheduler.step[@k].out.0` (prev_sample, the next step's sample) and `.out.1` (pred_original_sample,
                 after clipping) of every step.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import torch  # noqa: E402
from diffusers import DDIMScheduler, PNDMScheduler  # noqa: E402

from dump_pndm import SD1_CONFIG  # noqa: E402
from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import TensorStore, patch_function  # noqa: E402


def dump(case, seed, steps, shape, out):
    model_config = PNDMScheduler(**SD1_CONFIG).config
    sched = DDIMScheduler.from_config(model_config)
    sched.set_timesteps(steps, device="cpu")
    timesteps = sched.timesteps.clone()
    n = len(timesteps)

    g = torch.Generator().manual_seed(seed)
    sample = torch.randn(shape, generator=g, dtype=torch.float32) * sched.init_noise_sigma
    init_sample = sample.clone()
    store = TensorStore()
    mos, x0s = [], []
    with patch_function(sched, "step", store, "scheduler.step"):
        for t in timesteps:
            model_output = torch.randn(shape, generator=g, dtype=torch.float32)
            mos.append(model_output.clone())
            sample, x0 = sched.step(model_output, t, sample, return_dict=False)
            x0s.append(x0.clone())

    io = {
        "timesteps": timesteps.to(torch.int64),
        "betas": sched.betas.clone(),
        "alphas_cumprod": sched.alphas_cumprod.clone(),
        "final_alpha_cumprod": torch.as_tensor(sched.final_alpha_cumprod).clone(),
        "init_sample": init_sample,
        "model_output": torch.stack(mos),
    }
    config = json.loads(sched.to_json_string())
    cmd = canonical_command(__file__, [("--case", case), ("--seed", seed), ("--steps", steps),
                                       ("--shape", ",".join(map(str, shape)))])
    clipped = int(sum((x.abs() >= sched.config.clip_sample_range).sum().item() for x in x0s))
    notes = [
        f"DDIMScheduler.from_config(PNDMScheduler(**SD1_CONFIG).config); set_timesteps({steps}) gives {n} "
        f"timesteps: {timesteps.tolist()}",
        f"clip_sample {sched.config.clip_sample} (DDIM's default: the PNDM config has no such key), range "
        f"{sched.config.clip_sample_range}: {clipped} of {n * init_sample.numel()} predicted original samples sit "
        "at the bound.",
        "step(model_output, t, sample) with eta 0: prev_sample = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps, "
        "x0 = (sample - sqrt(1 - a_t) * eps) / sqrt(a_t), clipped; a_prev = alphas_cumprod[t - 1000 // steps] or "
        "final_alpha_cumprod (set_alpha_to_one False -> alphas_cumprod[0]) for the last step.",
        "model_output is random N(0,1) (seeded torch.Generator, drawn in step order after init_sample); the sample "
        "chains: the sample of step i+1 is scheduler.step@i.out.0.",
    ]
    write_bundle(
        out, case, component="scheduler/DDIMScheduler", case=case, config=config, weights={}, io=io,
        store=store, seed=seed,
        sizes={"num_inference_steps": steps, "num_steps": n, "sample_shape": list(shape)},
        command=cmd,
        tolerance_hints={
            "prev_sample": "exact: fp32 elementwise arithmetic in the Python expression's order, coefficients "
                           "sqrt of fp32 alphas_cumprod values",
            "alphas_cumprod": "exact (fp32 cumprod of fp32 betas; beta = linspace(sqrt(b0), sqrt(b1), 1000, "
                              "fp32)**2)",
            "timesteps": "exact",
        },
        notes=notes,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=["ddim", "all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--shape", default="1,4,8,12", help="sample shape, comma-separated")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    shape = tuple(int(s) for s in a.shape.split(","))
    os.makedirs(a.out, exist_ok=True)
    for case in (["ddim"] if a.case == "all" else [a.case]):
        dump(case, a.seed, a.steps, shape, a.out)


if __name__ == "__main__":
    main()
