package io.github.v2a4j.audio;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * {@code torch.stft} / {@code torch.istft} as torchaudio's Griffin-Lim calls them: {@code center=True}, reflect
 * padding of {@code n_fft/2}, periodic Hann window of {@code win_length} zero-padded centred to {@code n_fft},
 * one-sided, not normalised. FFTs are {@link RealFft} (FFTW by default; 17640 = 2³·3²·5·7²), in double:
 * Griffin-Lim run in fp32 drifts from its fp64 run over 32 iterations (torch's own fp32 by ≤1e-4 of max), and with
 * JTransforms' float FFT (1.4× the rounding error of pocketfft) ours drifted 3× further; in double we sit on the fp64
 * trajectory, so the distance to torch's fp32 result is torch's own drift. The window is float32 as torch's.
 *
 * <p>Spectra are held per frame in JTransforms' packed layout, {@code n_fft} floats: {@code [0]} = Re(bin 0),
 * {@code [1]} = Re(bin n_fft/2), {@code [2k], [2k+1]} = Re, Im of bin k for {@code 0 < k < n_fft/2}. The imaginary
 * parts of bins 0 and n_fft/2 are not stored: torch's real inverse FFT ignores them and its real forward FFT makes
 * them 0. Requires even {@code n_fft}.
 *
 * <p>Frames are processed in parallel (common ForkJoin pool) in fixed chunks of {@link #CHUNK} frames; each worker
 * thread owns its FFT object and buffer, and the inverse overlap-adds each chunk into its own buffer, then chunks
 * are summed in order — so results do not depend on the thread count.
 */
public final class Stft {
    /** Frames per parallel task. */
    public static final int CHUNK = 16;

    public final int nFft, hop, winLength, nFreqs, left;
    /** Periodic Hann of win_length, zero-padded centred to n_fft (torch's {@code window_}). */
    final float[] window;
    /** window² (float32, as torch's {@code window.pow(2)}), summed in double for the overlap-add envelope. */
    final float[] window2;
    private final double invN;
    private final ThreadLocal<Work> work;

    /** A worker's FFT object and frame buffer. */
    static final class Work {
        final RealFft fft;
        final double[] buf;

        Work(int n, String backend) {
            fft = RealFft.create(n, backend);
            buf = new double[n];
        }
    }

    public Stft(int nFft, int hop, int winLength) {
        this(nFft, hop, winLength, RealFft.backend());
    }

    /** With FFT back end {@code fftBackend} ({@code fftw} or {@code jtransforms}, see {@link RealFft}). */
    public Stft(int nFft, int hop, int winLength, String fftBackend) {
        if (nFft % 2 != 0) throw new IllegalArgumentException("n_fft must be even, got " + nFft);
        if (winLength > nFft || winLength <= 0) throw new IllegalArgumentException("need 0 < win_length <= n_fft");
        if (hop <= 0) throw new IllegalArgumentException("hop must be > 0");
        this.nFft = nFft;
        this.hop = hop;
        this.winLength = winLength;
        this.nFreqs = nFft / 2 + 1;
        this.left = (nFft - winLength) / 2;
        this.window = new float[nFft];
        float[] w = hannWindow(winLength);
        System.arraycopy(w, 0, window, left, winLength);
        this.window2 = new float[nFft];
        for (int i = 0; i < nFft; i++) window2[i] = window[i] * window[i];
        this.invN = 1.0 / nFft;
        RealFft.checkBackend(fftBackend); // fail here, not in a worker
        this.work = ThreadLocal.withInitial(() -> new Work(nFft, fftBackend));
    }

    public Stft(SpectrogramParams p) {
        this(p.nFft(), p.hopLength(), p.winLength());
    }

    /**
     * {@code torch.hann_window(n)} (periodic) as torch 1.13 computes it in float32:
     * {@code 0.5 + (-0.5)·cos(i · float(2π/n))}, cos rounded once (torch's vectorised cos is within 1 ulp of that).
     */
    public static float[] hannWindow(int n) {
        float[] w = new float[n];
        if (n == 1) {
            w[0] = 1f;
            return w;
        }
        float scale = (float) (Math.PI * 2. / n);
        for (int i = 0; i < n; i++) {
            float c = (float) Math.cos((float) i * scale);
            w[i] = c * -0.5f + 0.5f;
        }
        return w;
    }

    /** Frames of a signal of {@code length} samples: {@code 1 + length / hop}. */
    public int frameCount(int length) {
        return 1 + length / hop;
    }

    /** ISTFT output length for {@code nFrames} frames ({@code length=None}): {@code hop·(nFrames−1)}. */
    public int signalLength(int nFrames) {
        return hop * (nFrames - 1);
    }

    /** Receives one frame's packed spectrum; {@code spec} is a reused buffer, valid during the call only. */
    @FunctionalInterface
    public interface FrameSink {
        void accept(int frame, double[] spec);
    }

    /** Writes frame {@code frame}'s packed spectrum into {@code spec} (n_fft values). */
    @FunctionalInterface
    public interface FrameSource {
        void fill(int frame, double[] spec);
    }

    /** STFT of {@code x}, one packed spectrum per frame (rounded to float), in parallel. */
    public float[][] forward(float[] x) {
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) xd[i] = x[i];
        int nFrames = frameCount(x.length);
        float[][] out = new float[nFrames][nFft];
        forward(xd, (t, spec) -> {
            for (int i = 0; i < nFft; i++) out[t][i] = (float) spec[i];
        });
        return out;
    }

    /** STFT of {@code x}, each frame's packed spectrum handed to {@code sink} (called concurrently for distinct frames). */
    public void forward(double[] x, FrameSink sink) {
        int pad = nFft / 2;
        if (x.length <= pad)
            throw new IllegalArgumentException("reflect padding of " + pad + " needs more than " + pad + " samples, got " + x.length);
        int nFrames = frameCount(x.length);
        int nChunks = (nFrames + CHUNK - 1) / CHUNK;
        IntStream.range(0, nChunks).parallel().forEach(c -> {
            Work w = work.get();
            double[] buf = w.buf;
            int t1 = Math.min(nFrames, (c + 1) * CHUNK);
            for (int t = c * CHUNK; t < t1; t++) {
                Arrays.fill(buf, 0, left, 0);
                Arrays.fill(buf, left + winLength, nFft, 0);
                int p0 = t * hop + left - pad; // index into x of buf[left]
                if (p0 >= 0 && p0 + winLength <= x.length) {
                    for (int m = 0; m < winLength; m++) buf[left + m] = x[p0 + m] * window[left + m];
                } else {
                    for (int m = 0; m < winLength; m++) buf[left + m] = x[reflect(p0 + m, x.length)] * window[left + m];
                }
                w.fft.forward(buf);
                sink.accept(t, buf);
            }
        });
    }

    static int reflect(int i, int n) {
        if (i < 0) return -i;
        if (i >= n) return 2 * (n - 1) - i;
        return i;
    }

    /** ISTFT of packed spectra ({@code spec[t]}), {@code length=None}, rounded to float. */
    public float[] inverse(float[][] spec) {
        double[] y = inverse(spec.length, (t, s) -> {
            for (int i = 0; i < nFft; i++) s[i] = spec[t][i];
        }, null);
        float[] out = new float[y.length];
        for (int i = 0; i < y.length; i++) out[i] = (float) y[i];
        return out;
    }

    /** Reusable overlap-add buffers for {@link #inverse(int, FrameSource, float[][])}. */
    public double[][] chunkBuffers(int nFrames) {
        int nChunks = (nFrames + CHUNK - 1) / CHUNK;
        return new double[nChunks][(CHUNK - 1) * hop + winLength];
    }

    /**
     * ISTFT of {@code nFrames} frames whose packed spectra {@code src} fills (called concurrently for distinct
     * frames): per frame {@code irfft(·)/n_fft · window}, overlap-add, divide by the overlap-added window², drop
     * {@code n_fft/2} samples at both ends. {@code chunkBufs} may be null or from {@link #chunkBuffers}.
     */
    public double[] inverse(int nFrames, FrameSource src, double[][] chunkBufs) {
        if (nFrames < 1) throw new IllegalArgumentException("no frames");
        double[][] bufs = chunkBufs != null ? chunkBufs : chunkBuffers(nFrames);
        int nChunks = bufs.length;
        IntStream.range(0, nChunks).parallel().forEach(c -> {
            Work w = work.get();
            double[] buf = w.buf;
            double[] acc = bufs[c];
            Arrays.fill(acc, 0);
            int t0 = c * CHUNK, t1 = Math.min(nFrames, t0 + CHUNK);
            for (int t = t0; t < t1; t++) {
                src.fill(t, buf);
                w.fft.inverse(buf);
                int o = (t - t0) * hop - left;
                for (int m = left; m < left + winLength; m++) acc[o + m] += (buf[m] * invN) * window[m];
            }
        });
        int pad = nFft / 2;
        int outLen = signalLength(nFrames);
        // full overlap-added signal spans [0, n_fft + hop·(nFrames−1)); keep [pad, pad + outLen)
        double[] y = new double[outLen];
        for (int c = 0; c < nChunks; c++) {
            double[] acc = bufs[c];
            int frames = Math.min(nFrames, (c + 1) * CHUNK) - c * CHUNK;
            int start = c * CHUNK * hop + left; // full-signal index of acc[0]
            int len = (frames - 1) * hop + winLength;
            int from = Math.max(start, pad), to = Math.min(start + len, pad + outLen);
            for (int p = from; p < to; p++) y[p - pad] += acc[p - start];
        }
        double[] env = envelope(nFrames);
        for (int i = 0; i < outLen; i++) y[i] = y[i] / env[i];
        return y;
    }

    private record Envelope(int frames, double[] env) {}

    private volatile Envelope envCache;

    /** Overlap-added window² over {@code nFrames} frames, trimmed like the signal; checked > 1e-11 as torch does. */
    double[] envelope(int nFrames) {
        Envelope cached = envCache;
        if (cached != null && cached.frames == nFrames) return cached.env;
        int pad = nFft / 2;
        int outLen = signalLength(nFrames);
        double[] env = new double[outLen];
        for (int t = 0; t < nFrames; t++) {
            int o = t * hop - pad;
            for (int m = left; m < left + winLength; m++) {
                int p = o + m;
                if (p >= 0 && p < outLen) env[p] += window2[m];
            }
        }
        for (int i = 0; i < outLen; i++)
            if (Math.abs(env[i]) < 1e-11)
                throw new IllegalArgumentException("istft: window overlap-add min below 1e-11 at sample " + i
                        + " (hop " + hop + ", win " + winLength + ", n_fft " + nFft + ", frames " + nFrames + ")");
        envCache = new Envelope(nFrames, env);
        return env;
    }
}
