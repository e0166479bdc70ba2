#!/usr/bin/python3
"""Golden bundles for K4's video-conditioned UNet (kandinsky4_video2audio/model/unet.py + attention_processors.py
on diffusers v0.31.0 UNet2DConditionModel), built tiny (reference-env.md section 5):

  * the K4 subclass is constructed with tiny block_out_channels / norm groups / cross_attention_dim, keeping the
    real structure (CrossAttnDown x3 + DownBlock2D, UpBlock2D + CrossAttnUp x3, layers_per_block 2,
    attention_head_dim -> number of heads everywhere: 8 in the real model, 2 here so that head_dim >= 4);
  * the processors' hard-coded 4096-wide Linear layers are replaced by tiny-width ones: attn1.processor.video_k /
    video_v: video_embed_dim -> C, attn2.processor.text_projection: text_embed_dim -> cross_attention_dim
    (processor code untouched); video_out (zero-initialised upstream) is re-initialised randomly (nn.Linear
    default init) so the video path contributes;
  * `.float()` after building (unet.py casts the processors to half; their weights are therefore fp16-representable
    values stored as F32);
  * one CFG-style call as the K4 pipeline makes it: sample = cat([latents, latents]), timestep t (0-dim int64),
    encoder_hidden_states = [negative; prompt] text embeddings, cross_attention_kwargs={"image_embeds": [black;
    real] video embeddings}, return_dict=False.

Cases: unet-tiny (latent 8x16: every upsample exactly x2, diffusers passes no upsample_size) and
unet-tiny-oddwidth (latent 8x19: 19 % 8 != 0, so diffusers passes upsample_size = next skip's size and some
upsamples are not x2: 3 -> 5 and 10 -> 19; the script asserts it).

io.safetensors: sample [2,4,H,W], timestep [] i64, encoder_hidden_states [2,L,text_embed_dim],
image_embeds [2,T,video_embed_dim], out [2,4,H,W] (= noise_pred before CFG).
activations: every submodule except parameter-free activations/dropouts (diffusers shares one SiLU instance
across blocks): <module path>.in.<i|kw> / .out / .out.<i>, see reference-tests/README.md.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import torch  # noqa: E402
from torch import nn  # noqa: E402

from kandinsky4_video2audio.model.attention_processors import (  # noqa: E402
    PromptAttnProcessor2_0, VideoAttnProcessor2_0)
from kandinsky4_video2audio.model.unet import UNet2DConditionModel as K4UNet  # noqa: E402

from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import Recorder  # noqa: E402

TINY = dict(
    block_out_channels=(8, 16, 16, 16),
    layers_per_block=2,
    norm_num_groups=4,
    cross_attention_dim=12,
    attention_head_dim=2,
)
V2A = dict(video_embed_dim=10, text_embed_dim=20)

CASES = {
    "unet-tiny": dict(height=8, width=16),
    "unet-tiny-oddwidth": dict(height=4, width=19),
}


def build(seed):
    torch.manual_seed(seed)
    unet = K4UNet(**TINY)
    n_video = n_text = 0
    for name, proc in unet.attn_processors.items():
        # attn_processors keys: "<attention module path>.processor"
        attn_path = name[: -len(".processor")]
        attn = unet.get_submodule(attn_path)
        if isinstance(proc, VideoAttnProcessor2_0):
            c = proc.video_q.in_features
            proc.video_k = nn.Linear(V2A["video_embed_dim"], c)
            proc.video_v = nn.Linear(V2A["video_embed_dim"], c)
            proc.video_out = nn.Linear(c, c)  # upstream zero-initialises it; random so that the path is exercised
            n_video += 1
        elif isinstance(proc, PromptAttnProcessor2_0):
            proc.text_projection = nn.Linear(V2A["text_embed_dim"], unet.config.cross_attention_dim)
            n_text += 1
        else:
            raise AssertionError(f"unexpected processor {type(proc)} at {name}")
        assert attn.processor is proc
    unet = unet.float().eval()
    return unet, n_video, n_text


def record_forward(unet, sample, t, text, video):
    """One CFG-style call as the K4 pipeline makes it, every submodule recorded (inputs of leaf layers are not: they
    are aliases of a preceding output or a parameter-free function of one). Returns (noise_pred, TensorStore)."""
    leaf_types = (nn.Conv2d, nn.Linear, nn.GroupNorm, nn.LayerNorm)
    leaf_paths = {p for p, m in unet.named_modules() if isinstance(m, leaf_types)}
    with torch.no_grad(), Recorder(unet, inputs=lambda p: p not in leaf_paths) as rec:
        noise = unet(sample, t, encoder_hidden_states=text, cross_attention_kwargs={"image_embeds": video},
                     return_dict=False)[0]
    return noise, rec.store


def dump(case, seed, frames, tokens, timestep, out):
    h, w = CASES[case]["height"], CASES[case]["width"]
    unet, n_video, n_text = build(seed)
    g = torch.Generator().manual_seed(seed + 1)
    latents = torch.randn(1, 4, h, w, generator=g)
    sample = torch.cat([latents] * 2)
    text = torch.randn(2, tokens, V2A["text_embed_dim"], generator=g)
    video = torch.randn(2, frames, V2A["video_embed_dim"], generator=g)
    t = torch.tensor(timestep, dtype=torch.int64)
    noise, store = record_forward(unet, sample, t, text, video)

    # upsampling geometry (the odd-width case must exercise a non-x2 upsample)
    ups = []
    for i in range(len(unet.up_blocks)):
        p = f"up_blocks.{i}.upsamplers.0"
        if f"{p}.in.0" in store:
            si = tuple(store.get(f"{p}.in.0").shape[-2:])
            so = tuple(store.get(f"{p}.out").shape[-2:])
            ups.append({"module": p, "in": list(si), "out": list(so), "exact_x2": so == (2 * si[0], 2 * si[1])})
    non_x2 = [u for u in ups if not u["exact_x2"]]
    if case == "unet-tiny-oddwidth":
        assert non_x2, f"odd-width case has only x2 upsamples: {ups}"
    else:
        assert not non_x2, ups

    config = json.loads(unet.to_json_string())
    config["v2a4j"] = {
        "k4_class": "kandinsky4_video2audio.model.unet.UNet2DConditionModel",
        "video_embed_dim": V2A["video_embed_dim"],
        "text_embed_dim": V2A["text_embed_dim"],
        "text_projection_out": unet.config.cross_attention_dim,
        "attn1_processor": "VideoAttnProcessor2_0",
        "attn2_processor": "PromptAttnProcessor2_0",
        "real_values": {"video_embed_dim": 4096, "text_embed_dim": 4096, "text_projection_out": 768,
                        "block_out_channels": [320, 640, 1280, 1280], "norm_num_groups": 32,
                        "cross_attention_dim": 768},
    }
    io = {"sample": sample, "timestep": t, "encoder_hidden_states": text, "image_embeds": video, "out": noise}
    notes = [
        f"{n_video} VideoAttnProcessor2_0 (attn1) and {n_text} PromptAttnProcessor2_0 (attn2) processors; their "
        "Linear layers are attributes of the processor, hence the names "
        "...attn1.processor.video_{q,k,v,out}.* and ...attn2.processor.text_projection.*.",
        "K4 processors override __call__, so the processor itself has no recorded in/out; record points inside: "
        "attn1.processor.video_q.in.0 = output of the plain self-attention (h1), video_k/video_v.out = "
        "projections BEFORE the in-place positional-embedding add, video_out.in.0 = video attention output "
        "(heads merged), attn1.out = h1 + video_out(...).",
        "attn1/attn2 .in.* : hidden_states (normalised), encoder_hidden_states (attn2), image_embeds (both: "
        "Attention.forward receives cross_attention_kwargs; the processors get image_embeds).",
        "transformer/attention outputs with return_dict=False are 1-tuples: attentions.j.out.0.",
        "time_proj.out is the sinusoidal timestep embedding (flip_sin_to_cos, shift 0) of the 0-dim timestep "
        "broadcast to batch 2; time_embedding.out = temb.",
        "up-sampling geometry: " + json.dumps(ups),
        "Weights are diffusers/PyTorch default initialisations under torch.manual_seed(seed) (processor weights "
        "rounded through fp16 by unet.py's .half(), then .float()).",
    ]
    write_bundle(
        out, case, component="unet/K4 UNet2DConditionModel (diffusers 0.31)", case=case, config=config,
        weights=unet.state_dict(), io=io, store=store, seed=seed,
        sizes={"batch": 2, "latent_height": h, "latent_width": w, "frames": frames, "text_tokens": tokens,
               "timestep": timestep, **{k: list(v) if isinstance(v, tuple) else v for k, v in TINY.items()}, **V2A},
        command=canonical_command(__file__, [("--case", case), ("--seed", seed), ("--frames", frames),
                                             ("--tokens", tokens), ("--timestep", timestep)]),
        tolerance_hints={
            "per_module": "fp32 CPU vs fp32 CPU: max|diff| <= 1e-5 * max|ref| per recorded tensor when fed the "
                          "golden inputs of that module; chained from the UNet input expect growth to ~1e-4 "
                          "relative at the output",
            "softmax/attention": "1e-5 relative (SDPA shim = matmul(q*scale, k^T) -> softmax -> matmul v)",
            "group_norm": "1e-5 relative (eps 1e-5 resnets, 1e-6 transformer norm)",
            "out": "<= 1e-4 * max|ref| end to end",
        },
        notes=notes,
        extra={"upsampling": ups},
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=list(CASES) + ["all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=7)
    ap.add_argument("--timestep", type=int, default=981)
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for case in (list(CASES) if a.case == "all" else [a.case]):
        dump(case, a.seed, a.frames, a.tokens, a.timestep, a.out)


if __name__ == "__main__":
    main()
