#!/usr/bin/python3
"""Golden bundles for diffusers' PNDMScheduler (v0.31.0) with the SD-1.x configuration used by K4.

  pndm      skip_prk_steps=True (what K4 runs): set_timesteps(50) -> 51 steps
  pndm-prk  skip_prk_steps=False: Runge-Kutta warm-up steps then PLMS (its own step count)

For every step i the K4 pipeline calls `scheduler.step(noise_pred, t_i, latents)`; here noise_pred is random
(seeded, recorded) and latents chain through the steps: sample[i+1] = prev_sample[i].

io.safetensors:  timesteps [N] i64, betas [1000], alphas_cumprod [1000], final_alpha_cumprod [],
                 init_sample [shape], model_output [N, *shape], sample [N, *shape], prev_sample [N, *shape]
activations:     per call of the internal `_get_prev_sample(sample, timestep, prev_timestep, model_output)`:
                 `_get_prev_sample[@k].in.{sample,timestep,prev_timestep,model_output}` (model_output = the
                 multistep-combined epsilon actually used) and `_get_prev_sample[@k].out`.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import torch  # noqa: E402
from diffusers import PNDMScheduler  # noqa: E402

from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import TensorStore, patch_function  # noqa: E402

SD1_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    skip_prk_steps=True,
    set_alpha_to_one=False,
    steps_offset=1,
    prediction_type="epsilon",
    timestep_spacing="leading",
)


def dump(case, seed, steps, shape, out):
    cfg = dict(SD1_CONFIG)
    cfg["skip_prk_steps"] = case == "pndm"
    sched = PNDMScheduler(**cfg)
    sched.set_timesteps(steps, device="cpu")
    timesteps = sched.timesteps.clone()
    n = len(timesteps)

    g = torch.Generator().manual_seed(seed)
    sample = torch.randn(shape, generator=g, dtype=torch.float32) * sched.init_noise_sigma
    init_sample = sample.clone()
    store = TensorStore()

    def prev_args(args, kwargs):
        names = ["sample", "timestep", "prev_timestep", "model_output"]
        out = []
        for nm, a in zip(names, args):
            out.append((nm, torch.as_tensor(a)))
        for nm, a in kwargs.items():
            out.append((nm, torch.as_tensor(a)))
        return out

    mos, ins, outs = [], [], []
    with patch_function(sched, "_get_prev_sample", store, "_get_prev_sample", record_args=prev_args):
        for i, t in enumerate(timesteps):
            model_output = torch.randn(shape, generator=g, dtype=torch.float32)
            mos.append(model_output.clone())
            ins.append(sample.clone())
            sample = sched.step(model_output, t, sample, return_dict=False)[0]
            outs.append(sample.clone())

    io = {
        "timesteps": timesteps.to(torch.int64),
        "betas": sched.betas.clone(),
        "alphas_cumprod": sched.alphas_cumprod.clone(),
        "final_alpha_cumprod": torch.as_tensor(sched.final_alpha_cumprod).clone(),
        "init_sample": init_sample,
        "model_output": torch.stack(mos),
        "sample": torch.stack(ins),
        "prev_sample": torch.stack(outs),
    }
    config = __import__("json").loads(sched.to_json_string())
    cmd = canonical_command(__file__, [("--case", case), ("--seed", seed), ("--steps", steps),
                                       ("--shape", ",".join(map(str, shape)))])
    notes = [
        f"set_timesteps({steps}) gives {n} timesteps: {timesteps.tolist()}",
        "model_output is random N(0,1) (seeded torch.Generator, drawn in step order after init_sample); the sample "
        "chains: sample[i+1] == prev_sample[i].",
        "prk_timesteps: " + str(sched.prk_timesteps.tolist() if getattr(sched, "prk_timesteps", None) is not None
                                else None),
        "plms_timesteps: " + str(sched.plms_timesteps.tolist()),
        "K4 runs the scheduler in bf16 on GPU; this golden is fp32 on CPU (benign deviation, spec section 3).",
        "_get_prev_sample.in.prev_timestep < 0 means final_alpha_cumprod is used (set_alpha_to_one false -> "
        "alphas_cumprod[0]).",
    ]
    if case == "pndm-prk":
        notes.append(f"skip_prk_steps=False: {len(sched.prk_timesteps)} PRK steps (counter < len(prk_timesteps)) "
                     f"then {len(sched.plms_timesteps)} PLMS steps = {n} scheduler.step calls for {steps} "
                     "inference steps.")
    write_bundle(
        out, case, component="scheduler/PNDMScheduler", case=case, config=config, weights={}, io=io,
        store=store, seed=seed,
        sizes={"num_inference_steps": steps, "num_steps": n, "sample_shape": list(shape)},
        command=cmd,
        tolerance_hints={
            "prev_sample": "fp32 vs fp32: max|diff| <= 1e-6 * max|ref| per step (pure elementwise arithmetic; "
                           "coefficients computed in fp32 as upstream: sqrt of fp32 alphas_cumprod values)",
            "alphas_cumprod": "<= 1e-7 relative (fp32 cumprod of fp32 betas; beta = linspace(sqrt(b0), sqrt(b1), "
                              "1000, fp32)**2)",
            "timesteps": "exact",
        },
        notes=notes,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=["pndm", "pndm-prk", "all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--shape", default="1,4,8,12", help="sample shape, comma-separated")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    shape = tuple(int(s) for s in a.shape.split(","))
    os.makedirs(a.out, exist_ok=True)
    for case in (["pndm", "pndm-prk"] if a.case == "all" else [a.case]):
        dump(case, a.seed, a.steps, shape, a.out)


if __name__ == "__main__":
    main()
