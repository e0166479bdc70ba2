#!/usr/bin/python3
"""Golden bundles `e2e-tiny`, `e2e-tiny-b`: the ORIGINAL Kandinsky-4 V2A pipeline end to end with tiny components.

    /usr/bin/python3 reference-tests/dump_e2e.py --out reference-tests/bundles              (both cases)
    /usr/bin/python3 reference-tests/dump_e2e.py --case e2e-tiny-b --out reference-tests/bundles

What runs (all upstream code; only I/O and model loading are replaced):
  video   synthetic RGB uint8 video (numpy) given to K4 utils.load_video(video, fps, num_frames, max_duration_sec=12)
          exactly as K4's README does with torchvision.io.read_video's output
          e2e-tiny:   8 frames = 1 s at 8 fps, 32x48, num_frames 3 -> clip (3,3,32,48), duration_sec 1
          e2e-tiny-b: 10 frames at 6 fps (1 s kept), 40x56, num_frames 4 -> clip (3,4,40,56), duration_sec 1
  pipe    Video2AudioPipeline.__init__ (K4) with its from_pretrained loaders returning the tiny models below, then
          pipe(clip, prompt, negative_prompt=..., height=H, duration_sec=1, num_inference_steps=50, guidance_scale=8,
          latents=<recorded>)[0]  -> PIL spectrogram image H x 96 (H = 512; e2e-tiny-b: 128)
  audio   K4 create_video's first steps: Image.fromarray(np.array(image)) -> utils.image_to_audio(image, -30.0,
          device="cpu") (riffusion SpectrogramImageConverter, apply_filters, set_to_target_level(-30)); the mp3 export
          is captured instead of written. image_to_audio takes riffusion's SpectrogramParams from the image's EXIF,
          else the defaults: e2e-tiny has none (the real defaults), e2e-tiny-b carries 128 mels, a 50 ms window and
          a 100 ms FFT (n_fft 4410), 0-8 kHz, written with riffusion's own SpectrogramParams.to_exif()
  models  tiny CogVLM2 (v2aref/cogvlm.py; e2e-tiny: same weights as bundle cogvlm-tiny), tiny K4 UNet (real block
          structure, 4096-wide processor layers replaced by LLM-hidden-wide ones), tiny AutoencoderKL (4 levels: x8),
          PNDM with the SD-1.x config (skip_prk_steps)
  noise   the reference's own noise of the chaotic stages: inverse mel, Griffin-Lim and what follows them are run
          again on the same input (the mel amplitudes and the recorded initial phases) in fp32 and fp64, and
          max|fp32 - fp64| / max|fp64| of the waveform and of each int16 result is recorded in the manifest
          ('reference_noise')
"""
import argparse
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from v2aref import env  # noqa: E402

env.setup()
env.install_import_stubs(env.K4_UTILS_STUBS)

import json  # noqa: E402

import numpy as np  # noqa: E402
import pydub  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402
from torch import nn  # noqa: E402
from PIL import Image  # noqa: E402

from diffusers import AutoencoderKL, PNDMScheduler  # noqa: E402
from kandinsky4_video2audio import utils as k4_utils  # noqa: E402
from kandinsky4_video2audio import video2audio_pipe as k4_pipe  # noqa: E402
from kandinsky4_video2audio.model.attention_processors import (  # noqa: E402
    PromptAttnProcessor2_0, VideoAttnProcessor2_0)
from kandinsky4_video2audio.model.unet import UNet2DConditionModel as K4UNet  # noqa: E402
from kandinsky4_video2audio.riffusion.spectrogram_params import SpectrogramParams  # noqa: E402
from kandinsky4_video2audio.riffusion.util import audio_util, image_util  # noqa: E402

from v2aref import bundle, cogvlm  # noqa: E402
from v2aref.record import TensorStore, patch_function  # noqa: E402
from dump_audio import LstsqInverseMelScale  # noqa: E402  (the reference-env section 6 substitution, shared)
from dump_pndm import SD1_CONFIG  # noqa: E402

