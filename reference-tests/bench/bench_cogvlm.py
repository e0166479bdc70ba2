#!/usr/bin/python3
"""PyTorch twin of `v2a bench cogvlm`: one block of the ORIGINAL CogVLM2-video remote code (@977ffb4) at real widths
with random weights, on the CPU:

  vision   one EVA2-CLIP TransformerLayer on F frames x 257 tokens       (visual.TransformerLayer)
  adapter  conv 2x2 stride 2 + GLU on F frames                           (EVA2CLIPModel.conv, visual.GLU)
  decoder  one decoder layer on L tokens with the video pass's positions (modeling_cogvlm.CogVLMDecoderLayer)

The decoder layer gets what CogVLMVideoModel.llm_forward gives it: the 4-D causal mask of
_prepare_decoder_attention_mask (in the activations' dtype) and build_position_ids([0] + [1]*(L-1)). On torch 1.13
the remote code takes its own torch<2 attention branches (matmul + mask + softmax); on torch 2.x it calls
F.scaled_dot_product_attention (is_causal for the decoder). util.apply_rotary (Triton) is replaced by the same
arithmetic in torch (v2aref/cogvlm.py). --precision bf16 casts module and inputs with .to(torch.bfloat16), as K4
loads CogVLM2 with torch_dtype=bfloat16.

  V2A_REFERENCE_SRC=... /usr/bin/python3 reference-tests/bench/bench_cogvlm.py --block vision [--frames 8]
"""
import argparse
from argparse import Namespace

import common
import flops

REAL = {
    "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_multi_query_heads": 8,
    "num_hidden_layers": 32, "rms_norm_eps": 1e-5, "vocab_size": 128256, "max_position_embeddings": 2048,
    "hidden_act": "silu",
    "vision_config": {"dropout_prob": 0.0, "hidden_act": "gelu", "hidden_size": 1792, "image_size": 224,
                      "in_channels": 3, "intermediate_size": 15360, "layer_norm_eps": 1e-06, "num_heads": 16,
                      "num_hidden_layers": 63, "num_positions": 257, "patch_size": 14},
}


def randomize(torch, module, seed):
    """uniform +-sqrt(3/fan_in) for matrices (unit-variance outputs), norm scales 1, biases 0.1-uniform (as the Java bench)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                bound = (3.0 / p[0].numel()) ** 0.5
                p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 2 * bound)
            elif "norm" in name and name.endswith("weight"):
                p.fill_(1.0)
            else:
                p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.2)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--block", required=True, choices=["vision", "adapter", "decoder"])
    ap.add_argument("--frames", type=int, default=8, help="frames of a vision-layer / adapter call (default 8)")
    ap.add_argument("--tokens", type=int, default=6337, help="decoder sequence length (default 6337 = BOS + 66 x 96)")
    a = common.add_args(ap).parse_args()
    torch = common.setup(a.threads)
    common.stub_foreign_torchvision(torch)
    from v2aref import cogvlm as v2acog
    ns = v2acog.install()
    dt = common.dtype(torch, a.precision)
    vc = Namespace(**REAL["vision_config"])
    d, dv = REAL["hidden_size"], vc.hidden_size
    g = torch.Generator().manual_seed(a.seed)
    if a.block == "vision":
        with common.constructed_in(torch, dt):
            layer = ns.visual.TransformerLayer(vc).eval()
        layer = randomize(torch, layer, 1).to(dt)
        x = ((torch.rand(a.frames, 257, dv, generator=g) - 0.5) * 3.4).to(dt)
        stage = "cogvlm-vision" if a.frames <= 8 else f"cogvlm-vision{a.frames}"
        common.run(a, stage, f"{a.frames} frames x 257 tokens", flops.vision_layer(a.frames),
                   lambda: layer(x), common.finite_sum)
    elif a.block == "adapter":
        cfg = Namespace(hidden_size=d, intermediate_size=REAL["intermediate_size"])
        with common.constructed_in(torch, dt):
            glu = ns.visual.GLU(cfg, in_features=dv).eval()
            conv = torch.nn.Conv2d(dv, dv, kernel_size=2, stride=2).eval()
        glu, conv = randomize(torch, glu, 2).to(dt), randomize(torch, conv, 3).to(dt)
        x = ((torch.rand(a.frames, 257, dv, generator=g) - 0.5) * 3.4).to(dt)

        def adapter():  # EVA2CLIPModel.forward after the transformer
            y = x[:, 1:]
            b, s, h = y.shape
            grid = int(s ** 0.5)
            y = conv(y.view(b, grid, grid, h).permute(0, 3, 1, 2))
            return glu(y.flatten(2).transpose(1, 2))

        common.run(a, "cogvlm-adapter", f"{a.frames} frames", flops.adapter(a.frames), adapter, common.finite_sum)
    else:
        cfg = ns.configuration.CogVLMConfig(**{k: v for k, v in REAL.items() if k != "vision_config"})
        with common.constructed_in(torch, dt):
            layer = ns.modeling.CogVLMDecoderLayer(cfg).eval()
        layer = randomize(torch, layer, 4).to(dt)
        L = a.tokens
        types = torch.tensor([[0] + [1] * (L - 1)])
        pos = ns.modeling.build_position_ids(types)
        x = ((torch.rand(1, L, d, generator=g) - 0.5) * 3.4).to(dt)
        mask = ns.modeling._make_causal_mask((1, L), dt, torch.device("cpu"))
        common.run(a, "cogvlm-decoder", f"{L} tokens, causal", flops.decoder_layer(L),
                   lambda: layer(x, token_type_ids=types, position_ids=pos, attention_mask=mask)[0],
                   common.finite_sum)


if __name__ == "__main__":
    main()
