#!/usr/bin/python3
"""Golden bundles for the spectrogram-image -> audio path of K4 (riffusion copy + torchaudio + pydub).

The upstream functions are called as K4's `utils.image_to_audio` does (minus the mp3 export):
  converter = SpectrogramImageConverter(params, device="cpu")
  segment = converter.audio_from_spectrogram_image(pil_image)     # apply_filters=True, max_value=30e6
  segment = utils.set_to_target_level(segment, -30.0)
with ONE substitution (reference-env.md section 6): torchaudio 0.13's InverseMelScale is an SGD solve, so the
converter's `inverse_mel_scaler` is replaced by the torchaudio >= 2.1 computation
relu(torch.linalg.lstsq(fb.T[None], mel, driver="gels").solution), using the 0.13 module's own `fb` buffer.

Cases:
  audio-tiny       small SpectrogramParams (sr 2205, n_fft 882 = 2*3^2*7^2, hop 44, win 220, 32 mels,
                   f_max 1000 Hz), image 32 x 20; records the filterbank, the raw lstsq solution, every
                   Griffin-Lim istft and the first two and last stft.
  audio-riffusion  the real defaults (sr 44100, n_fft 17640, hop 441, win 4410, 512 mels, f_max 10000), image
                   512 x 24; records key tensors only (filterbank row/column sums instead of the 18 MB filterbank).

io.safetensors:
  image [H,W,3] u8 (RGB, the PIL image given to the converter; only R is used), mel [1,H,W] f32
  (spectrogram_from_image), griffinlim.init_phase [1,F,W,2] f32 (torch.rand complex64 drawn inside
  torchaudio.functional.griffinlim, as (real, imag)), spectrogram [1,F,W] (inverse mel output = Griffin-Lim
  input), waveform [1,N] f32 (Griffin-Lim output), pcm [N] i16 (audio_from_waveform, normalize=True),
  pcm_filtered [N] i16 (apply_filters: gain to -12 dBFS, then normalize headroom 0.1 dB),
  pcm_target [N] i16 (K4 set_to_target_level(-30)); F = n_fft//2+1, N = hop*(W-1).

manifest reference_noise: the reference's own rounding noise from Griffin-Lim on. torchaudio's griffinlim runs again
on the same input (io spectrogram) with the same initial phases in fp32 (it must reproduce every recorded tensor bit
for bit) and in fp64, each followed by audio_from_waveform, apply_filters and set_to_target_level under the same
recording; for every tensor recorded from there on, max|fp32 - fp64| / max|fp64|. reference_noise_from_mel: the
same for the waveform when the least-squares inverse mel runs too, from io mel.
"""
import argparse
import io as _io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()
env.install_import_stubs(env.K4_UTILS_STUBS)

import numpy as np  # noqa: E402
import pydub  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402
from PIL import Image  # noqa: E402

from kandinsky4_video2audio import utils as k4_utils  # noqa: E402
from kandinsky4_video2audio.riffusion.spectrogram_image_converter import SpectrogramImageConverter  # noqa: E402
from kandinsky4_video2audio.riffusion.spectrogram_params import SpectrogramParams  # noqa: E402
from kandinsky4_video2audio.riffusion.util import audio_util, image_util  # noqa: E402

from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import Recorder, TensorStore, patch_function  # noqa: E402

CASES = {
    "audio-tiny": dict(
        params=dict(sample_rate=2205, step_size_ms=20, window_duration_ms=100, padded_duration_ms=400,
                    num_frequencies=32, min_frequency=0, max_frequency=1000),
        width=20, full=True),
    "audio-riffusion": dict(params={}, width=24, full=False),
}


class LstsqInverseMelScale(torch.nn.Module):
    """torchaudio >= 2.1 InverseMelScale.forward (driver "gels"), on the torchaudio 0.13 module's filterbank."""

    def __init__(self, orig, store, full):
        super().__init__()
        self.register_buffer("fb", orig.fb)  # [n_stft, n_mels]
        self.n_mels = orig.n_mels
        self.store = store
        self.full = full

    def forward(self, melspec):
        shape = melspec.size()
        melspec = melspec.view(-1, shape[-2], shape[-1])
        freq, _ = self.fb.size()
        sol = torch.linalg.lstsq(self.fb.transpose(-1, -2)[None], melspec, driver="gels").solution
        if self.full:
            self.store.add("inverse_mel_scaler.lstsq_solution", sol)
        specgram = torch.relu(sol)
        return specgram.view(shape[:-2] + (freq, shape[-1]))


