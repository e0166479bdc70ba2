#!/usr/bin/env python3
"""PyTorch twin of `v2a bench audio`: inverse mel (torch.linalg.lstsq, driver gels, + relu, as torchaudio >= 2.1)
+ torchaudio.functional.griffinlim (riffusion parameters: n_fft 17640, hop 441, win 4410, 32 iterations,
momentum 0.99) on a 512 x W mel spectrogram decoded from a random image, N times; 2 threads.
Run with /usr/bin/python3 (Debian torch 1.13 / torchaudio 0.13)."""
import argparse, resource, time, os
import torch, torchaudio
import torchaudio.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--warmup", type=int, default=1)
ap.add_argument("--frames", type=int, default=1184)
ap.add_argument("--iterations", type=int, default=32)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
g = torch.Generator().manual_seed(a.seed)
pix = torch.randint(0, 256, (1, 512, a.frames), generator=g).to(torch.float32)
mel = ((255 - pix) / 255) ** 4 * 3e7
n_fft, hop, win = 17640, 441, 4410
fb = F.melscale_fbanks(n_fft // 2 + 1, 0.0, 10000.0, 512, 44100, None, "htk")
window = torch.hann_window(win)
def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])
print(f"torch {torch.__version__} torchaudio {torchaudio.__version__}, {torch.get_num_threads()} threads, "
      f"{a.iterations} Griffin-Lim iterations, 512 x {a.frames}, load {load()}")
times = []
for i in range(a.warmup + a.repeats):
    t0 = time.perf_counter()
    with torch.no_grad():
        s = torch.relu(torch.linalg.lstsq(fb.T[None], mel, driver="gels").solution)
        t1 = time.perf_counter()
        y = F.griffinlim(s, window, n_fft, hop, win, 1.0, a.iterations, 0.99, None, True)
    dt = time.perf_counter() - t0
    timed = i >= a.warmup
    if timed:
        times.append(dt)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"  run {i + 1}{'' if timed else ' (warm-up)'}: {dt:.2f} s (inverse mel {t1 - t0:.3f} s, "
          f"Griffin-Lim {time.perf_counter() - t1:.2f} s), sum|y| {y.abs().sum().item():.6e}, peak RSS {peak:.2f} GB, load {load()}")
if times:
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    print(f"median {med:.2f} s over {n} runs (min {times[0]:.2f}, max {times[-1]:.2f}), "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB, load {load()}")
