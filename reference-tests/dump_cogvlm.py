"""Golden bundles for CogVLM2-video (remote code @977ffb4) as Kandinsky-4 V2A uses it.

    /usr/bin/python3 reference-tests/dump_cogvlm.py --case all --out reference-tests/bundles

cases (bundle names):
  preprocess  cogvlm-tiny-preprocess  video preprocessing of build_conversation_input_ids (uint8 (3,T,H,W) ->
                                      (T,3,224,224)), two videos: landscape upscale and portrait, both with a
                                      centre-crop offset x.5 (Python round half to even)
  video       cogvlm-tiny             K4 Video2AudioPipeline.extract_video_embedding on a tiny random model
  text        cogvlm-tiny-text        K4 Video2AudioPipeline.extract_text_embedding (fixed token ids)

The ORIGINAL code runs: K4's methods (called on a pipeline object built without __init__, which would download
models), the remote code's build_conversation_input_ids / forward. Only I/O is replaced (tokenizer -> fixed ids,
model loading -> tiny random model); see v2aref/cogvlm.py for the two torch-1.13 adaptations (rotary kernel,
vision attention memory layout).
"""
import argparse
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from v2aref import env  # noqa: E402

env.setup()

import torch  # noqa: E402

from v2aref import bundle, cogvlm  # noqa: E402
from v2aref.record import DEFAULT_SKIP_TYPES, Recorder, TensorStore, patch_function  # noqa: E402

SEED = 1234
SCRIPT = __file__

TEXT_IDS = [17, 203, 5, 88, 131, 42, 250]  # 7 "BPE" ids of the tiny vocabulary (< 256)
TEXT = "a dog barks on a beach"  # only a key for the fake tokenizer; the ids above are what the model sees

FP32_NOTE = ("Everything runs in fp32 on CPU. The real K4 pipeline runs CogVLM2 in bf16 (from_pretrained "
             "torch_dtype=bfloat16; K4 casts the preprocessed frames to multimodal.dtype and the embeddings to "
             "unet.dtype): with an fp32 model those casts are fp32->fp32 no-ops, nothing was bypassed.")
TORCH1_NOTE = ("torch 1.13: the remote code's own torch<2 branches run: LLM attention_fn = q/sqrt(hd) @ k^T + "
               "additive causal mask (finfo(float32).min above the diagonal, 0 elsewhere) -> softmax(fp32) -> @ v "
               "(torch 2 would call SDPA(is_causal=True): same maths up to rounding); vision attention = "
               "standard_attention q/sqrt(hd) @ k^T -> softmax -> @ v.")
ROTARY_NOTE = ("util.apply_rotary (a Triton GPU kernel launcher) replaced by the kernel's arithmetic in torch "
               "(v2aref/cogvlm.py): non-interleaved rotate-half on pairs (d, d+hd/2): o0 = x0*cos - x1*sin, "
               "o1 = x0*sin + x1*cos, in place; cos/sin gathered by position id from "
               "cos(t*inv_freq), t = arange(max_pos+1) in inv_freq's dtype (pos_idx_in_fp32=False), "
               "inv_freq = 1/500000**(arange(0,hd,2)/hd) (buffer stored in weights as "
               "model.layers.N.self_attn.rotary_emb.inv_freq).")
VISUAL_NOTE = ("visual.standard_attention wrapped to return its (B,H,L,D) result with (B,L,H,D) memory layout "
               "(r.transpose(1,2).contiguous().transpose(1,2)); values bit-identical; needed because the caller "
               "does .transpose(2,1).view(B,L,-1), which assumes torch-2 SDPA's output layout.")
VOCAB_NOTE = ("The remote code constructs nn.Embedding(vocab_size, hidden, padding_idx=128002), so the model is "
              "built with vocab_size 128256; then model.embed_tokens and lm_head are replaced by 264-row tables "
              "(config.json says vocab_size 264: 256 'BPE' ids + 8 specials). Tiny special ids: BOS 256, EOS 257, vision slot/pad 258 (real: "
              "128000/128001/128002). The fake tokenizer returns BOS 256; build_conversation_input_ids assigns "
              "tokenizer.pad_token_id = 128002 and uses it for the vision slots: the fake tokenizer keeps 258 "
              "instead (assignment logged in manifest 'tokenizer'). Vision-slot embedding rows are overwritten by "
              "the vision features (index_put) before any use, so the slot id changes no number.")
INIT_NOTE = ("Weights: every parameter re-drawn (seeded) at O(1) scale: matrices N(0,1)/sqrt(fan_in), norm scales "
             "1+0.2*N(0,1), biases 0.2*N(0,1), embeddings / cls_embedding / boi / eoi / position_embedding N(0,1) "
             "(upstream initialises cls/boi/eoi and biases to 0 and matrices with std 0.02).")
