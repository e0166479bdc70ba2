package io.github.v2a4j.audio;

/**
 * 16-bit PCM and loudness exactly as the reference: riffusion {@code audio_from_waveform(normalize=True)},
 * pydub {@code dBFS}, {@code apply_gain}, {@code effects.normalize}, riffusion {@code apply_filters(compression=False)}
 * and K4 {@code set_to_target_level}.
 *
 * <p>pydub sits on CPython's {@code audioop}: {@code rms} is {@code (unsigned) sqrt(Σx²/n)} with a double sum
 * (truncated), {@code max} is the largest |x| (32768 for −32768), and {@code mul} computes {@code x·factor} in double,
 * clamps above 32767 to 32767 and below −32767 to −32768, then FLOORS (checked: mul([3,−3], 0.5) = [1, −2]).
 * {@code dBFS = 20·log(rms/32768, 10)} with Python's two-argument log ({@code ln(x)/ln(10)}), gains are
 * {@code 10 ** (dB/20)}.
 */
public final class Pcm {
    private Pcm() {}

    /** 32768, pydub's {@code max_possible_amplitude} for 16-bit. */
    public static final double MAX_AMPLITUDE = 32768.0;

    /**
     * riffusion {@code audio_from_waveform(normalize=True)}: {@code x *= 32767 / max|x|} (the float64 ratio is applied
     * in float32, as numpy's in-place multiply does), then {@code astype(int16)} (truncation toward zero).
     */
    public static short[] fromWaveform(float[] x) {
        float maxAbs = 0;
        for (float v : x) maxAbs = Math.max(maxAbs, Math.abs(v));
        if (!(maxAbs > 0) || Float.isInfinite(maxAbs))
            throw new IllegalArgumentException("waveform is silent or not finite (max |x| = " + maxAbs + "): cannot normalise");
        float scale = (float) (32767.0 / maxAbs);
        short[] out = new short[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (short) (int) (x[i] * scale);
        return out;
    }

    /** audioop.rms for 16-bit samples. */
    public static long rms(short[] s) {
        if (s.length == 0) return 0;
        double sum = 0;
        for (short v : s) sum += (double) v * v;
        return (long) Math.sqrt(sum / s.length);
    }

    /** audioop.max: largest absolute sample. */
    public static int max(short[] s) {
        int m = 0;
        for (short v : s) m = Math.max(m, Math.abs((int) v));
        return m;
    }

    /** pydub's {@code ratio_to_db}: {@code 20·log(ratio, 10)}, −∞ for 0. */
    public static double ratioToDb(double ratio) {
        if (ratio == 0) return Double.NEGATIVE_INFINITY;
        return 20 * (Math.log(ratio) / Math.log(10));
    }

    /** pydub's {@code db_to_float}: {@code 10 ** (db / 20)}. */
    public static double dbToFloat(double db) {
        return Math.pow(10, db / 20);
    }

    /** pydub {@code AudioSegment.dBFS}. */
    public static double dBFS(short[] s) {
        long r = rms(s);
        if (r == 0) return Double.NEGATIVE_INFINITY;
        return ratioToDb(r / MAX_AMPLITUDE);
    }

    /** audioop.mul for 16-bit: double product, saturate, floor. */
    public static short[] mul(short[] s, double factor) {
        short[] out = new short[s.length];
        for (int i = 0; i < s.length; i++) {
            double v = s[i] * factor;
            if (v > 32767.0) v = 32767.0;
            else if (v < -32768.0 + 1.0) v = -32768.0;
            out[i] = (short) (int) Math.floor(v);
        }
        return out;
    }

    /** pydub {@code apply_gain(dB)}. */
    public static short[] applyGain(short[] s, double db) {
        return mul(s, dbToFloat(db));
    }

    /** pydub {@code effects.normalize(seg, headroom)}: silent input is returned as is. */
    public static short[] normalize(short[] s, double headroom) {
        int peak = max(s);
        if (peak == 0) return s;
        double targetPeak = MAX_AMPLITUDE * dbToFloat(-headroom);
        double neededBoost = ratioToDb(targetPeak / peak);
        return applyGain(s, neededBoost);
    }

    /** Loudness steps of {@link #applyFilters}, for golden comparison. */
    public record FilterSteps(double dBFSBefore, short[] afterGain, short[] afterNormalize) {}

    /** riffusion {@code apply_filters(segment, compression=False)}: gain to −12 dBFS, then normalise (0.1 dB headroom). */
    public static FilterSteps applyFiltersSteps(short[] s) {
        double db = dBFS(s);
        if (Double.isInfinite(db)) throw new IllegalArgumentException("audio is silent: cannot set its loudness");
        short[] g = applyGain(s, -12 - db);
        return new FilterSteps(db, g, normalize(g, 0.1));
    }

    public static short[] applyFilters(short[] s) {
        return applyFiltersSteps(s).afterNormalize();
    }

    /** K4 {@code set_to_target_level(sound, target)}: {@code apply_gain(target − dBFS)}. */
    public static short[] setToTargetLevel(short[] s, double targetDbfs) {
        double db = dBFS(s);
        if (Double.isInfinite(db)) throw new IllegalArgumentException("audio is silent: cannot set its loudness");
        return applyGain(s, targetDbfs - db);
    }
}
