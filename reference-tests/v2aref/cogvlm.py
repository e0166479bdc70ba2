"""CogVLM2-video (remote code @977ffb4) on torch 1.13 / CPU, and the tiny configuration used by the goldens.

Call `install()` after `v2aref.env.setup()`. It imports the ORIGINAL remote code
(`model_cogvlm2_video.{util,visual,modeling_cogvlm}`) and makes two number-neutral adaptations:

1. `util.apply_rotary` launches a Triton GPU kernel (`rotary_kernel[grid](...)` inside `torch.cuda.device`), which
   cannot run here (the `triton` shim is import-only). It is replaced by a torch function with the same signature,
   asserts and semantics for the path the model takes (non-interleaved, integer seqlen_offsets, no cu_seqlens):
   with h = rotary_dim/2, for each (b, head, s): o[:h] = x0*cos - x1*sin, o[h:2h] = x0*sin + x1*cos,
   x0 = x[:h], x1 = x[h:2h], cos/sin = row (s + seqlen_offsets) of the (B, seqlen_ro, h) tables; written in place when
   inplace=True (as the kernel does); conjugate=True negates sin. This is the kernel's arithmetic, element by
   element, in fp32 (the kernel computes in the input dtype too).
2. `visual.standard_attention` (the torch < 2 fallback of the vision attention) returns a contiguous (B,H,L,D)
   tensor, but the caller does `out.transpose(2,1).view(B,L,-1)`, which only works with the (B,L,H,D) memory layout
   that torch-2 SDPA happens to return. The wrapper returns the same values in that layout:
   `r.transpose(1,2).contiguous().transpose(1,2)` (values bit-identical; only strides change).

Notes on what the remote code does on torch 1.13 (both are upstream code paths, not adaptations):
* `modeling_cogvlm.attention_fn` checks `torch.__version__ >= 2` and otherwise takes its explicit branch:
  q/sqrt(d) @ k^T + additive causal mask (finfo.min) -> softmax(fp32) -> @ v. On torch 2 it calls SDPA(is_causal).
* `visual.attention_fn_default` likewise takes `standard_attention` (q/sqrt(d) @ k^T -> softmax -> @ v).
"""
import types

import torch
from torch import nn

_installed = None

# Tiny vocabulary used by the goldens: 256 "BPE" ids + 8 specials, laid out like Llama-3 (128000 BPE + 256
# specials): BOS/EOS/pad-vision-slot are the first three specials. See FakeTokenizer.
TINY_VOCAB = 264
TINY_BOS, TINY_EOS, TINY_PAD = 256, 257, 258
REAL_BOS, REAL_EOS, REAL_PAD = 128000, 128001, 128002


def _apply_rotary_torch(x, cos, sin, seqlen_offsets=0, cu_seqlens=None, max_seqlen=None, interleaved=False,
                        inplace=False, conjugate=False):
    """Same contract as util.apply_rotary (x: (batch, nheads, seqlen, headdim); cos/sin: (batch, seqlen_ro, rd/2))."""
    if cu_seqlens is not None or interleaved or isinstance(seqlen_offsets, torch.Tensor):
        raise NotImplementedError("v2aref rotary: only the path CogVLM2 uses (non-interleaved, int offsets, no varlen)")
    batch, nheads, seqlen, headdim = x.shape
    batch_ro, seqlen_ro, rotary_dim = cos.shape
    assert batch == batch_ro
    assert sin.shape == cos.shape
    rotary_dim *= 2
    assert rotary_dim <= headdim, "rotary_dim must be <= headdim"
    assert headdim <= 256, "Only support headdim <= 256"
    assert seqlen_ro >= seqlen, "seqlen_ro must be >= seqlen"
    assert cos.dtype == sin.dtype
    assert x.dtype == cos.dtype
    assert seqlen_offsets + seqlen <= seqlen_ro
    output = torch.empty_like(x) if not inplace else x
    if rotary_dim < headdim and not inplace:
        output[..., rotary_dim:].copy_(x[..., rotary_dim:])
    h = rotary_dim // 2
    c = cos[:, seqlen_offsets:seqlen_offsets + seqlen, :].unsqueeze(1)  # (B,1,S,h)
    s = sin[:, seqlen_offsets:seqlen_offsets + seqlen, :].unsqueeze(1)
    if conjugate:
        s = -s
    x0 = x[..., :h]
    x1 = x[..., h:rotary_dim]
    o0 = x0 * c - x1 * s
    o1 = x0 * s + x1 * c
    output[..., :h].copy_(o0)
    output[..., h:rotary_dim].copy_(o1)
    return output


