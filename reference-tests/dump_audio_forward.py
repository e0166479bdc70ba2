#!/usr/bin/python3
"""Golden bundles for riffusion's audio -> spectrogram-image path (the `spectrogram-from-audio` command).

The upstream function is called as riffusion's CLI does:
  converter = SpectrogramImageConverter(params, device="cpu")
  image = converter.spectrogram_image_from_audio(segment)        # Spectrogram(power=None) -> |.| -> MelScale
                                                                 # -> image_util.image_from_spectrogram
on a pydub AudioSegment made from a synthetic int16 signal (a chirp plus seeded noise). No substitution.

Cases (all at the small SpectrogramParams of audio-tiny: sr 2205, n_fft 882, hop 44, win 220, 32 mels, f_max 1000):
  audio-forward-mono    mono params, mono input
  audio-forward-stereo  stereo=True, two-channel input (channels go to G and B; R is 0)
  audio-forward-downmix mono params, two-channel input (pydub set_channels(1) mixes it down first)

io.safetensors: pcm_in [C,N] i16 (the segment's channels), mel [C',n_mels,T] f32 (spectrogram_from_audio, C' the
channels after riffusion's stereo rule), image [n_mels,T,3] u8 (np.array of the PIL image), max_value [] f32.
activations.safetensors: spectrogram_func.out [C',F,T,2] (complex STFT as real/imag), mel_scaler.out.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v2aref import env  # noqa: E402

env.setup()

import numpy as np  # noqa: E402
import pydub  # noqa: E402
import torch  # noqa: E402

from kandinsky4_video2audio.riffusion.spectrogram_image_converter import SpectrogramImageConverter  # noqa: E402
from kandinsky4_video2audio.riffusion.spectrogram_params import SpectrogramParams  # noqa: E402

from v2aref.bundle import DEFAULT_OUT, canonical_command, write_bundle  # noqa: E402
from v2aref.record import Recorder, TensorStore  # noqa: E402

from dump_audio import CASES as IMAGE_TO_AUDIO_CASES  # noqa: E402

TINY = IMAGE_TO_AUDIO_CASES["audio-tiny"]["params"]  # the same small SpectrogramParams as audio-tiny
CASES = {
    "audio-forward-mono": dict(params=dict(TINY), channels=1),
    "audio-forward-stereo": dict(params=dict(TINY, stereo=True), channels=2),
    "audio-forward-downmix": dict(params=dict(TINY), channels=2),
}
SECONDS = 1.5


def make_pcm(channels, sr, seed):
    """int16 [channels, N]: a linear chirp 50 Hz -> 900 Hz (a different phase per channel) plus seeded noise."""
    g = torch.Generator().manual_seed(seed)
    n = int(SECONDS * sr)
    t = torch.arange(n, dtype=torch.float64) / sr
    out = []
    for c in range(channels):
        phase = 2 * math.pi * (50 * t + 0.5 * (900 - 50) / SECONDS * t * t) + c
        x = 12000 * torch.sin(phase) + 3000 * torch.randn(n, generator=g, dtype=torch.float64)
        out.append(x.round().clamp(-32768, 32767).to(torch.int16))
    return torch.stack(out)


def dump(case, seed, out):
    spec = CASES[case]
    params = SpectrogramParams(**spec["params"])
    pcm = make_pcm(spec["channels"], params.sample_rate, seed)
    segment = pydub.AudioSegment(data=pcm.t().contiguous().numpy().tobytes(), sample_width=2,
                                 frame_rate=params.sample_rate, channels=spec["channels"])
    converter = SpectrogramImageConverter(params=params, device="cpu")
    conv = converter.converter
    store = TensorStore()
    mels = []
    orig = conv.spectrogram_from_audio

    def spectrogram_from_audio(audio):
        mel = orig(audio)
        mels.append(torch.from_numpy(mel))
        return mel

    conv.spectrogram_from_audio = spectrogram_from_audio
    with Recorder(conv.spectrogram_func, root=True, root_name="spectrogram_func", store=store, inputs=True), \
            Recorder(conv.mel_scaler, root=True, root_name="mel_scaler", store=store, inputs=False):
        image = converter.spectrogram_image_from_audio(segment)
    (mel,) = mels
    io = {
        "pcm_in": pcm,
        "mel": mel,
        "image": torch.from_numpy(np.array(image)),
        "max_value": torch.tensor(float(np.max(mel.numpy())), dtype=torch.float32),
    }
    config = {
        "_class_name": "SpectrogramParams",
        "spectrogram_params": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "derived": {"n_fft": params.n_fft, "win_length": params.win_length, "hop_length": params.hop_length,
                    "n_stft": params.n_fft // 2 + 1},
        "input": {"channels": spec["channels"], "samples": pcm.shape[1], "sample_rate": params.sample_rate},
    }
    write_bundle(
        out, case, component="audio/riffusion audio->image", case=case, config=config, weights={}, io=io,
        store=store, seed=seed,
        sizes={"channels_in": spec["channels"], "channels_out": mel.shape[0], "samples": pcm.shape[1],
               "n_mels": params.num_frequencies, "frames": mel.shape[-1], "n_fft": params.n_fft},
        command=canonical_command(__file__, [("--case", case), ("--seed", seed)]),
        tolerance_hints={
            "mel": "~1e-6 relative to max|ref|: fp32 STFT (pocketfft) and fp32 MelScale matmul",
            "image": "uint8 via numpy astype (truncation) of 255 - 255*(mel/max)^0.25: a value within float "
                     "rounding of an integer may land one step off",
        },
        notes=["Calls SpectrogramImageConverter(params, device='cpu').spectrogram_image_from_audio(segment); "
               "spectrogram_from_audio's output is recorded as io mel.",
               "pcm_in is the segment's samples per channel; the segment interleaves them."],
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=list(CASES) + ["all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for case in (list(CASES) if a.case == "all" else [a.case]):
        dump(case, a.seed, a.out)


if __name__ == "__main__":
    main()