# per case: seeds (weights, video, latents, Griffin-Lim), the video, the spectrogram height and the spectrogram
# parameters the image carries in its EXIF (None: no EXIF, riffusion's defaults)
CASES = {
    "e2e-tiny": dict(seed=2024, cogvlm_seed=1234,
                     video=dict(frames=8, fps=8.0, height=32, width=48, num_frames=3, max_duration_sec=12),
                     height=512, exif_params=None),
    "e2e-tiny-b": dict(seed=7, cogvlm_seed=77,
                       video=dict(frames=10, fps=6.0, height=40, width=56, num_frames=4, max_duration_sec=12),
                       height=128, exif_params=dict(num_frequencies=128, window_duration_ms=50,
                                                    padded_duration_ms=100, max_frequency=8000)),
}

PROMPT = "clean. clear. good quality."  # K4 README prompts; the fake tokenizer maps them to fixed tiny ids
NEGATIVE = "hissing noise. drumming rythm. saying. poor quality."
PROMPT_IDS = [31, 7, 142, 7, 99, 180, 7]
NEGATIVE_IDS = [201, 64, 7, 12, 77, 3, 7, 150, 7, 99, 180, 7]

PIPE_ARGS = dict(num_inference_steps=50, guidance_scale=8, output_type="pil")

# attention_head_dim is diffusers' (mis)name for the number of heads; head_dim = C/2 >= 4 keeps K4's get_posemb
# (log(10000)/(head_dim/2 - 1)) finite
UNET_TINY = dict(block_out_channels=(8, 8, 8, 16), layers_per_block=2, norm_num_groups=4, cross_attention_dim=16,
                 attention_head_dim=2)
VAE_TINY = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
                latent_channels=4, norm_num_groups=4, sample_size=512)


def build_unet(seed, embed_dim):
    """K4's UNet subclass, tiny; processor Linear layers of hard-coded width 4096 replaced by embed_dim-wide ones
    (processor code untouched); video_out (zero-initialised upstream) re-initialised (nn.Linear default init)."""
    torch.manual_seed(seed)
    unet = K4UNet(**UNET_TINY)
    for name, proc in unet.attn_processors.items():
        if isinstance(proc, VideoAttnProcessor2_0):
            c = proc.video_q.in_features
            proc.video_k = nn.Linear(embed_dim, c)
            proc.video_v = nn.Linear(embed_dim, c)
            proc.video_out = nn.Linear(c, c)
        elif isinstance(proc, PromptAttnProcessor2_0):
            proc.text_projection = nn.Linear(embed_dim, unet.config.cross_attention_dim)
        else:
            raise AssertionError(f"unexpected processor {type(proc)} at {name}")
    return unet.float().eval()


def build_vae(seed):
    torch.manual_seed(seed)
    vae = AutoencoderKL(**VAE_TINY).float().eval()
    # default init leaves the decoder output near 0 (grey image, little audio structure): scale conv_out so the
    # uint8 spectrogram spans the range (weights are arbitrary for a golden; this is part of the random init)
    with torch.no_grad():
        vae.decoder.conv_out.weight.mul_(3.0)
    return vae


def make_video(case):
    """(N,H,W,3) uint8 like torchvision.io.read_video: moving colour gradients + noise (numpy)."""
    rng = np.random.default_rng(case["seed"])
    n, h, w = case["video"]["frames"], case["video"]["height"], case["video"]["width"]
    t = np.arange(n)[:, None, None, None]
    y = np.arange(h)[None, :, None, None] / h
    x = np.arange(w)[None, None, :, None] / w
    c = np.arange(3)[None, None, None, :]
    base = 127.5 + 100.0 * np.sin(2 * np.pi * (x * (1 + c) + 0.5 * y - 0.1 * t) + c)
    v = base + rng.uniform(-25, 25, size=(n, h, w, 3))
    return torch.from_numpy(np.clip(np.round(v), 0, 255).astype(np.uint8))


class _Loader:
    """Stands in for a class whose from_pretrained(...) K4's __init__ calls: returns the prepared object and logs
    the call (the dtype/path arguments are ignored: goldens are fp32, nothing is downloaded)."""

    def __init__(self, obj, log, name):
        self.obj, self.log, self.name = obj, log, name

    def from_pretrained(self, *args, **kwargs):
        self.log.append({"loader": self.name, "args": [str(a) for a in args],
                         "kwargs": {k: str(v) for k, v in kwargs.items()}})
        return self.obj


