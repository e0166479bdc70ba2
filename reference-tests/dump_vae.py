#!/usr/bin/python3
"""Golden bundle for the VAE decode + image postprocess of the K4 pipeline (diffusers v0.31.0 AutoencoderKL, SD-1.x
structure, tiny widths).

K4 (video2audio_pipe.py) does
  spectogram = vae.decode(latents / vae.config.scaling_factor, return_dict=False)[0]
  spectogram = image_processor.postprocess(spectogram, output_type="pil", do_denormalize=[True] * B)
with image_processor = VaeImageProcessor(vae_scale_factor=8). Here the same calls run in fp32 (K4: fp16 on GPU),
and postprocess is called twice: output_type="np" (float [0,1] HWC) and "pil" (-> uint8 via numpy round).

Model: AutoencoderKL(block_out_channels=(8,16,16,16), layers_per_block=2, norm_num_groups=4, latent_channels=4,
4 DownEncoderBlock2D / UpDecoderBlock2D, mid-block attention on, scaling_factor 0.18215), default init under
torch.manual_seed(seed); decoder.conv_out is then rescaled (x0.25, weight and bias) so that the image stays mostly
inside [-1, 1] and the clamp/round path is exercised on non-saturated values.

io.safetensors: latents [1,4,h,w] (pipeline latents), z [1,4,h,w] (= latents / scaling_factor, decode input),
sample [1,3,8h,8w] (decoder output), image_np [1,8h,8w,3] f32 (postprocess "np"),
image [1,8h,8w,3] u8 (postprocess "pil", np.array of each PIL image).
activations: post_quant_conv and every decoder submodule (encoder not run), names as in the state dict.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from diffusers import AutoencoderKL  # noqa: E402
from diffusers.image_processor import VaeImageProcessor  # noqa: E402

from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import Recorder  # noqa: E402

TINY = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(8, 16, 16, 16),
    layers_per_block=2,
    act_fn="silu",
    latent_channels=4,
    norm_num_groups=4,
    sample_size=32,
    scaling_factor=0.18215,
)
CONV_OUT_SCALE = 0.25


def record_decode(vae, z):
    """vae.decode(z) with post_quant_conv and every decoder submodule recorded. Returns (sample, TensorStore)."""
    leaf_types = (nn.Conv2d, nn.Linear, nn.GroupNorm, nn.LayerNorm)
    leaf_paths = {p for p, m in vae.named_modules() if isinstance(m, leaf_types)}
    include = lambda p, m: (p.startswith("decoder") or p == "post_quant_conv") and not isinstance(  # noqa: E731
        m, (nn.SiLU, nn.Dropout, nn.Identity))
    with torch.no_grad(), Recorder(vae, include=include, inputs=lambda p: p not in leaf_paths) as rec:
        sample = vae.decode(z, return_dict=False)[0]
    return sample, rec.store


def postprocess(image_processor, sample):
    """K4's postprocess as "np" (float [0,1] NHWC) and as "pil" (uint8, np.array of each image)."""
    b = sample.shape[0]
    img_np = image_processor.postprocess(sample, output_type="np", do_denormalize=[True] * b)
    img_pil = image_processor.postprocess(sample, output_type="pil", do_denormalize=[True] * b)
    return img_np, np.stack([np.array(im) for im in img_pil])


def dump(seed, height, width, out):
    case = "vae-tiny"
    torch.manual_seed(seed)
    vae = AutoencoderKL(**TINY).float().eval()
    with torch.no_grad():
        vae.decoder.conv_out.weight.mul_(CONV_OUT_SCALE)
        vae.decoder.conv_out.bias.mul_(CONV_OUT_SCALE)
    image_processor = VaeImageProcessor(vae_scale_factor=8)

    g = torch.Generator().manual_seed(seed + 1)
    latents = torch.randn(1, 4, height, width, generator=g)
    z = latents / vae.config.scaling_factor

    sample, store = record_decode(vae, z)
    img_np, img_u8 = postprocess(image_processor, sample)

    sd = vae.state_dict()
    attn_keys = sorted(k for k in sd if k.startswith("decoder.mid_block.attentions.0."))
    scaled = img_np.astype(np.float32) * np.float32(255)
    near_half = int((np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3).sum())
    frac_clamped = float(((sample / 2 + 0.5) < 0).float().mean() + ((sample / 2 + 0.5) > 1).float().mean())

    config = json.loads(vae.to_json_string())
    config["v2a4j"] = {
        "postprocess": "VaeImageProcessor(vae_scale_factor=8).postprocess(x, output_type='pil', "
                       "do_denormalize=[True]*B): (x/2+0.5).clamp(0,1) -> permute to NHWC float -> "
                       "(x*255).round().astype(uint8) (numpy round half to even)",
        "conv_out_scale": CONV_OUT_SCALE,
        "real_values": {"block_out_channels": [128, 256, 512, 512], "norm_num_groups": 32},
    }
    io = {"latents": latents, "z": z, "sample": sample, "image_np": torch.from_numpy(img_np),
          "image": torch.from_numpy(img_u8)}
    notes = [
        "diffusers 0.31 state-dict names of the VAE mid-block attention: " + ", ".join(
            k[len("decoder.mid_block.attentions.0."):] for k in attn_keys)
        + " (new-style to_q/to_k/to_v/to_out.0 with biases, group_norm). Legacy SD checkpoints use "
          "query/key/value/proj_attn; diffusers converts those on load "
          "(ModelMixin._convert_deprecated_attention_blocks), a Java loader should accept both.",
        "Mid attention: 1 head of width block_out_channels[-1] (attention_head_dim = last channel count), "
        "residual connection and rescale_output_factor 1 inside Attention; Attention's group_norm has eps 1e-6.",
        "Decoder GroupNorms (resnets, mid attention, conv_norm_out) use eps 1e-6; no temb in decoder resnets.",
        f"fraction of image values clamped by postprocess: {frac_clamped:.4f}; values whose x*255 (fp32) is within "
        f"1e-3 of a rounding boundary (.5): {near_half}",
        "K4 decodes in fp16 on GPU; this golden is fp32 on CPU.",
        "Encoder weights are included in weights.safetensors (a real checkpoint has them) but the encoder is not run.",
    ]
    write_bundle(
        out, case, component="vae/AutoencoderKL decoder + VaeImageProcessor.postprocess (diffusers 0.31)",
        case=case, config=config, weights=sd, io=io, store=store, seed=seed,
        sizes={"latent_height": height, "latent_width": width, "image_height": 8 * height,
               "image_width": 8 * width, **{k: list(v) if isinstance(v, tuple) else v for k, v in TINY.items()}},
        command=canonical_command(__file__, [("--seed", seed), ("--height", height), ("--width", width)]),
        tolerance_hints={
            "per_module": "fp32: max|diff| <= 1e-5 * max|ref| per recorded tensor given its golden inputs",
            "sample": "<= 1e-4 * max|ref| end to end from z",
            "image": "uint8: exact given the golden sample except values whose x*255 lies within ~1e-4 of a .5 "
                     "boundary (count them; expect 0 or a handful), |diff| <= 1 when computed from own sample",
            "image_np": "<= 1e-6 absolute given the golden sample",
        },
        notes=notes,
        extra={"mid_attention_state_dict_keys": attn_keys},
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", type=int, default=4, help="latent height")
    ap.add_argument("--width", type=int, default=6, help="latent width")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    dump(a.seed, a.height, a.width, a.out)


if __name__ == "__main__":
    main()