def install():
    """Import the remote code and apply the two adaptations above. Returns a namespace (util, visual, modeling)."""
    global _installed
    if _installed is not None:
        return _installed
    import model_cogvlm2_video.util as util
    import model_cogvlm2_video.visual as visual
    import model_cogvlm2_video.modeling_cogvlm as modeling
    import model_cogvlm2_video.configuration_cogvlm as configuration

    util.apply_rotary = _apply_rotary_torch

    orig_standard_attention = visual.standard_attention

    def standard_attention_torch2_layout(*a, **k):
        r = orig_standard_attention(*a, **k)
        return r.transpose(1, 2).contiguous().transpose(1, 2)

    visual.standard_attention = standard_attention_torch2_layout
    _installed = types.SimpleNamespace(util=util, visual=visual, modeling=modeling, configuration=configuration)
    return _installed


# ---------------------------------------------------------------------------------------------------------- config

def tiny_config_dict():
    """The CogVLM2 config of the tiny goldens (real structure; tiny widths; real image_size/patch_size because 66
    tokens per frame are hard-coded). vocab_size/bos/eos/pad are the values of the tables the bundle stores
    (see build_tiny)."""
    return {
        "architectures": ["CogVLMVideoForCausalLM"],
        "bos_token_id": TINY_BOS,
        "eos_token_id": TINY_EOS,
        "pad_token_id": TINY_PAD,
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 80,
        "max_position_embeddings": 2048,
        "num_attention_heads": 4,
        "num_hidden_layers": 3,
        "num_multi_query_heads": 2,
        "rms_norm_eps": 1e-05,
        "template_version": "base",
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vision_config": {
            "dropout_prob": 0.0,
            "hidden_act": "gelu",
            "hidden_size": 16,
            "image_size": 224,
            "in_channels": 3,
            "intermediate_size": 24,
            "layer_norm_eps": 1e-06,
            "num_heads": 2,
            "num_hidden_layers": 2,
            "num_positions": 257,
            "patch_size": 14,
        },
        "vocab_size": TINY_VOCAB,
        "v2a4j": {
            "note": "tiny golden config; keys outside 'v2a4j' are CogVLMConfig fields (config.json of the remote "
                    "code). vocab_size / bos / eos / pad are the tiny table's values.",
            "vision_slot_token_id": TINY_PAD,
            "constructed_with": {"vocab_size": 128256, "bos_token_id": REAL_BOS, "eos_token_id": REAL_EOS,
                                 "pad_token_id": REAL_PAD,
                                 "why": "CogVLMVideoModel hard-codes nn.Embedding(vocab_size, hidden, padding_idx="
                                        "128002); embed_tokens and lm_head were then replaced by vocab_size-row "
                                        "tables (v2aref/cogvlm.py build_from_config)"},
            "real_values": {"vocab_size": 128256, "bos_token_id": REAL_BOS, "eos_token_id": REAL_EOS,
                            "pad_token_id": REAL_PAD, "vision_slot_token_id": REAL_PAD, "hidden_size": 4096,
                            "intermediate_size": 14336, "num_attention_heads": 32, "num_multi_query_heads": 8,
                            "num_hidden_layers": 32, "torch_dtype": "bfloat16",
                            "vision_config": {"hidden_size": 1792, "intermediate_size": 15360, "num_heads": 16,
                                              "num_hidden_layers": 63}},
            "rope_theta": 500000,
            "hidden_states_index_used_by_k4": -2,
        },
    }