# named intermediates -> activation names (manifest 'intermediates')
INTERMEDIATE = {
    "video_clip": "extract_video_embedding.in.images",
    "prompt_embeds": "_encode_conditions.out.0",
    "image_embeds": "_encode_conditions.out.1",
    "final_latents": "scheduler.step@50.out.0",
    "vae_in": "vae.decode.in.z",
    "mel": "spectrogram_from_image.out",
    "waveform": "audio_from_waveform.in.samples",
    "pcm": "audio_from_waveform.out",
    "pcm_filtered": "apply_filters.out",
}


def seg_samples(seg):
    return torch.from_numpy(np.array(seg.get_array_of_samples(), dtype=np.int16))


RAW_UNET_CALLS = (0, 1, 50)  # first, second (PNDM evaluates t=981 twice), last


def build_models(case):
    cog, cog_cfg = cogvlm.build_tiny(case["cogvlm_seed"])
    unet = build_unet(case["seed"] + 1, cog_cfg["hidden_size"])
    vae = build_vae(case["seed"] + 2)
    sched = PNDMScheduler(**SD1_CONFIG)
    return cog, cog_cfg, unet, vae, sched


def make_latents(unet, duration_sec, case):
    width = ((duration_sec * 100) // 32) * 32
    lat_shape = (1, unet.config.in_channels, case["height"] // 8, width // 8)
    return torch.randn(lat_shape, generator=torch.Generator().manual_seed(case["seed"] + 3))


def rel_to_max(a, ref):
    a = torch.as_tensor(np.asarray(a)).double()
    ref = torch.as_tensor(np.asarray(ref)).double()
    return float((a - ref).abs().max() / ref.abs().max())


def fp64_noise(inverse_mel, gl, mel, init_phase, sample_rate, recorded):
    """The reference's own fp32 rounding noise of the chaotic stages, inverse mel and Griffin-Lim: from the same
    input (`mel`, the image's mel amplitudes) and the same initial phases, the converter's least-squares inverse mel
    and torchaudio's griffinlim once in fp32 (it must reproduce the recorded waveform bit for bit) and once in fp64,
    then riffusion's audio_from_waveform, apply_filters and K4's set_to_target_level on each waveform.
    Returns {activation/io name: max|fp32 - fp64| / max|fp64|}."""
    def spectrogram(dtype):
        shape = mel.size()
        m = mel.to(dtype).view(-1, shape[-2], shape[-1])
        fb = inverse_mel.fb.to(dtype)
        sol = torch.linalg.lstsq(fb.transpose(-1, -2)[None], m, driver="gels").solution
        return torch.relu(sol).view(shape[:-2] + (fb.size(0), shape[-1]))

    def griffinlim(dtype, phase_dtype):
        orig_rand = torch.rand

        def injected(*size, **kw):
            return init_phase.to(phase_dtype).clone()
        torch.rand = injected
        try:
            return torchaudio.functional.griffinlim(
                spectrogram(dtype), gl.window.to(dtype), gl.n_fft, gl.hop_length, gl.win_length, gl.power, gl.n_iter,
                gl.momentum, gl.length, gl.rand_init)
        finally:
            torch.rand = orig_rand

    def chain(waveform):
        seg = audio_util.audio_from_waveform(samples=waveform.numpy(), sample_rate=sample_rate, normalize=True)
        pcm = seg_samples(seg)
        seg = audio_util.apply_filters(seg, compression=False)
        filtered = seg_samples(seg)
        target = seg_samples(k4_utils.set_to_target_level(seg, -30.0))
        return {"audio_from_waveform.in.samples": waveform, "audio_from_waveform.out": pcm,
                "apply_filters.out": filtered, "io:pcm_target": target}

    w32 = griffinlim(torch.float32, torch.complex64)
    assert torch.equal(w32, recorded["audio_from_waveform.in.samples"]), "fp32 re-run differs from the recording"
    r32 = chain(w32)
    for k in ("audio_from_waveform.out", "apply_filters.out", "io:pcm_target"):
        assert torch.equal(r32[k], recorded[k]), k
    r64 = chain(griffinlim(torch.float64, torch.complex128))
    return {k: rel_to_max(r32[k], r64[k]) for k in r32}


def run(cog, unet, vae, sched, video, latents, store, rand_store, case, init_phase=None):
    """The K4 run (pipeline construction, call, image -> audio) with function-boundary recording into `store`.
    Griffin-Lim's torch.rand: drawn after torch.manual_seed(seed + 4) and recorded into rand_store, or, when
    init_phase (complex) is given, replaced by it (bundle self-check). Then the fp32-vs-fp64 noise of the chaotic
    stages on the same input (fp64_noise)."""
    tok = cogvlm.FakeTokenizer({PROMPT: PROMPT_IDS, NEGATIVE: NEGATIVE_IDS, "": []})  # "" = the video passes

    # ---- pipeline construction: K4 __init__ with its loaders returning the tiny models
    load_log = []
    saved = {n: getattr(k4_pipe, n) for n in
             ("PNDMScheduler", "AutoencoderKL", "AutoTokenizer", "AutoModelForCausalLM", "UNet2DConditionModel")}
    k4_pipe.PNDMScheduler = _Loader(sched, load_log, "PNDMScheduler")
    k4_pipe.AutoencoderKL = _Loader(vae, load_log, "AutoencoderKL")
    k4_pipe.AutoTokenizer = _Loader(tok, load_log, "AutoTokenizer")
    k4_pipe.AutoModelForCausalLM = _Loader(cog, load_log, "AutoModelForCausalLM")
    k4_pipe.UNet2DConditionModel = _Loader(unet, load_log, "UNet2DConditionModel")
    try:
        pipe = k4_pipe.Video2AudioPipeline("tiny-random", torch_dtype=torch.float32, device="cpu")
    finally:
        for n, v in saved.items():
            setattr(k4_pipe, n, v)
    assert pipe.vae_scale_factor == 8

    # ---- inputs
    vid = case["video"]
    clip, video_complete, duration_sec = k4_utils.load_video(
        video, vid["fps"], num_frames=vid["num_frames"], max_duration_sec=vid["max_duration_sec"])
    width = ((duration_sec * 100) // 32) * 32

    # ---- the pipeline call, recorded at function boundaries
    unet_calls = []

    def unet_args(a, k):
        # the sample is cat([latents]*2) of the current latents (scheduler.step[@k].in.sample): not stored again
        return [("timestep", torch.as_tensor(a[1]))]

    def unet_out(r):
        # raw (uncond, cond) prediction stored for calls RAW_UNET_CALLS only (size); every call's CFG-combined
        # prediction is scheduler.step[@k].in.model_output
        unet_calls.append(1)
        return [("0", r[0])] if len(unet_calls) - 1 in RAW_UNET_CALLS else []

    def step_args(a, k):
        return [("model_output", a[0]), ("timestep", torch.as_tensor(a[1])), ("sample", a[2])]

    with torch.no_grad(), \
            patch_function(pipe, "extract_text_embedding", store, "extract_text_embedding",
                           record_args=lambda a, k: []), \
            patch_function(pipe, "extract_video_embedding", store, "extract_video_embedding",
                           record_args=lambda a, k: [("images", a[0])]), \
            patch_function(pipe, "_encode_conditions", store, "_encode_conditions", record_args=lambda a, k: []), \
            patch_function(pipe.unet, "forward", store, "unet", record_args=unet_args,
                           record_out=unet_out), \
            patch_function(pipe.scheduler, "step", store, "scheduler.step", record_args=step_args,
                           record_out=lambda r: [("0", r[0])]), \
            patch_function(pipe.vae, "decode", store, "vae.decode", record_args=lambda a, k: [("z", a[0])],
                           record_out=lambda r: []):  # float decoder output not stored (size), see notes
        images = pipe(clip, PROMPT, negative_prompt=NEGATIVE, height=case["height"], duration_sec=duration_sec,
                      latents=latents, **PIPE_ARGS)
    spectrogram = images[0]
    timesteps = pipe.scheduler.timesteps.clone()

    # ---- image -> audio as K4 create_video / image_to_audio do (mp3 export captured)
    image = Image.fromarray(np.array(spectrogram))
    image_u8 = torch.from_numpy(np.array(image))
    if case["exif_params"] is not None:
        exif = image.getexif()
        for tag, value in SpectrogramParams(**case["exif_params"]).to_exif().items():
            exif[tag] = value
    gl_input = {}
    exported = []
    exported_samples = []
    orig_converter_cls = k4_utils.SpectrogramImageConverter

    def converter_factory(params, device="cuda"):
        conv = orig_converter_cls(params=params, device=device)
        c = conv.converter
        lstsq = LstsqInverseMelScale(c.inverse_mel_scaler, store, False)

        def inverse_mel(mel):
            gl_input.update(mel=mel.clone(), inverse_mel=lstsq, gl=c.inverse_spectrogram_func)
            return lstsq(mel)
        c.inverse_mel_scaler = inverse_mel
        exported.append({"params": {k: getattr(params, k) for k in params.__dataclass_fields__}})
        return conv

    def fake_export(seg, out_f=None, format="mp3", **kw):  # noqa: A002 (pydub's name)
        exported.append({"path_given": "<uuid>.mp3", "format": format, "frame_rate": seg.frame_rate,
                         "channels": seg.channels, "sample_width": seg.sample_width})
        exported_samples.append(seg_samples(seg))
        return None

    torch.manual_seed(case["seed"] + 4)  # global generator: Griffin-Lim's torch.rand init phases (recorded)
    orig_export = pydub.AudioSegment.export
    orig_rand = torch.rand
    k4_utils.SpectrogramImageConverter = converter_factory
    pydub.AudioSegment.export = fake_export
    if init_phase is not None:
        def injected_rand(*size, **kw):
            assert tuple(size[0] if len(size) == 1 else size) == tuple(init_phase.shape), size
            assert kw.get("dtype") == init_phase.dtype, kw
            return init_phase.clone()
        torch.rand = injected_rand
    try:
        with patch_function(image_util, "spectrogram_from_image", store, "spectrogram_from_image",
                            record_args=lambda a, k: [], record_out=lambda r: [("", torch.from_numpy(r))]), \
                patch_function(torch, "rand", rand_store, "torch.rand"), \
                patch_function(audio_util, "audio_from_waveform", store, "audio_from_waveform",
                               record_args=lambda a, k: [("samples", torch.from_numpy(np.array(k["samples"])))],
                               record_out=lambda seg: [("", seg_samples(seg))]), \
                patch_function(audio_util, "apply_filters", store, "apply_filters",
                               record_out=lambda seg: [("", seg_samples(seg))]):
            k4_utils.image_to_audio(image, -30.0, device="cpu")
    finally:
        k4_utils.SpectrogramImageConverter = orig_converter_cls
        pydub.AudioSegment.export = orig_export
        torch.rand = orig_rand
    assert len(exported_samples) == 1
    phase = init_phase if init_phase is not None else rand_store.get(rand_store.order[0])
    if phase.dtype != torch.complex64:
        phase = torch.view_as_complex(phase.contiguous())
    recorded = {k: store.get(k) for k in ("audio_from_waveform.in.samples", "audio_from_waveform.out",
                                          "apply_filters.out")}
    recorded["io:pcm_target"] = exported_samples[0]
    noise = fp64_noise(gl_input["inverse_mel"], gl_input["gl"], gl_input["mel"], phase,
                       exported[0]["params"]["sample_rate"], recorded)
    return types.SimpleNamespace(image_u8=image_u8, pcm_target=exported_samples[0], timesteps=timesteps,
                                 load_log=load_log, exported=exported, tok=tok, clip=clip,
                                 duration_sec=duration_sec, width=width, noise=noise)


def dump(out, name):
    case = CASES[name]
    store = TensorStore()
    rand_store = TensorStore()
    cog, cog_cfg, unet, vae, sched = build_models(case)
    hidden = cog_cfg["hidden_size"]
    video = make_video(case)
    latents = make_latents(unet, 1, case)
    r = run(cog, unet, vae, sched, video, latents, store, rand_store, case)
    assert r.duration_sec == 1
    image_u8, timesteps, load_log, exported, tok, clip, duration_sec, width = (
        r.image_u8, r.timesteps, r.load_log, r.exported, r.tok, r.clip, r.duration_sec, r.width)
    lat_shape = tuple(latents.shape)
    (phase_name,) = rand_store.order
    init_phase = rand_store.get(phase_name)

    n_steps = len(timesteps)
    for act in INTERMEDIATE.values():
        assert act in store, act
    # io: what goes into the whole run (video, token ids, latents, Griffin-Lim init phases) and what comes out
    # (spectrogram image, exported samples). Intermediates are in activations under their record names (INTERMEDIATE).
    io = {
        "video": video,
        "prompt_ids": torch.tensor(PROMPT_IDS, dtype=torch.int64),
        "negative_prompt_ids": torch.tensor(NEGATIVE_IDS, dtype=torch.int64),
        "latents": latents,
        "timesteps": timesteps,
        "griffinlim.init_phase": init_phase,
        "image": image_u8,
        "pcm_target": r.pcm_target,
    }
    # the ~3.4 MB inverse-mel output and the float VAE output live in io / are not duplicated in activations
    config = {
        "cogvlm": cog_cfg,
        "unet": {**json.loads(unet.to_json_string()),
                 "v2a4j": {"k4_class": "kandinsky4_video2audio.model.unet.UNet2DConditionModel",
                           "video_embed_dim": hidden, "text_embed_dim": hidden,
                           "text_projection_out": unet.config.cross_attention_dim,
                           "real_values": {"video_embed_dim": 4096, "text_embed_dim": 4096,
                                           "text_projection_out": 768}}},
        "vae": json.loads(vae.to_json_string()),
        "scheduler": json.loads(sched.to_json_string()),
        "spectrogram_params": exported[0]["params"],
        "pipeline": {"prompt": PROMPT, "negative_prompt": NEGATIVE, "height": case["height"],
                     "duration_sec": duration_sec, "width": width, **PIPE_ARGS, "latents": "io 'latents'",
                     "load_video": {k: case["video"][k] for k in ("fps", "num_frames", "max_duration_sec")},
                     "image_to_audio": {"target_dBFS": -30.0, "device": "cpu"}},
    }
    weights = {}
    for prefix, sd in (("multimodal.", cogvlm.state_dict(cog)), ("unet.", unet.state_dict()),
                       ("vae.", vae.state_dict())):
        for k, v in sd.items():
            weights[prefix + k] = v
    notes = [
        "Everything fp32 on CPU. The real K4 pipeline runs CogVLM2 and the UNet in bf16 and the VAE in fp16 "
        "(from_pretrained torch_dtype); here the loaders return fp32 models, so K4's own casts (.to(unet.dtype), "
        ".to(vae.dtype), .to(multimodal.dtype)) are fp32 no-ops; no cast was bypassed.",
        "Replaced (I/O and model loading only): (1) video2audio_pipe's PNDMScheduler / AutoencoderKL / AutoTokenizer "
        "/ AutoModelForCausalLM / UNet2DConditionModel names during Video2AudioPipeline.__init__ only, by objects "
        "whose from_pretrained returns the tiny models (manifest 'loaders'); __init__ itself runs unchanged; "
        "(2) the tokenizer: fixed ids per text (io prompt_ids / negative_prompt_ids; BOS 256 is prepended by the "
        "remote code; vision-slot id 258 instead of 128002, see bundle cogvlm-tiny notes); (3) pydub "
        "AudioSegment.export (the mp3 write) captures the final segment instead (io pcm_target); (4) video reading: "
        "a numpy-made (N,H,W,3) uint8 tensor (read_video's format) goes to K4 load_video; (5) "
        "k4_utils.SpectrogramImageConverter wrapped so the converter's InverseMelScale is the torchaudio>=2.1 "
        "lstsq(gels)+relu on the module's own filterbank (reference-env section 6; dump_audio.LstsqInverseMelScale).",
        "CogVLM2 torch-1.13 adaptations as in bundle cogvlm-tiny (rotary kernel in torch, vision attention layout).",
        "Order of the 4 CogVLM2 passes (K4 _encode_conditions): extract_text_embedding(prompt) -> "
        "extract_video_embedding(clip) -> extract_text_embedding(negative) -> extract_video_embedding(clip*0). "
        "Activations extract_text_embedding.out (prompt), extract_text_embedding@1.out (negative), "
        "extract_video_embedding.out (real clip), extract_video_embedding@1.out (black clip; its .in.images is the "
        "all-zero uint8 clip); prompt_embeds = [negative; prompt] (2,100,H), image_embeds = [black; real] (2,T,H) "
        "(= _encode_conditions.out.0 / .out.1).",
        f"Denoising: {n_steps} UNet evaluations (PNDM skip_prk_steps: timesteps io 'timesteps', 981 twice at the "
        "start). Call k (k = 0..50; '@k' suffix for k >= 1): the UNet sample is cat([latents]*2) of the current "
        "latents scheduler.step[@k].in.sample (scale_model_input is the identity for PNDM; not stored again), "
        "unet[@k].in.timestep; unet.out.0 / unet@1.out.0 / unet@50.out.0 = raw noise prediction (batch 2: "
        "[uncond, cond]) of calls 0, 1 and 50 only (size); for every call the pipeline's noise_pred = uncond + 8*(cond - uncond) = "
        "scheduler.step[@k].in.model_output, and scheduler.step[@k].out.0 = next latents. Encoder inputs of every "
        "UNet call are prompt_embeds / image_embeds (not repeated). No UNet submodule is recorded (bundles unet-tiny*).",
        "VAE: vae.decode.in.z = final latents / 0.18215; the float decoder output (1,3,512,96) is not stored (size; "
        "bundles vae-* cover the decoder), only its postprocessed image: "
        "VaeImageProcessor.postprocess(do_denormalize=True, 'pil'): (x/2+0.5).clamp(0,1) -> "
        "numpy (x*255).round() -> uint8 = io 'image' (512,96,3) (np.array of the returned PIL image).",
        "Audio (real SpectrogramParams: n_fft 17640, hop 441, win 4410, 512 mels, 0-10 kHz, GL 32 iters; EXIF absent "
        "-> defaults, K4 prints a warning): spectrogram_from_image.out = mel (1,512,96); the inverse-mel output "
        "(1,8821,96) is NOT stored (3.4 MB; bundle audio-riffusion covers that step); io griffinlim.init_phase = "
        "the torch.rand complex64 init (view_as_real, [...,2]) drawn inside griffinlim after "
        "torch.manual_seed(seed+4); audio_from_waveform.in.samples = Griffin-Lim output waveform (before its "
        "in-place scaling); audio_from_waveform.out = int16 after normalisation; apply_filters.out = after "
        "apply_filters (-12 dBFS, normalize headroom 0.1); io pcm_target = after set_to_target_level(-30) = the "
        "samples K4 exports to mp3 (mp3 encoding and moviepy muxing not covered).",
        "io holds only the run's inputs (video, token ids, latents, Griffin-Lim init phases; timesteps for "
        "convenience) and outputs (image, pcm_target); manifest 'intermediates' maps names (prompt_embeds, "
        "image_embeds, final_latents, vae_in, mel, waveform, pcm, ...) to their activation names.",
        "Weights: 'multimodal.' + CogVLM2 checkpoint names (identical to bundle cogvlm-tiny's weights), 'unet.' + "
        "diffusers UNet names (processor layers: ...attn1.processor.video_{q,k,v,out}, "
        "...attn2.processor.text_projection), 'vae.' + diffusers AutoencoderKL names. UNet: diffusers default init "
        "under torch.manual_seed (processors rounded through fp16 by unet.py .half(), then .float(); the replaced "
        "video_k/video_v/video_out/text_projection are fresh fp32 nn.Linear); VAE: default init with "
        "decoder.conv_out.weight x 3.",
    ]
    sp = exported[0]["params"]
    notes[-4] = (
        f"VAE: vae.decode.in.z = final latents / 0.18215; the float decoder output (1,3,{case['height']},96) is not "
        "stored (size; bundles vae-* cover the decoder), only its postprocessed image: "
        "VaeImageProcessor.postprocess(do_denormalize=True, 'pil'): (x/2+0.5).clamp(0,1) -> "
        f"numpy (x*255).round() -> uint8 = io 'image' ({case['height']},96,3) (np.array of the returned PIL image).")
    n_stft = int(sp["padded_duration_ms"] / 1000.0 * sp["sample_rate"]) // 2 + 1
    notes[-3] = (
        f"Audio (SpectrogramParams {'from the image EXIF' if case['exif_params'] else 'defaults: EXIF absent, K4 prints a warning'}"
        f": config 'spectrogram_params'): spectrogram_from_image.out = mel (1,{sp['num_frequencies']},96); the "
        f"inverse-mel output (1,{n_stft},96) is NOT stored (bundles audio-* cover that step); io griffinlim.init_phase "
        "= the torch.rand complex64 init (view_as_real, [...,2]) drawn inside griffinlim after "
        "torch.manual_seed(seed+4); audio_from_waveform.in.samples = Griffin-Lim output waveform (before its "
        "in-place scaling); audio_from_waveform.out = int16 after normalisation; apply_filters.out = after "
        "apply_filters (-12 dBFS, normalize headroom 0.1); io pcm_target = after set_to_target_level(-30) = the "
        "samples K4 exports to mp3 (mp3 encoding and moviepy muxing not covered).")
    if case["cogvlm_seed"] != CASES["e2e-tiny"]["cogvlm_seed"]:
        notes[-1] = notes[-1].replace("(identical to bundle cogvlm-tiny's weights)", "(other weights than bundle "
                                      "cogvlm-tiny: seed " + str(case["cogvlm_seed"]) + ")")
    notes.append(
        "reference_noise (manifest): for each tensor after Griffin-Lim, max|fp32 - fp64| / max|fp64| between "
        "the converter's lstsq inverse mel + torchaudio's griffinlim run in fp32 (bit-identical to the recording) "
        "and in fp64 on the same input (the mel amplitudes, the recorded initial phases as complex128), each "
        "followed by riffusion's audio_from_waveform, apply_filters and K4's set_to_target_level: the reference's "
        "own rounding noise of these chaotic stages on this input.")
    n_act = len(store.tensors)
    return bundle.write_bundle(
        out, name, component="pipeline/K4 Video2AudioPipeline end to end",
        case=f"tiny components, 1 s video, {case['height']}-row spectrogram",
        config=config, weights=weights, io=io, store=store, seed=case["seed"],
        sizes={"video": list(video.shape), "clip": list(clip.shape), "latents": list(lat_shape),
               "image": list(image_u8.shape), "unet_evaluations": n_steps, "samples": int(io["pcm_target"].numel()),
               "activation_tensors": n_act},
        command=bundle.canonical_command(__file__, [("--case", name)]),
        tolerance_hints={
            "prompt_embeds/image_embeds": "1e-5 relative to max|ref| (see cogvlm-tiny)",
            "unet.out.0 (per call, fed the golden sample)": "1e-4 relative to max|ref|",
            "chained latents over 51 steps": "start ~1e-5 relative, may grow to ~1e-3 by the last step (CFG scale 8 "
                                             "amplifies differences); compare each step fed the golden latents",
            "image": "uint8, fed the golden vae.decode.in.z: |diff| <= 1 (values near a .5 rounding boundary of "
                     "x*255 may flip); exact for most pixels",
            "audio": "see bundle audio-riffusion (same code); after Griffin-Lim: a multiple of reference_noise",
        },
        notes=notes,
        extra={"loaders": load_log, "tokenizer": {"encode_calls": tok.calls, "bos_token_id": tok.bos_token_id,
                                                  "vision_slot_id": tok.pad_token_id,
                                                  "pad_token_id_assignments": tok.pad_assignments},
               "intermediates": INTERMEDIATE,
               "export": exported[1:], "io_complex_as_real": ["griffinlim.init_phase"],
               "cogvlm_seed": case["cogvlm_seed"], "reference_noise": r.noise})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=list(CASES) + ["all"], default="all")
    ap.add_argument("--out", default=bundle.DEFAULT_OUT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in (list(CASES) if a.case == "all" else [a.case]):
        dump(a.out, name)


if __name__ == "__main__":
    main()
