#!/usr/bin/python3
"""PyTorch twin of `v2a bench audio`: inverse mel (torch.linalg.lstsq, driver gels, + relu, as torchaudio >= 2.1
computes it) + torchaudio.functional.griffinlim (riffusion parameters: n_fft 17640, hop 441, win 4410, 32 iterations,
momentum 0.99) on a 512 x W mel spectrogram decoded from a random image; fp32 only (the reference's audio is fp32).

  /usr/bin/python3 reference-tests/bench/bench_audio.py [--frames 1184] [--iterations 32]
"""
import argparse

import common
import flops


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1184)
    ap.add_argument("--iterations", type=int, default=32)
    a = common.add_args(ap).parse_args()
    if a.precision != "fp32":
        raise SystemExit("bench_audio.py: the audio stage runs in fp32 only")
    torch = common.setup(a.threads, upstream=False)
    F = common.torchaudio_functional(torch)
    g = torch.Generator().manual_seed(a.seed)
    pix = torch.randint(0, 256, (1, 512, a.frames), generator=g).to(torch.float32)
    mel = ((255 - pix) / 255) ** 4 * 3e7
    n_fft, hop, win = 17640, 441, 4410
    fb = F.melscale_fbanks(n_fft // 2 + 1, 0.0, 10000.0, 512, 44100, None, "htk")
    window = torch.hann_window(win)

    def audio():
        s = torch.relu(torch.linalg.lstsq(fb.T[None], mel, driver="gels").solution)
        return F.griffinlim(s, window, n_fft, hop, win, 1.0, a.iterations, 0.99, None, True)

    common.run(a, "audio", f"512 x {a.frames} mel, {a.iterations} Griffin-Lim iterations",
               flops.audio(a.frames, a.iterations), audio, common.finite_sum)


if __name__ == "__main__":
    main()