def _reinit(model, seed):
    """Deterministic O(1)-scale random weights for every parameter (upstream init is std 0.02 and zeros for
    cls/boi/eoi/biases, which would leave paths unexercised and activations tiny). Buffers (inv_freq) untouched."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() >= 2 and not name.endswith(("cls_embedding", "boi", "eoi")) and "embed_tokens" not in name \
                    and "position_embedding" not in name:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
            elif leaf == "weight" and p.dim() == 1:  # LayerNorm / RMSNorm scales
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif leaf == "bias":
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:  # embeddings, cls/boi/eoi
                p.copy_(torch.randn(p.shape, generator=g))


def build_from_config(cfg_dict):
    """Construct the ORIGINAL CogVLMVideoForCausalLM from a bundle config.json (tiny), fp32, eval, weights as
    initialised by the constructor (load a state dict or call _reinit afterwards).

    The remote code hard-codes padding_idx 128002 in `nn.Embedding(vocab_size, hidden, 128002)`, so the model is
    constructed with the real vocab_size 128256 (and real special ids); then `model.embed_tokens` and `lm_head` are
    replaced by cfg["vocab_size"]-row tables (same classes, same names) so the bundle stays small. Token ids given to
    the model are therefore < cfg["vocab_size"] (FakeTokenizer)."""
    ns = install()
    build = {k: v for k, v in cfg_dict.items() if k not in ("architectures", "torch_dtype", "v2a4j")}
    rows = build["vocab_size"]
    build.update(vocab_size=128256, bos_token_id=REAL_BOS, eos_token_id=REAL_EOS, pad_token_id=REAL_PAD)
    cfg = ns.configuration.CogVLMConfig(**build)
    model = ns.modeling.CogVLMVideoForCausalLM(cfg)
    hidden = cfg.hidden_size
    model.model.embed_tokens = nn.Embedding(rows, hidden)
    model.lm_head = nn.Linear(hidden, rows, bias=False)
    model.config.vocab_size = rows
    model.vocab_size = rows
    model.model.vocab_size = rows
    return model.float().eval()


def build_tiny(seed=1234):
    """The tiny model of the goldens: build_from_config(tiny_config_dict()) under torch.manual_seed(seed), then
    every parameter re-drawn by _reinit(seed). Returns (model, config dict written to the bundle)."""
    cfg_dict = tiny_config_dict()
    torch.manual_seed(seed)
    model = build_from_config(cfg_dict)
    _reinit(model, seed)
    return model, cfg_dict


def state_dict(model):
    """Upstream checkpoint names (incl. the persistent rotary inv_freq buffers), contiguous fp32 copies."""
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------------------------- tokenizer

class FakeTokenizer:
    """Stands in for the Llama-3 fast tokenizer (not available offline). `encode` returns the fixed ids given for
    each text; every call is logged. `build_conversation_input_ids` sets `tokenizer.pad_token_id = 128002` and uses it
    as the vision-slot id: the setter logs the value and keeps the tiny pad id (TINY_PAD), because the tiny
    embedding table has TINY_VOCAB rows. Vision-slot rows are overwritten by the vision features before any use,
    so the id value changes no number."""

    def __init__(self, ids_by_text, bos=TINY_BOS, eos=TINY_EOS, pad=TINY_PAD):
        self._ids = {k: list(v) for k, v in ids_by_text.items()}
        self.bos_token_id = bos
        self.eos_token_id = eos
        self._pad = pad
        self.calls = []
        self.pad_assignments = []

    @property
    def pad_token_id(self):
        return self._pad

    @pad_token_id.setter
    def pad_token_id(self, value):
        self.pad_assignments.append(value)

    def encode(self, text, add_special_tokens=True):
        if add_special_tokens:
            raise AssertionError("the remote code always encodes with add_special_tokens=False")
        if text not in self._ids:
            raise KeyError(f"FakeTokenizer: no ids given for text {text!r}")
        self.calls.append(text)
        return list(self._ids[text])
