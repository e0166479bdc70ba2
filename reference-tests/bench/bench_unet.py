#!/usr/bin/python3
"""PyTorch twin of `v2a bench unet`: forwards of the ORIGINAL K4 UNet (kandinsky4_video2audio/model/unet.py on
diffusers 0.31 UNet2DConditionModel, K4 attention processors) with random weights on the CPU: latent 4x64x148,
T=96 video frames, 100 text tokens, at one batch size (2 = CFG in one call). --precision bf16 casts the module and
the inputs with .to(torch.bfloat16), as K4 loads the UNet with torch_dtype=bfloat16.

Memory: weights 4.15 GB fp32. On torch 1.13 (no fused SDPA) the reference environment's shim materialises the
level-0 attention scores, 2.9 GB per image in fp32; batch 2 peaks near 17 GB. On torch 2.x, diffusers calls torch's
own F.scaled_dot_product_attention.

  V2A_REFERENCE_SRC=... /usr/bin/python3 reference-tests/bench/bench_unet.py [--batch 2] [--precision bf16]
"""
import argparse

import common
import flops


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--width", type=int, default=148)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1)
    a = common.add_args(ap).parse_args()
    torch = common.setup(a.threads)
    from kandinsky4_video2audio.model.unet import UNet2DConditionModel as K4UNet

    dt = common.dtype(torch, a.precision)
    torch.manual_seed(a.seed)
    # the real K4 V2A UNet config: SD-1.5 widths, 768-wide cross-attention, 8 heads
    with common.constructed_in(torch, dt):
        unet = K4UNet(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8,
                      norm_num_groups=32, layers_per_block=2).eval().to(dt)
    g = torch.Generator().manual_seed(a.seed + a.batch)
    b = a.batch
    sample = torch.randn(b, 4, a.height, a.width, generator=g).to(dt)
    text = torch.randn(b, a.tokens, 4096, generator=g).to(dt)
    video = torch.randn(b, a.frames, 4096, generator=g).to(dt)
    t = torch.tensor(981)
    common.run(a, f"unet-b{b}", f"latent 4x{a.height}x{a.width}, T={a.frames}, {a.tokens} tokens, batch {b}",
               flops.unet_forward(a.height, a.width, a.frames, a.tokens, b),
               lambda: unet(sample, t, encoder_hidden_states=text, cross_attention_kwargs={"image_embeds": video},
                            return_dict=False)[0], common.finite_sum)


if __name__ == "__main__":
    main()
