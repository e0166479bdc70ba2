#!/usr/bin/python3
"""PyTorch twin of `v2a bench vae`: diffusers 0.31 AutoencoderKL decode, SD-1.x shape, random weights, fp32,
torch.set_num_threads(2), latent 4x64x148 -> image 3x512x1184 (a 12 s clip), as K4 calls it:
vae.decode(latents / scaling_factor). Prints each run, the median, GFLOP/s over the same analytic FLOP count as the
Java command, and peak RSS (ru_maxrss; the encoder half is deleted before timing so both sides hold decoder weights only).

Run with /usr/bin/python3 (Debian torch 1.13); upstream sources from V2A_REFERENCE_SRC (required).
"""
import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from v2aref import env  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--warmup", type=int, default=1)
ap.add_argument("--latent-height", type=int, default=64)
ap.add_argument("--latent-width", type=int, default=148)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

env.setup(threads=args.threads)

import torch  # noqa: E402
from diffusers import AutoencoderKL  # noqa: E402

SD1 = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
           layers_per_block=2, norm_num_groups=32, act_fn="silu", scaling_factor=0.18215,
           down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)


def decoder_flops(h, w, lat=4, ch=(128, 256, 512, 512), layers=2, out=3):
    """Same count as BenchVaeCommand.decoderFlops: 2 x MACs of convs + mid attention."""
    conv = lambda ci, co, k, hw: 2.0 * ci * co * k * k * hw  # noqa: E731
    res = lambda ci, co, hw: conv(ci, co, 3, hw) + conv(co, co, 3, hw) + (conv(ci, co, 1, hw) if ci != co else 0)  # noqa: E731
    hw = float(h * w)
    top = ch[-1]
    f = conv(lat, lat, 1, hw) + conv(lat, top, 3, hw) + 2 * res(top, top, hw)
    f += 4 * 2 * hw * top * top + 2 * 2 * hw * hw * top
    prev = top
    for i, o in enumerate(reversed(ch)):
        for j in range(layers + 1):
            f += res(prev if j == 0 else o, o, hw)
        if i < len(ch) - 1:
            hw *= 4
            f += conv(o, o, 3, hw)
        prev = o
    return f + conv(ch[0], out, 3, hw)


torch.manual_seed(args.seed)
vae = AutoencoderKL(**SD1).eval()
del vae.encoder, vae.quant_conv
latents = torch.randn(1, 4, args.latent_height, args.latent_width)
flop = decoder_flops(args.latent_height, args.latent_width)
rss_gb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # noqa: E731
print(f"PyTorch {torch.__version__} VAE decoder bench: latent 4x{args.latent_height}x{args.latent_width} -> "
      f"3x{8 * args.latent_height}x{8 * args.latent_width}, {flop / 1e12:.3f} TFLOP, threads {torch.get_num_threads()}")
times = []
with torch.no_grad():
    for i in range(args.warmup + args.repeats):
        t0 = time.perf_counter()
        image = vae.decode(latents / vae.config.scaling_factor, return_dict=False)[0]
        s = time.perf_counter() - t0
        timed = i >= args.warmup
        if timed:
            times.append(s)
        print(f"  run {i + 1}{'' if timed else ' (warm-up)'}: {s:.2f} s ({flop / s / 1e9:.1f} GFLOP/s), "
              f"checksum {image.double().sum().item():.6e}, peak RSS {rss_gb():.2f} GB", flush=True)
        del image
if times:
    med = statistics.median(times)
    print(f"median {med:.2f} s over {len(times)} runs (min {min(times):.2f}, max {max(times):.2f}), "
          f"{flop / med / 1e9:.1f} GFLOP/s, peak RSS (ru_maxrss) {rss_gb():.2f} GB")
