"""FLOP counts of the benchmark workloads: 2 x multiply-adds of the matrix work (convolutions, linears, attention
QK^T and PV), norms, activations, softmax and copies not counted. One count per workload, the same for every engine,
so GFLOP/s = count / median is a throughput on the same work (an engine that skips masked work is faster on it).

Shapes are those of the real checkpoints (SD-1.5-shaped K4 UNet, SD-1.x VAE, CogVLM2-video-Llama3), see each
function. Pure Python: no torch import (the harness driver uses it too).
"""
import math


def conv(cin, cout, k, hw):
    """A k x k convolution producing hw output pixels."""
    return 2.0 * cin * cout * k * k * hw


def lin(cin, cout, rows):
    return 2.0 * cin * cout * rows


def unet_forward(h=64, w=148, frames=96, tokens=100, batch=1):
    """K4 UNet (diffusers UNet2DConditionModel, SD-1.5 widths 320/640/1280/1280, 2 layers per block, CrossAttn
    down blocks 0-2 and up blocks 1-3, one transformer per attention layer) on a latent 4 x h x w.

    Per ResNet: two 3x3 convs (+ a 1x1 shortcut when widths differ). Per transformer on hw tokens of width c:
    proj_in/proj_out (2 c^2 hw); self-attention q,k,v,out (4 c^2 hw) + QK^T and PV (4 hw^2 c); cross-attention
    q,out (2 c^2 hw) + k,v from 100 text tokens of width 768 (2 * 768 c tokens) + 4 hw tokens c; GEGLU feed-forward
    c -> 8c and 4c -> c; K4's video attention q,out (2 c^2 hw) + k,v from T 4096-wide frames + 4 hw T c; K4's
    text projection 4096 -> 768 on the tokens. Resolution halves (rounding up) at each of the 3 downsamplers.
    64 x 148, T=96, 100 tokens: 2.33 TFLOP per image (the count `v2a bench unet` prints)."""
    ch = (320, 640, 1280, 1280)
    attn_down = (True, True, True, False)
    attn_up = (False, True, True, True)
    cross, video, text = 768, 4096, 4096
    n = len(ch)
    hw = []
    sh, sw = h, w
    for _ in range(n):
        hw.append(sh * sw)
        sh, sw = (sh + 1) // 2, (sw + 1) // 2

    def resnet(ci, co, p):
        return conv(ci, co, 3, p) + conv(co, co, 3, p) + (lin(ci, co, p) if ci != co else 0)

    def transformer(c, p):
        f = 2 * lin(c, c, p)
        f += 4 * lin(c, c, p) + 4.0 * p * p * c
        f += 2 * lin(c, c, p) + 2 * lin(cross, c, tokens) + 4.0 * p * tokens * c
        f += lin(c, 8 * c, p) + lin(4 * c, c, p)
        f += 2 * lin(c, c, p) + 2 * lin(video, c, frames) + 4.0 * p * frames * c
        return f + lin(text, cross, tokens)

    f = conv(4, ch[0], 3, hw[0])
    skips = [ch[0]]
    prev = ch[0]
    for i in range(n):
        for j in range(2):
            f += resnet(prev if j == 0 else ch[i], ch[i], hw[i])
            if attn_down[i]:
                f += transformer(ch[i], hw[i])
            skips.append(ch[i])
        if i < n - 1:
            f += conv(ch[i], ch[i], 3, hw[i + 1])
            skips.append(ch[i])
        prev = ch[i]
    f += 2 * resnet(ch[-1], ch[-1], hw[-1]) + transformer(ch[-1], hw[-1])
    for i in range(n):
        lvl = n - 1 - i
        co = ch[lvl]
        for j in range(3):
            f += resnet((prev if j == 0 else co) + skips.pop(), co, hw[lvl])
            if attn_up[i]:
                f += transformer(co, hw[lvl])
        if i < n - 1:
            f += conv(co, co, 3, hw[lvl - 1])
        prev = co
    return batch * (f + conv(ch[0], 4, 3, hw[0]))