NAMING_NOTE = ("activations: '<upstream module path>.in.<i|kw>' / '.out[.<i|key>]' from wrapped forwards "
               "(v2aref/record.py); paths are relative to CogVLMVideoForCausalLM (model.vision..., model.layers.N..., "
               "lm_head); a repeated call of a path P is P@k. model.out.hidden_states.<i> are the entries of the "
               "hidden_states tuple (0 = inputs_embeds after the vision overwrite; i = output of layer i-1; last = "
               "model.norm(output of the last layer)); K4 takes hidden_states[-2] = raw output of layer "
               "num_layers-2. model.layers.N.self_attn.rotary_emb.in.0/.in.1 are q/k (B,H,L,hd) BEFORE RoPE, "
               ".out.0/.out.1 AFTER RoPE (kv heads not yet expanded for GQA).")
TOL_LLM = {"default": "max|x-ref| <= 1e-5 * max|ref| per tensor (fp32 CPU, small sizes); the mean over 66 rows and "
                      "softmax over <= 133 keys add no systematic error",
           "preprocess.*": "<= 1e-6 absolute: bilinear resize of [0,1]-scaled, normalised fp32 values (exact "
                           "formulas; differences only from the order of fp32 operations)"}


def _pipeline(model, tokenizer):
    """A K4 Video2AudioPipeline object without running __init__ (which downloads the real models); only the
    attributes its extract_* / __prepare_inputs__ methods read are set."""
    from kandinsky4_video2audio.video2audio_pipe import Video2AudioPipeline
    pipe = object.__new__(Video2AudioPipeline)
    pipe.multimodal = model
    pipe.tokenizer = tokenizer
    # __prepare_inputs__ moves tensors to self.unet.device; nothing else of the UNet is touched by extract_*
    pipe.unet = types.SimpleNamespace(device=torch.device("cpu"), dtype=torch.float32)
    pipe._execution_device = torch.device("cpu")
    return pipe


class _RecordingCompose:
    """Replaces torchvision.transforms.Compose inside modeling_cogvlm during build_conversation_input_ids: applies
    the same transforms in the same order, recording the output of the stages listed in `keep`."""

    NAMES = ["preprocess.div255", "preprocess.normalize_video", "preprocess.short_side_scale",
             "preprocess.center_crop_video"]

    def __init__(self, store, keep, shapes):
        self.store, self.keep, self.shapes = store, keep, shapes

    def __call__(self, transforms):
        rec = self

        def run(x):
            for i, t in enumerate(transforms):
                x = t(x)
                name = rec.NAMES[i] if i < len(rec.NAMES) else f"preprocess.{i}"
                rec.shapes[name] = list(x.shape)
                if name in rec.keep:
                    rec.store.add(name + ".out", x)
            return x

        return run


def _with_preprocess_recording(ns, store, keep, shapes):
    class _Ctx:
        def __enter__(self):
            self.orig = ns.modeling.transforms
            ns.modeling.transforms = types.SimpleNamespace(Compose=_RecordingCompose(store, keep, shapes))
            return self

        def __exit__(self, *exc):
            ns.modeling.transforms = self.orig
            return False

    return _Ctx()


def _video(shape, seed):
    """Smooth gradients + noise, uint8: exercises the interpolation with non-trivial neighbours."""
    g = torch.Generator().manual_seed(seed)
    c, t, h, w = shape
    yy = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xx = torch.linspace(0, 1, w).view(1, 1, 1, w)
    base = 255 * (0.5 + 0.25 * torch.sin(6.0 * xx + 4.0 * yy + torch.arange(c * t).view(c, t, 1, 1)))
    noise = 60 * torch.rand((c, t, h, w), generator=g) - 30
    return (base + noise).clamp(0, 255).to(torch.uint8)


def _base_manifest_notes():
    return [FP32_NOTE, TORCH1_NOTE, ROTARY_NOTE, VISUAL_NOTE, VOCAB_NOTE, INIT_NOTE, NAMING_NOTE]


# ------------------------------------------------------------------------------------------------------ cases

