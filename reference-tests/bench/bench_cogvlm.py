"""PyTorch twin of `v2a bench cogvlm`: the ORIGINAL CogVLM2-video modules (remote code @977ffb4) at real widths with
random fp32 weights, timed on CPU with torch.set_num_threads(2).

  one EVA2-CLIP TransformerLayer on F frames x 257 tokens       (visual.TransformerLayer)
  the adapter: conv 2x2 stride 2 + GLU on F frames              (EVA2CLIPModel.conv, visual.GLU)
  one decoder layer on L tokens with the video pass's positions (modeling_cogvlm.CogVLMDecoderLayer)

The decoder layer gets what CogVLMVideoModel.llm_forward gives it: the additive 4-D causal mask of
_prepare_decoder_attention_mask and build_position_ids([0] + [1]*(L-1)). On torch 1.13 the remote code takes its own
torch<2 attention branch (matmul + mask + softmax); util.apply_rotary (Triton) is replaced by the same arithmetic in
torch (v2aref/cogvlm.py). Sources: V2A_REFERENCE_SRC (required).

Usage: /usr/bin/python3 reference-tests/bench/bench_cogvlm.py [--frames 8] [--tokens 6337] [--repeats 3] [--only vision,adapter,decoder]
"""
import argparse
import os
import resource
import statistics
import sys
import time
from argparse import Namespace

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from v2aref import env  # noqa: E402

env.setup(threads=2)
import torch  # noqa: E402
from v2aref import cogvlm as v2acog  # noqa: E402

REAL = {
    "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_multi_query_heads": 8,
    "num_hidden_layers": 32, "rms_norm_eps": 1e-5, "vocab_size": 128256, "max_position_embeddings": 2048,
    "hidden_act": "silu",
    "vision_config": {"dropout_prob": 0.0, "hidden_act": "gelu", "hidden_size": 1792, "image_size": 224,
                      "in_channels": 3, "intermediate_size": 15360, "layer_norm_eps": 1e-06, "num_heads": 16,
                      "num_hidden_layers": 63, "num_positions": 257, "patch_size": 14},
}


def randomize(module, seed):
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


def timed(fn, warmup, repeats):
    with torch.no_grad():
        for _ in range(warmup):
            fn()
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def report(block, size, ms, gflop):
    med = statistics.median(ms)
    print(f"{block:20s} {size:28s} median {med:9.1f} ms  (runs {'/'.join(f'{m:.0f}' for m in ms)})  "
          f"{gflop:7.1f} GFLOP  {gflop / (med / 1e3):6.1f} GFLOP/s", flush=True)
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=6337)
    ap.add_argument("--video-frames", type=int, default=96)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="vision,adapter,decoder")
    a = ap.parse_args()
    only = a.only.split(",")
    ns = v2acog.install()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load before: {os.getloadavg()}", flush=True)
    vc = Namespace(**REAL["vision_config"])
    d, dv, iv = REAL["hidden_size"], vc.hidden_size, vc.intermediate_size
    res = {}
    if "vision" in only:
        layer = randomize(ns.visual.TransformerLayer(vc).eval(), 1)
        x = (torch.rand(a.frames, 257, dv) - 0.5) * 3.4
        gflop = a.frames * (2.0 * 257 * dv * (4 * dv + 2 * iv) + 4.0 * 257 * 257 * dv) / 1e9
        res["vision"] = report("vision layer", f"{a.frames} frames x 257 tokens", timed(lambda: layer(x), a.warmup, a.repeats), gflop)
        del layer
    if "adapter" in only:
        cfg = Namespace(hidden_size=d, intermediate_size=REAL["intermediate_size"])
        glu = randomize(ns.visual.GLU(cfg, in_features=dv).eval(), 2)
        conv = randomize(torch.nn.Conv2d(dv, dv, kernel_size=2, stride=2).eval(), 3)
        x = (torch.rand(a.frames, 257, dv) - 0.5) * 3.4

        def adapter():
            y = x[:, 1:]
            b, s, h = y.shape
            g = int(s ** 0.5)
            y = conv(y.view(b, g, g, h).permute(0, 3, 1, 2))
            return glu(y.flatten(2).transpose(1, 2))

        gflop = a.frames * (2.0 * 64 * dv * dv * 4 + 2.0 * 64 * (dv * d + 3.0 * d * REAL["intermediate_size"])) / 1e9
        res["adapter"] = report("adapter (conv+GLU)", f"{a.frames} frames", timed(adapter, a.warmup, a.repeats), gflop)
        del glu, conv
    if "decoder" in only:
        cfg = ns.configuration.CogVLMConfig(**{k: v for k, v in REAL.items() if k != "vision_config"})
        layer = randomize(ns.modeling.CogVLMDecoderLayer(cfg).eval(), 4)
        L = a.tokens
        types = torch.tensor([[0] + [1] * (L - 1)])
        pos = ns.modeling.build_position_ids(types)
        x = (torch.rand(1, L, d) - 0.5) * 3.4
        mask = ns.modeling._make_causal_mask((1, L), torch.float32, torch.device("cpu"))
        gflop = (2.0 * L * d * (6144 + d + 3.0 * REAL["intermediate_size"]) + 4.0 * L * L * d) / 1e9
        res["decoder"] = report("decoder layer", f"{L} tokens",
                                timed(lambda: layer(x, token_type_ids=types, position_ids=pos, attention_mask=mask),
                                      a.warmup, a.repeats), gflop)
    t = a.video_frames
    total = 0.0
    print(f"extrapolated video pass, T={t}:")
    if "vision" in res:
        s = res["vision"] / 1e3 / a.frames * t * vc.num_hidden_layers
        total += s
        print(f"  vision tower   {vc.num_hidden_layers} layers x {t} frames   {s:8.1f} s")
    if "adapter" in res:
        s = res["adapter"] / 1e3 / a.frames * t
        total += s
        print(f"  adapter        x {t} frames              {s:8.1f} s")
    if "decoder" in res:
        L, Lv = a.tokens, 66 * t + 1
        dense = 2.0 * L * d * (6144 + d + 3.0 * REAL["intermediate_size"])
        share = dense / (dense + 4.0 * L * L * d)
        s = res["decoder"] / 1e3 * (share * Lv / L + (1 - share) * (Lv / L) ** 2) * (REAL["num_hidden_layers"] - 1)
        total += s
        print(f"  decoder        31 layers x {Lv} tokens   {s:8.1f} s")
    print(f"  total (excl. patch embedding, weight conversion, I/O) {total:8.1f} s = {total / 60:.1f} min per video pass")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