def vae_decode(h=64, w=148):
    """SD-1.x VAE decoder (widths 128/256/512/512, 2+1 ResNets per up block, one mid attention) from a 4 x h x w latent
    to 3 x 8h x 8w: post_quant 1x1 conv, conv_in, mid ResNets + single-head attention (q,k,v,out 4 c^2 hw + 4 hw^2 c),
    up blocks with a 3x3 conv after each 2x upsampling, conv_out. 64 x 148 -> 512 x 1184: 5.9 TFLOP (as `v2a bench vae`)."""
    ch = (128, 256, 512, 512)
    lat, out, layers = 4, 3, 2

    def resnet(ci, co, p):
        return conv(ci, co, 3, p) + conv(co, co, 3, p) + (conv(ci, co, 1, p) if ci != co else 0)

    p = float(h * w)
    top = ch[-1]
    f = conv(lat, lat, 1, p) + conv(lat, top, 3, p) + 2 * resnet(top, top, p)
    f += 4 * 2 * p * top * top + 2 * 2 * p * p * top
    prev = top
    for i, o in enumerate(reversed(ch)):
        for j in range(layers + 1):
            f += resnet(prev if j == 0 else o, o, p)
        if i < len(ch) - 1:
            p *= 4
            f += conv(o, o, 3, p)
        prev = o
    return f + conv(ch[0], out, 3, p)


# CogVLM2-video-llama3-chat widths
VISION_D, VISION_I, VISION_TOKENS = 1792, 15360, 257   # EVA2-CLIP-E: 16 heads, exact-GELU MLP, 256 patches + CLS
LLM_D, LLM_I, LLM_KV = 4096, 14336, 8 * 128            # Llama-3-8B: 32 query heads, 8 KV heads of 128
ADAPTER_TOKENS = 64                                     # 16 x 16 patches, conv 2x2 stride 2 -> 8 x 8


def vision_layer(frames=8, tokens=VISION_TOKENS):
    """One EVA2-CLIP layer per frame: q,k,v and out projections (4 d^2 T), fc1 d -> 15360 and fc2 back
    (2 d I T), full (non-causal) attention QK^T + PV (4 T^2 d). 8 frames: 283 GFLOP."""
    d = VISION_D
    return frames * (2.0 * tokens * d * (4 * d + 2 * VISION_I) + 4.0 * tokens * tokens * d)


def adapter(frames=8):
    """Per frame: the 2x2 stride-2 conv on the 16 x 16 patch grid (64 outputs, 4 d^2 each) and the GLU:
    linear_proj 1792 -> 4096, gate and up 4096 -> 14336, down 14336 -> 4096 on the 64 tokens."""
    d = VISION_D
    return frames * (2.0 * ADAPTER_TOKENS * d * d * 4
                     + 2.0 * ADAPTER_TOKENS * (d * LLM_D + 3.0 * LLM_D * LLM_I))


def decoder_layer(tokens=6337):
    """One Llama decoder layer on L tokens: fused q,k,v (4096 -> 4096 + 2 x 1024), out projection, SwiGLU MLP
    (3 x 4096 x 14336), and causal attention counted on the L(L+1)/2 unmasked query-key pairs only
    (QK^T and PV: 2 x 2 x d per pair), i.e. the work a causal kernel must do (`v2a bench cogvlm` counts the same).
    6337 tokens: 3.09 TFLOP, of which attention 0.33 (full L^2 would count 0.66)."""
    d, L = LLM_D, tokens
    dense = 2.0 * L * d * ((d + 2 * LLM_KV) + d + 3.0 * LLM_I)
    return dense + 4.0 * d * L * (L + 1) / 2


def audio(frames=1184, iterations=32, n_mels=512, n_fft=17640):
    """Nominal count; FFTs are not GEMMs, so its GFLOP/s compares engines on this stage only.
    Inverse mel: least squares on the 512 x 8821 filterbank (LQ factorisation 2 m^2 n, applied to W right-hand sides
    4 m n W). Griffin-Lim: per iteration one inverse and one forward STFT of W frames, plus the final inverse; each
    real FFT of N = 17640 counted as 2.5 N log2 N (half the 5 N log2 N of a complex FFT)."""
    n = n_fft // 2 + 1
    lstsq = 2.0 * n_mels ** 2 * n + 4.0 * n_mels * n * frames
    fft = 2.5 * n_fft * math.log2(n_fft)
    return lstsq + (2 * iterations + 1) * frames * fft


if __name__ == "__main__":
    print(f"UNet b1 {unet_forward() / 1e12:.3f} TFLOP, VAE {vae_decode() / 1e12:.3f} TFLOP, "
          f"vision layer x8 {vision_layer() / 1e9:.1f} GFLOP, adapter x8 {adapter() / 1e9:.1f} GFLOP, "
          f"decoder 6337 {decoder_layer() / 1e12:.3f} TFLOP, audio {audio() / 1e9:.1f} GFLOP")
