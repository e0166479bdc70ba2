package io.github.v2a4j.audio;

import java.nio.DoubleBuffer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.fftw.global.fftw3;
import org.bytedeco.fftw.global.fftw3.fftw_plan;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;
import org.jtransforms.fft.DoubleFFT_1D;
import org.jtransforms.utils.CommonUtils;

/**
 * A real FFT of one length, in double, on one thread, in JTransforms' packed layout: {@code [0]} = Re(bin 0),
 * {@code [1]} = Re(bin n/2), {@code [2k], [2k+1]} = Re, Im of bin k for {@code 0 < k < n/2}. {@link #forward} is
 * torch's {@code rfft}; {@link #inverse} is the unscaled inverse (n·{@code irfft}), which ignores the imaginary parts
 * of bins 0 and n/2 as torch's does. Not thread-safe: each thread makes its own.
 *
 * <p>Two back ends, chosen once per JVM by {@link #backend()}:
 * <ul>
 *   <li>{@code fftw} (default): FFTW 3.3.10 (JavaCPP presets), an {@code FFTW_ESTIMATE} plan per length, shared by
 *       threads through the new-array execute functions. {@code ESTIMATE} plans do not depend on timing, so results
 *       are the same run to run; about five times faster than JTransforms at 17640 points (README, FFT back
 *       ends).</li>
 *   <li>{@code jtransforms}: JTransforms 3.1, pure Java. FFTW is GPL;
 *       JTransforms is BSD-2: a deployment that must not ship GPL code excludes {@code org.bytedeco:fftw} and gets
 *       this back end. It is also the fallback when FFTW's native library cannot be loaded.</li>
 * </ul>
 * Select with {@code -Dv2a.fft=fftw|jtransforms}.
 */
public abstract class RealFft {
    public final int n;

    RealFft(int n) {
        if (n < 2 || n % 2 != 0) throw new IllegalArgumentException("FFT length must be even and ≥ 2, got " + n);
        this.n = n;
    }

    /** In-place forward real FFT of {@code buf[0, n)} into packed layout. */
    public abstract void forward(double[] buf);

    /** In-place unscaled inverse of a packed spectrum {@code buf[0, n)}: n × the real signal. */
    public abstract void inverse(double[] buf);

    /** A transform of length {@code n} on back end {@code fftw} or {@code jtransforms}. */
    public static RealFft create(int n, String backend) {
        return checkBackend(backend).equals("fftw") ? new Fftw(n) : new JTransforms(n);
    }

    /** {@code backend} if it names a back end; else an {@link IllegalArgumentException}. */
    public static String checkBackend(String backend) {
        if (!"fftw".equals(backend) && !"jtransforms".equals(backend))
            throw new IllegalArgumentException("FFT back end must be fftw or jtransforms, got '" + backend + "'");
        return backend;
    }

    private static volatile String backend;

    /** The back end in use: {@code -Dv2a.fft}, else {@code fftw} if its native library loads, else {@code jtransforms}. */
    public static String backend() {
        String b = backend;
        if (b != null) return b;
        synchronized (RealFft.class) {
            if (backend != null) return backend;
            String want = System.getProperty("v2a.fft", "").trim().toLowerCase(Locale.ROOT);
            if (!want.isEmpty() && !want.equals("fftw") && !want.equals("jtransforms"))
                throw new IllegalArgumentException("v2a.fft must be fftw or jtransforms, got '" + want + "'");
            if (want.equals("jtransforms")) return backend = want;
            try {
                Loader.load(fftw3.class);
                return backend = "fftw";
            } catch (LinkageError | RuntimeException e) {
                if (want.equals("fftw")) throw new IllegalStateException("v2a.fft=fftw but FFTW could not be loaded: " + e, e);
                System.err.println("v2a: FFTW not available (" + e + "); using JTransforms (about 5x slower Griffin-Lim)");
                return backend = "jtransforms";
            }
        }
    }

    /** FFTW: one plan pair per length, per-thread SIMD-aligned native buffers. */
    static final class Fftw extends RealFft {
        /** The planner is not thread-safe; plans are made once per length and kept for the JVM's life. */
        private static final Map<Integer, fftw_plan[]> PLANS = new HashMap<>();

        private final fftw_plan r2c, c2r;
        private final DoublePointer real, complex;
        private final DoubleBuffer realBuf, complexBuf;

        Fftw(int n) {
            super(n);
            // fftw_malloc alignment matches the plans' (made on fftw_malloc arrays), as new-array execute requires.
            real = new DoublePointer(fftw3.fftw_malloc(8L * n)).capacity(n);
            complex = new DoublePointer(fftw3.fftw_malloc(8L * (n + 2))).capacity(n + 2);
            if (real.isNull() || complex.isNull()) throw new OutOfMemoryError("fftw_malloc failed for n=" + n);
            synchronized (PLANS) {
                fftw_plan[] p = PLANS.get(n);
                if (p == null) {
                    int flags = (int) fftw3.FFTW_ESTIMATE;
                    p = new fftw_plan[] {
                        fftw3.fftw_plan_dft_r2c_1d(n, real, complex, flags),
                        fftw3.fftw_plan_dft_c2r_1d(n, complex, real, flags)};
                    if (p[0].isNull() || p[1].isNull()) throw new IllegalStateException("FFTW could not plan n=" + n);
                    PLANS.put(n, p);
                }
                r2c = p[0];
                c2r = p[1];
            }
            realBuf = real.asBuffer();
            complexBuf = complex.asBuffer();
            // Buffers are freed when the owning thread's transform is dropped (ThreadLocal in Stft); FFTW memory
            // is not tracked by JavaCPP, so free it explicitly on GC through a cleaner.
            CLEANER.register(this, new Free(real, complex));
        }

        private record Free(DoublePointer a, DoublePointer b) implements Runnable {
            @Override
            public void run() {
                fftw3.fftw_free(a);
                fftw3.fftw_free(b);
            }
        }

        @Override
        public void forward(double[] buf) {
            realBuf.put(0, buf, 0, n);
            fftw3.fftw_execute_dft_r2c(r2c, real, complex);
            // FFTW: n/2+1 complex values (re, im interleaved); packed: Re(n/2) goes to [1], Im(0) dropped
            complexBuf.get(0, buf, 0, n);
            buf[1] = complexBuf.get(n);
        }

        @Override
        public void inverse(double[] buf) {
            complexBuf.put(0, buf, 0, n);
            complexBuf.put(1, 0.0);
            complexBuf.put(n, buf[1]);
            complexBuf.put(n + 1, 0.0);
            fftw3.fftw_execute_dft_c2r(c2r, complex, real); // destroys complex: it is rewritten every call
            realBuf.get(0, buf, 0, n);
        }
    }

    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    /** JTransforms' mixed-radix real FFT, threading off (callers parallelise over frames). */
    static final class JTransforms extends RealFft {
        static {
            CommonUtils.setThreadsBeginN_1D_FFT_2Threads(Integer.MAX_VALUE);
            CommonUtils.setThreadsBeginN_1D_FFT_4Threads(Integer.MAX_VALUE);
        }

        private final DoubleFFT_1D fft;

        JTransforms(int n) {
            super(n);
            fft = new DoubleFFT_1D(n);
        }

        @Override
        public void forward(double[] buf) {
            fft.realForward(buf);
        }

        @Override
        public void inverse(double[] buf) {
            fft.realInverse(buf, false);
        }
    }
}
