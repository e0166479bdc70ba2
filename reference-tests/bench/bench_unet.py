#!/usr/bin/python3
"""PyTorch twin of `v2a bench unet`: one forward of the ORIGINAL K4 UNet (kandinsky4_video2audio/model/unet.py on
diffusers 0.31 UNet2DConditionModel, K4 attention processors) at real size with random weights, fp32 CPU,
torch.set_num_threads(2): latent 4x64x148, T=96 video frames, 100 text tokens, batch 1 and batch 2 (CFG).

Prints per-run times, medians, GFLOP/s (2.33 TFLOP per batch-1 forward: multiply-adds x2 of the convolutions,
linears and attention cores, as `v2a bench unet` counts them) and peak RSS
(ru_maxrss = VmHWM). Needs ~10+ GB of RAM at batch 2: torch 1.13 has no fused SDPA, the reference environment's shim
(v2aref.env._sdpa) materialises the level-0 attention scores (2.9 GB per image).

  V2A_REFERENCE_SRC=<upstream checkouts> /usr/bin/python3 reference-tests/bench/bench_unet.py [--repeats 3] [--batches 1,2]
"""
import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from v2aref import env  # noqa: E402

TFLOP_B1 = 2.33


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--width", type=int, default=148)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--batches", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    env.setup(threads=a.threads)
    import torch
    from kandinsky4_video2audio.model.unet import UNet2DConditionModel as K4UNet

    print("load average at start:", open("/proc/loadavg").read().strip())
    torch.manual_seed(a.seed)
    t0 = time.time()
    # the real K4 V2A UNet config (spec 2.1): SD-1.5 widths, 768-wide cross-attention, 8 heads
    unet = K4UNet(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8,
                  norm_num_groups=32, layers_per_block=2).float().eval()
    n = sum(p.numel() for p in unet.parameters())
    print(f"random weights: {n:,} parameters ({n * 4 / 1e9:.2f} GB fp32) in {time.time() - t0:.1f} s; "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    scale = (a.height * a.width) / (64 * 148)
    exact = (a.height, a.width, a.frames, a.tokens) == (64, 148, 96, 100)

    medians = []
    for b in [int(x) for x in a.batches.split(",")]:
        g = torch.Generator().manual_seed(a.seed + b)
        sample = torch.randn(b, 4, a.height, a.width, generator=g)
        text = torch.randn(b, a.tokens, 4096, generator=g)
        video = torch.randn(b, a.frames, 4096, generator=g)
        t = torch.tensor(981)
        times = []
        for r in range(a.warmup + a.repeats):
            s = time.time()
            with torch.no_grad():
                out = unet(sample, t, encoder_hidden_states=text, cross_attention_kwargs={"image_embeds": video},
                           return_dict=False)[0]
            sec = time.time() - s
            assert torch.isfinite(out).all()
            kind = "warmup" if r < a.warmup else "run"
            print(f"  batch {b} {kind} {r + 1 if r < a.warmup else r - a.warmup + 1}: {sec:.3f} s", flush=True)
            if r >= a.warmup:
                times.append(sec)
        med = statistics.median(times)
        medians.append(med)
        gf = f"{TFLOP_B1 * 1e3 * b / med:.1f} GFLOP/s" if exact else f"~{TFLOP_B1 * 1e3 * b * scale / med:.1f} GFLOP/s (scaled)"
        print(f"batch {b}: median {med:.3f} s over {len(times)} runs, {gf}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    print(f"peak RSS (ru_maxrss) {rss:.2f} GB; load average at end: {open('/proc/loadavg').read().strip()}")
    print(f"RESULT torch medians_s={medians} tflop_b1={TFLOP_B1} peak_rss_gb={rss:.2f}")


if __name__ == "__main__":
    main()