def case_preprocess(out):
    ns = cogvlm.install()
    store = TensorStore()
    io = {}
    shapes_all = {}
    cfg = cogvlm.tiny_config_dict()
    fake_self = types.SimpleNamespace(config=types.SimpleNamespace(vision_config=cfg["vision_config"],
                                                                    template_version="base"))
    videos = {"a": ((3, 1, 50, 70), 11), "b": ((3, 1, 232, 226), 12)}
    for key, (shape, seed) in videos.items():
        video = _video(shape, seed)
        tok = cogvlm.FakeTokenizer({"": []})
        shapes = {}
        sub = TensorStore()
        keep = {"preprocess.normalize_video"} if key == "a" else set()
        with _with_preprocess_recording(ns, sub, keep, shapes):
            # the ORIGINAL method, called with a stand-in `self` that only carries the config it reads
            inputs = ns.modeling.CogVLMVideoForCausalLM.build_conversation_input_ids(
                fake_self, tok, query="", images=[video], history=[], template_version="base")
        frames = inputs["images"][0]
        io[f"{key}.video"] = video
        io[f"{key}.frames"] = frames
        for n in sub.order:
            store.add(f"{key}.{n}", sub.get(n))
        shapes_all[key] = {"input": list(shape), **shapes, "output": list(frames.shape)}
    notes = [
        "io '<case>.video' uint8 (3,T,H,W) -> '<case>.frames' float32 (T,3,224,224) = "
        "build_conversation_input_ids(...)['images'][0] (K4 then casts it to multimodal.dtype: bf16 in the real "
        "pipeline, fp32 here).",
        "Transform (remote code): Lambda(x/255.0) -> NormalizeVideo(mean=(0.48145466,0.4578275,0.40821073), "
        "std=(0.26862954,0.26130258,0.27577711)): (x - mean[c]) / std[c] in fp32 (sub then div, not multiply) -> "
        "pytorchvideo ShortSideScale(224): F.interpolate(bilinear, align_corners=False, no antialias) of the "
        "(C,T,H,W) tensor (C acts as batch, T as channels) to short side 224, long side floor(long/short*224) -> "
        "CenterCropVideo(224): top = int(round((h-224)/2)), left = int(round((w-224)/2)) (Python round: half to "
        "even) -> transpose(0,1).",
        "case a: 50x70 (landscape, upscale) -> 224x313, crop left round(44.5) = 44; case b: 232x226 (portrait, "
        "slight upscale) -> 229x224, crop top round(2.5) = 2 (half-up rounding would give 45 and 3). Stage shapes in manifest 'stage_shapes'.",
        "activations: 'a.preprocess.normalize_video.out' (C,T,H,W) after Lambda+NormalizeVideo (case a only; the "
        "resize output itself is not stored: size; frames = transpose of a crop of it).",
        "The method is called unbound with a stand-in self that only carries the config it reads "
        "(vision_config['image_size']=224, template_version); the tokenizer is the fake one (query '' -> no ids).",
    ]
    return bundle.write_bundle(
        out, "cogvlm-tiny-preprocess", component="cogvlm2.preprocess", case="build_conversation_input_ids video "
        "transform, 2 videos", config={"vision_config": {"image_size": 224}, "template_version": "base"},
        weights={}, io=io, store=store, seed=SEED, sizes={"a": list(videos["a"][0]), "b": list(videos["b"][0])},
        command=bundle.canonical_command(SCRIPT, [("--case", "preprocess")]),
        tolerance_hints={"frames": TOL_LLM["preprocess.*"]}, notes=notes,
        extra={"stage_shapes": shapes_all})


def _run_and_record(model, pipe, fn, store, ns):
    """Run `fn(pipe)` under per-module recording of the whole CogVLMVideoForCausalLM."""
    # lm_head (logits) is not used by K4 and not recorded (size); its weight is in weights.safetensors
    with Recorder(model, store=store, include=lambda path, m: not path.startswith("lm_head")
                  and not isinstance(m, DEFAULT_SKIP_TYPES)), \
            patch_function(ns.modeling, "build_position_ids", store, "build_position_ids"), \
            patch_function(model.model, "_prepare_decoder_attention_mask", store,
                           "model._prepare_decoder_attention_mask"), \
            torch.no_grad():
        return fn(pipe)