def make_image(h, w, seed):
    """uint8 RGB image: R = seeded pattern (smooth bands + noise, includes 0 and 255), G/B other noise."""
    g = torch.Generator().manual_seed(seed)
    yy = torch.arange(h, dtype=torch.float64)[:, None]
    xx = torch.arange(w, dtype=torch.float64)[None, :]
    smooth = 128 + 100 * torch.sin(yy * 0.37 + xx * 0.21) * torch.cos(xx * 0.13 - yy * 0.05)
    noise = torch.randint(-40, 41, (h, w), generator=g).double()
    r = (smooth + noise).round().clamp(0, 255)
    r[0, 0], r[-1, -1], r[h // 2, w // 2] = 0, 255, 0
    gb = torch.randint(0, 256, (h, w, 2), generator=g).double()
    return torch.cat([r[..., None], gb], dim=-1).to(torch.uint8)


def seg_samples(seg):
    return torch.from_numpy(np.array(seg.get_array_of_samples(), dtype=np.int16))


def rel_to_max(a, ref):
    a, ref = torch.as_tensor(a), torch.as_tensor(ref)
    if a.is_complex():
        a, ref = torch.view_as_real(a), torch.view_as_real(ref)
    a, ref = a.double(), ref.double()
    peak = float(ref.abs().max())
    err = float((a - ref).abs().max())
    return err / peak if peak > 0 else (0.0 if err == 0 else float("inf"))


def record_audio_chain(store, stft_sel, gain_args, seg_out):
    """The patches that record Griffin-Lim's iterations and the int16 steps after it (shared by the reference run and
    the fp32/fp64 noise runs, so that both record under the same names)."""
    return [patch_function(torch, "istft", store, "inverse_spectrogram_func.torch.istft"),
            patch_function(torch, "stft", store, "inverse_spectrogram_func.torch.stft", select=stft_sel),
            patch_function(audio_util, "audio_from_waveform", store, "audio_from_waveform",
                           record_args=lambda a, k: [("samples", torch.from_numpy(np.array(k["samples"])))],
                           record_out=seg_out),
            patch_function(audio_util, "apply_filters", store, "apply_filters", record_out=seg_out),
            patch_function(pydub.AudioSegment, "apply_gain", store, "AudioSegment.apply_gain",
                           record_args=gain_args, record_out=seg_out)]


def reference_noise(gl, spectrogram, init_phase, sample_rate, recorded, io, chain):
    """max|fp32 - fp64| / max|fp64| of every tensor from Griffin-Lim on, rerun on the same spectrogram and phases."""
    import contextlib

    def run(dtype, phase_dtype):
        store = TensorStore()
        orig_rand = torch.rand
        torch.rand = lambda *size, **kw: init_phase.to(phase_dtype).clone()
        try:
            with contextlib.ExitStack() as stack:
                for p in chain(store):
                    stack.enter_context(p)
                waveform = torchaudio.functional.griffinlim(
                    spectrogram.to(dtype), gl.window.to(dtype), gl.n_fft, gl.hop_length, gl.win_length, gl.power,
                    gl.n_iter, gl.momentum, gl.length, gl.rand_init)
                # audio_from_waveform scales its samples in place, as riffusion lets it scale the GL output
                segment = audio_util.audio_from_waveform(samples=waveform.clone().numpy(), sample_rate=sample_rate,
                                                         normalize=True)
                segment = audio_util.apply_filters(segment, compression=False)
                filtered = seg_samples(segment)
                target = seg_samples(k4_utils.set_to_target_level(segment, -30.0))
        finally:
            torch.rand = orig_rand
        out = {n: store.get(n) for n in store.order}
        out.update({"io:waveform": waveform, "io:pcm": store.get("audio_from_waveform.out"),
                    "io:pcm_filtered": filtered, "io:pcm_target": target})
        return out

    r32 = run(torch.float32, torch.complex64)
    for name, t in r32.items():
        ref = io[name[3:]] if name.startswith("io:") else recorded.get(name)
        assert ref is not None and torch.equal(t, ref), f"fp32 rerun differs from the recording: {name}"
    r64 = run(torch.float64, torch.complex128)
    return {name: rel_to_max(r32[name], r64[name]) for name in r32}


def noise_from_mel(inv, gl, mel, init_phase, waveform):
    """max|fp32 - fp64| / max|fp64| of the waveform from the mel: lstsq inverse mel + griffinlim in each precision."""
    outs = {}
    for dtype, phase_dtype in ((torch.float32, torch.complex64), (torch.float64, torch.complex128)):
        sol = torch.linalg.lstsq(inv.fb.to(dtype).transpose(-1, -2)[None], mel.to(dtype), driver="gels").solution
        orig_rand = torch.rand
        torch.rand = lambda *size, **kw: init_phase.to(phase_dtype).clone()
        try:
            outs[dtype] = torchaudio.functional.griffinlim(
                torch.relu(sol), gl.window.to(dtype), gl.n_fft, gl.hop_length, gl.win_length, gl.power, gl.n_iter,
                gl.momentum, gl.length, gl.rand_init)
        finally:
            torch.rand = orig_rand
    assert torch.equal(outs[torch.float32], waveform), "fp32 rerun from the mel differs from the recording"
    return {"io:waveform": rel_to_max(outs[torch.float32], outs[torch.float64])}


def dump(case, seed, width, out):
    spec = CASES[case]
    params = SpectrogramParams(**spec["params"])
    full = spec["full"]
    w = width if width is not None else spec["width"]
    h = params.num_frequencies
    store = TensorStore()
    rand_store = TensorStore()

    img_t = make_image(h, w, seed)
    pil = Image.fromarray(img_t.numpy(), mode="RGB")

    converter = SpectrogramImageConverter(params=params, device="cpu")
    conv = converter.converter
    inv = LstsqInverseMelScale(conv.inverse_mel_scaler, store, full)
    conv.inverse_mel_scaler = inv
    gl = conv.inverse_spectrogram_func
    n_iter = gl.n_iter

    fb = inv.fb
    if full:
        store.add("inverse_mel_scaler.fb", fb)
    else:
        store.add("inverse_mel_scaler.fb_rowsum", fb.sum(dim=1))
        store.add("inverse_mel_scaler.fb_colsum", fb.sum(dim=0))
    store.add("inverse_spectrogram_func.window", gl.window)

    torch.manual_seed(seed)

    def gain_args(args, kwargs):
        seg, gain = args[0], args[1]
        return [("volume_change", torch.tensor(float(gain), dtype=torch.float64)),
                ("rms", torch.tensor(seg.rms, dtype=torch.int64)),
                ("dBFS", torch.tensor(seg.dBFS, dtype=torch.float64)),
                ("max", torch.tensor(seg.max, dtype=torch.int64)),
                ("samples", seg_samples(seg))]

    def seg_out(seg):
        return [("", seg_samples(seg))]

    stft_sel = (lambda k: k in (0, 1, n_iter - 1)) if full else (lambda k: False)
    chain = [*record_audio_chain(store, stft_sel, gain_args, seg_out)]
    with patch_function(image_util, "spectrogram_from_image", store, "spectrogram_from_image",
                        record_args=lambda a, k: [], record_out=lambda r: [("", torch.from_numpy(r))]), \
            Recorder(inv, root=True, root_name="inverse_mel_scaler", store=store, inputs=True), \
            Recorder(gl, root=True, root_name="inverse_spectrogram_func", store=store, inputs=False), \
            patch_function(torch, "rand", rand_store, "torch.rand"), \
            chain[0], chain[1], chain[2], chain[3], chain[4]:
        segment = converter.audio_from_spectrogram_image(pil)
        filtered = seg_samples(segment)
        segment = k4_utils.set_to_target_level(segment, -30.0)
        target = seg_samples(segment)

    assert segment.frame_rate == params.sample_rate and segment.sample_width == 2 and segment.channels == 1
    (phase_name,) = rand_store.order
    mel = store.get("spectrogram_from_image.out")
    io = {
        "image": img_t,
        "mel": mel,
        "griffinlim.init_phase": rand_store.get(phase_name),
        "spectrogram": store.get("inverse_mel_scaler.out"),
        "waveform": store.get("inverse_spectrogram_func.out"),
        "pcm": store.get("audio_from_waveform.out"),
        "pcm_filtered": filtered,
        "pcm_target": target,
    }
    recorded = {n: store.get(n) for n in store.order}
    phase = io["griffinlim.init_phase"]
    phase = phase if phase.is_complex() else torch.view_as_complex(phase.contiguous())
    noise = reference_noise(gl, io["spectrogram"], phase,
                            params.sample_rate, recorded, io,
                            lambda st2: record_audio_chain(st2, stft_sel, gain_args, seg_out))
    noise_mel = noise_from_mel(inv, gl, io["mel"], phase, io["waveform"])
    n = io["waveform"].shape[-1]
    config = {
        "_class_name": "SpectrogramParams",
        "spectrogram_params": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "derived": {"n_fft": params.n_fft, "win_length": params.win_length, "hop_length": params.hop_length,
                    "n_stft": params.n_fft // 2 + 1},
        "griffinlim": {"n_iter": n_iter, "momentum": 0.99, "power": 1.0, "window_fn": "torch.hann_window (periodic)",
                       "length": None, "rand_init": True},
        "image_to_mel": {"max_value": 30e6, "power": params.power_for_image, "stereo": params.stereo},
        "inverse_mel": {"method": "relu(torch.linalg.lstsq(fb.T[None], mel, driver='gels').solution) "
                                  "(torchaudio >= 2.1)"},
        "apply_filters": {"compression": False, "desired_dBFS": -12, "normalize_headroom": 0.1},
        "target_dBFS": -30.0,
    }
    cmd_args = [("--case", case), ("--seed", seed)]
    if width is not None:
        cmd_args.append(("--width", width))
    notes = [
        "Calls: SpectrogramImageConverter(params, device='cpu').audio_from_spectrogram_image(Image.fromarray(image))"
        " then kandinsky4_video2audio.utils.set_to_target_level(segment, -30.0) (K4 image_to_audio minus mp3).",
        "InverseMelScale replaced by the torchaudio>=2.1 lstsq computation (torchaudio 0.13 would run SGD); "
        "fb is the 0.13 module's melscale_fbanks buffer (same function in 2.x).",
        "torch.rand inside griffinlim is recorded as io griffinlim.init_phase (complex64 -> [...,2] real/imag, "
        "real and imaginary parts each U[0,1) from the global CPU generator seeded with --seed).",
        f"inverse_spectrogram_func.torch.istft[@k].out: the {n_iter} per-iteration waveforms (k = 0..{n_iter - 1}) "
        f"and the final one (@{n_iter}) == waveform.",
        "inverse_spectrogram_func.torch.stft[@k].out: complex stft of iteration k, stored as view_as_real "
        "(see manifest complex_as_real); " + ("iterations 0, 1 and last recorded." if full else "not recorded."),
        "AudioSegment.apply_gain, apply_gain@1: inside apply_filters (to -12 dBFS; normalize headroom 0.1); "
        "apply_gain@2: set_to_target_level(-30). in.volume_change is the dB value passed; in.rms/in.dBFS/in.max "
        "are pydub's properties of the input segment (audioop, integer rms).",
        "audio_from_waveform.in.samples is the float waveform BEFORE its in-place normalisation (x *= 32767/max|x|),"
        " .out the int16 samples (numpy astype: truncation toward zero).",
    ]
    if not full:
        notes.append("The real-size filterbank (8821 x 512) is not stored: inverse_mel_scaler.fb_rowsum [8821] and "
                     "fb_colsum [512] check it; the lstsq solution before relu is not stored either.")
    write_bundle(
        out, case, component="audio/riffusion image->audio", case=case, config=config, weights={}, io=io,
        store=store, seed=seed,
        sizes={"image_height": h, "image_width": w, "n_fft": params.n_fft, "hop_length": params.hop_length,
               "win_length": params.win_length, "n_mels": h, "n_stft": params.n_fft // 2 + 1, "samples": n,
               "griffinlim_iters": n_iter},
        command=canonical_command(__file__, cmd_args),
        tolerance_hints={
            "mel": "<= 1e-6 relative to max|ref| (elementwise; numpy float32 pow(x, 4.0) then * 3e7)",
            "inverse_mel_scaler.fb": "<= 1e-6 absolute (values in [0,1]; fp32 linspace/pow as torchaudio)",
            "spectrogram": "<= 1e-4 relative to max|ref|: least-squares solve, fb^T fb cond ~43 at real size; "
                           "any exact method (QR/normal equations in fp64) should land far below this",
            "griffinlim": "per-iteration istft waveforms: start ~1e-5 relative to max|ref| and may grow with the "
                          "iteration (phase normalisation amplifies differences in near-zero bins); compare the "
                          "first iterations tightly (1e-4) and the final waveform at ~1e-3 relative, or inject the "
                          "golden spectrogram to isolate Griffin-Lim",
            "pcm": "int16: exact when fed the golden waveform; otherwise |diff| <= 1-2 LSB",
            "pcm_filtered/pcm_target": "int16 exact given golden pcm (pydub audioop: integer rms, gain factor "
                                       "10^(dB/20) applied as double, truncation, saturation)",
        },
        notes=notes,
        extra={"io_complex_as_real": ["griffinlim.init_phase"], "reference_noise": noise,
               "reference_noise_from_mel": noise_mel},
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=list(CASES) + ["all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=None, help="image width (columns); default per case")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for case in (list(CASES) if a.case == "all" else [a.case]):
        dump(case, a.seed, a.width, a.out)


if __name__ == "__main__":
    main()
