#!/usr/bin/python3
"""PyTorch twin of `v2a bench vae`: diffusers 0.31 AutoencoderKL decode, SD-1.x shape, random weights, on the CPU,
latent 4x64x148 -> image 3x512x1184 (a 12 s clip), as K4 calls it: vae.decode(latents / scaling_factor).
The encoder half is deleted before timing, so both engines hold decoder weights only. --precision fp16 is what K4
loads the VAE in; bf16 and fp32 for comparison (a precision the CPU build cannot run fails with torch's error).

  V2A_REFERENCE_SRC=... /usr/bin/python3 reference-tests/bench/bench_vae.py [--precision fp16]
"""
import argparse

import common
import flops

SD1 = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
           layers_per_block=2, norm_num_groups=32, act_fn="silu", scaling_factor=0.18215,
           down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latent-height", type=int, default=64)
    ap.add_argument("--latent-width", type=int, default=148)
    a = common.add_args(ap).parse_args()
    torch = common.setup(a.threads)
    from diffusers import AutoencoderKL

    dt = common.dtype(torch, a.precision)
    torch.manual_seed(a.seed)
    with common.constructed_in(torch, dt):
        vae = AutoencoderKL(**SD1).eval()
    del vae.encoder, vae.quant_conv
    vae = vae.to(dt)
    latents = torch.randn(1, 4, a.latent_height, a.latent_width).to(dt)
    h, w = a.latent_height, a.latent_width
    common.run(a, "vae", f"latent 4x{h}x{w} -> 3x{8 * h}x{8 * w}", flops.vae_decode(h, w),
               lambda: vae.decode(latents / vae.config.scaling_factor, return_dict=False)[0], common.finite_sum)


if __name__ == "__main__":
    main()