def case_video(out):
    ns = cogvlm.install()
    model, cfg = cogvlm.build_tiny(SEED)
    tok = cogvlm.FakeTokenizer({"": []})
    pipe = _pipeline(model, tok)
    video = _video((3, 2, 40, 64), 21)
    store = TensorStore()
    shapes = {}
    keep = set()  # the preprocessed frames are stored once, as the vision tower's input 'model.vision.in.0'
    with _with_preprocess_recording(ns, store, keep, shapes):
        emb = _run_and_record(model, pipe, lambda p: p.extract_video_embedding(video), store, ns)
    io = {"video": video, "video_embedding": emb}
    T = video.shape[1]
    L = 1 + 66 * T
    notes = [
        "Call: Video2AudioPipeline.extract_video_embedding(video) (K4, unchanged): build_conversation_input_ids("
        "query='', images=[video], template_version='base') -> multimodal(input_ids, token_type_ids, "
        "attention_mask, images, output_hidden_states=True) -> hidden_states[-2][0, token_type_ids[0]==1] -> "
        "reshape (T, 66, hidden) -> mean(dim=1) = io 'video_embedding' (T, hidden).",
        f"Sequence: BOS + 66*T vision slots, no text (query ''), L = {L}. input_ids / token_type_ids / "
        "attention_mask as built by the remote code: 'model.in.input_ids', 'model.in.token_type_ids', "
        "'model.in.attention_mask'; position ids from build_position_ids: 'build_position_ids.out' (observed "
        "[0, 1, 2, 2, ..., 2, 3]: the whole 66*T block counts as ONE image, its first and last slots as boi/eoi); "
        "4-D additive causal mask: 'model._prepare_decoder_attention_mask.out' (1,1,L,L).",
        "Vision: preprocessed frames 'model.vision.in.0' (T,3,224,224) (same transform as bundle "
        "cogvlm-tiny-preprocess); per frame 257 tokens (cls + 16x16), 2 post-norm layers, conv 2x2 -> 8x8, "
        "GLU linear_proj, boi/eoi concat -> 'model.vision.out' (T, 66, hidden); rows written in order into the "
        "type-1 slots of the embeddings ('model.embed_tokens.out' before, 'model.layers.0.in.0' after the "
        "overwrite = 'model.out.hidden_states.0').",
    ] + _base_manifest_notes()
    return bundle.write_bundle(
        out, "cogvlm-tiny", component="cogvlm2-video", case="K4 extract_video_embedding, T=2 frames, 40x64 input",
        config=cfg, weights=cogvlm.state_dict(model), io=io, store=store, seed=SEED,
        sizes={"video": list(video.shape), "seq_len": L, "frames": T},
        command=bundle.canonical_command(SCRIPT, [("--case", "video")]),
        tolerance_hints=TOL_LLM, notes=notes,
        extra={"tokenizer": {"encode_calls": tok.calls, "pad_token_id_assignments": tok.pad_assignments,
                             "bos_token_id": tok.bos_token_id, "vision_slot_id": tok.pad_token_id},
               "preprocess_stage_shapes": shapes,
               "hidden_states_index_used": -2})


def case_text(out):
    ns = cogvlm.install()
    model, cfg = cogvlm.build_tiny(SEED)
    tok = cogvlm.FakeTokenizer({TEXT: TEXT_IDS})
    pipe = _pipeline(model, tok)
    store = TensorStore()
    emb = _run_and_record(model, pipe, lambda p: p.extract_text_embedding(TEXT), store, ns)
    io = {"text_ids": torch.tensor(TEXT_IDS, dtype=torch.int64), "text_embedding": emb}
    L = 1 + len(TEXT_IDS)
    notes = [
        "Call: Video2AudioPipeline.extract_text_embedding(text) (K4, unchanged, max_len=100): "
        "build_conversation_input_ids(query=text, images=[], template_version='base') -> input_ids = [BOS] + "
        "tokenizer.encode(text, add_special_tokens=False) (io 'text_ids' are the fixed ids the fake tokenizer "
        "returned) -> multimodal(..., output_hidden_states=True) -> hidden_states[-2][0, token_type_ids[0]==0] "
        f"({L} rows: BOS + text) -> zero rows appended up to 100 -> io 'text_embedding' (100, hidden).",
        "No images: the pure-language path (no vision tower call); position ids 0..L-1 ('build_position_ids.out'); "
        "causal mask 'model._prepare_decoder_attention_mask.out'.",
    ] + _base_manifest_notes()
    return bundle.write_bundle(
        out, "cogvlm-tiny-text", component="cogvlm2-video", case="K4 extract_text_embedding, 7 text ids",
        config=cfg, weights=cogvlm.state_dict(model), io=io, store=store, seed=SEED,
        sizes={"seq_len": L, "max_len": 100},
        command=bundle.canonical_command(SCRIPT, [("--case", "text")]),
        tolerance_hints=TOL_LLM, notes=notes,
        extra={"tokenizer": {"encode_calls": tok.calls, "ids": TEXT_IDS, "bos_token_id": tok.bos_token_id},
               "hidden_states_index_used": -2})


CASES = {"preprocess": case_preprocess, "video": case_video, "text": case_text}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=list(CASES) + ["all"], default="all")
    ap.add_argument("--out", default="reference-tests/bundles")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for name in (CASES if a.case == "all" else [a.case]):
        CASES[name](a.out)


if __name__ == "__main__":
    main()
