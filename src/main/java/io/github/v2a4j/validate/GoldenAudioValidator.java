package io.github.v2a4j.validate;

import io.github.v2a4j.audio.Stft;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.audio.SpectrogramImage;
import io.github.v2a4j.audio.Pcm;
import io.github.v2a4j.audio.MelFilterbank;
import io.github.v2a4j.audio.InverseMelScale;
import io.github.v2a4j.audio.GriffinLim;
import io.github.v2a4j.golden.BundleException;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.Safetensors;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code v2a validate} for audio bundles (reference-tests/dump_audio.py: riffusion image → audio + K4's loudness).
 * Every stage is fed the bundle's own input for it, so each row measures one stage: image → mel, filterbank and
 * window, inverse mel (golden mel), every Griffin-Lim iteration (golden spectrogram and injected init phases),
 * int16 conversion (golden waveform), pydub's loudness steps (golden int16 samples).
 */
public final class GoldenAudioValidator implements Validator {

    public static final String COMPONENT = "audio/riffusion image->audio";

    static final Tolerance EXACT_FB = Tolerance.exact("torch linspace and SLEEF powf reproduced bit for bit");
    static final Tolerance ULP = new Tolerance(1.2e-7, "one float ulp of max: numpy SVML powf / torch Sleef cosf vs rounded libm");
    static final Tolerance COLSUM = new Tolerance(1e-6, "sums of ≤35 exact filter values in another order than torch's");
    static final Tolerance LSTSQ = new Tolerance(2e-6, "torch fp32 gels (measured 5e-7 from fp64) vs our fp64 solve");
    static final Tolerance INT = Tolerance.exact("integer maths as numpy / CPython audioop / pydub");

    @Override
    public String component() {
        return COMPONENT;
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        Safetensors io = bundle.io();
        for (String n : new String[] {"image", "mel", "spectrogram", "griffinlim.init_phase", "waveform", "pcm"})
            if (!io.contains(n)) throw new BundleException(bundle.dir() + ": io.safetensors has no " + n);
        SpectrogramParams p = params(bundle);
        Map<String, INDArray> act = new LinkedHashMap<>();
        Map<String, INDArray> out = new LinkedHashMap<>();

        // image → mel
        long[] ish = io.info("image").shape();
        int h = (int) ish[0], w = (int) ish[1];
        byte[] px = io.loadBytes("image");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                img.setRGB(x, y, ((px[i] & 0xff) << 16) | ((px[i + 1] & 0xff) << 8) | (px[i + 2] & 0xff));
            }
        float[] mel = SpectrogramImage.toSpectrogram(img, p)[0];
        INDArray melArr = Nd4j.createFromArray(mel).reshape(1, p.numFrequencies(), w);
        act.put("spectrogram_from_image.out", melArr);
        act.put("inverse_mel_scaler.in.0", melArr);
        out.put("mel", melArr);

        // filterbank, window
        int nf = p.nFreqs(), nm = p.numFrequencies();
        float[] fb = MelFilterbank.of(p);
        act.put("inverse_mel_scaler.fb", Nd4j.createFromArray(fb).reshape(nf, nm));
        float[] row = new float[nf], col = new float[nm];
        for (int k = 0; k < nf; k++)
            for (int n = 0; n < nm; n++) {
                row[k] += fb[k * nm + n];
                col[n] += fb[k * nm + n];
            }
        act.put("inverse_mel_scaler.fb_rowsum", Nd4j.createFromArray(row));
        act.put("inverse_mel_scaler.fb_colsum", Nd4j.createFromArray(col));
        act.put("inverse_spectrogram_func.window", Nd4j.createFromArray(Stft.hannWindow(p.winLength())));

        // inverse mel from the golden mel
        float[] goldenMel = io.loadFloat("mel").dup('c').data().asFloat();
        InverseMelScale ims = InverseMelScale.of(p);
        act.put("inverse_mel_scaler.lstsq_solution", Nd4j.createFromArray(ims.apply(goldenMel, w, false)).reshape(1, nf, w));
        INDArray s = Nd4j.createFromArray(ims.apply(goldenMel, w, true)).reshape(1, nf, w);
        act.put("inverse_mel_scaler.out", s);
        out.put("spectrogram", s);

        // Griffin-Lim from the golden spectrogram with the recorded init phases
        float[] goldenS = io.loadFloat("spectrogram").dup('c').data().asFloat();
        GriffinLim gl = new GriffinLim(p);
        float[][] phases = gl.packPhases(io.loadFloat("griffinlim.init_phase").dup('c').data().asFloat(), w);
        Stft stft = gl.stft();
        float[] y = gl.run(goldenS, w, phases, (it, wave) -> {
            String key = "inverse_spectrogram_func.torch.istft" + (it == 0 ? "" : "@" + it);
            act.put(key + ".out", Nd4j.createFromArray(wave).reshape(1, wave.length));
            String sk = "inverse_spectrogram_func.torch.stft" + (it == 0 ? "" : "@" + it) + ".out";
            if (it < p.numGriffinLimIters() && bundle.hasActivation(sk)) act.put(sk, stftAsReal(stft, wave));
        });
        INDArray wave = Nd4j.createFromArray(y).reshape(1, y.length);
        act.put("inverse_spectrogram_func.out", wave);
        out.put("waveform", wave);

        // int16 from the golden waveform, loudness from the golden int16
        float[] goldenWave = io.loadFloat("waveform").dup('c').data().asFloat();
        act.put("audio_from_waveform.in.samples", Nd4j.createFromArray(goldenWave).reshape(1, goldenWave.length));
        short[] pcm = Pcm.fromWaveform(goldenWave);
        act.put("audio_from_waveform.out", ints(pcm));
        out.put("pcm", ints(pcm));
        short[] goldenPcm = shorts(io.loadBytes("pcm"));
        Pcm.FilterSteps f = Pcm.applyFiltersSteps(goldenPcm);
        gainInputs(act, "AudioSegment.apply_gain", goldenPcm, -12 - f.dBFSBefore());
        act.put("AudioSegment.apply_gain.out", ints(f.afterGain()));
        int peak = Pcm.max(f.afterGain());
        double boost = Pcm.ratioToDb(Pcm.MAX_AMPLITUDE * Pcm.dbToFloat(-0.1) / peak);
        gainInputs(act, "AudioSegment.apply_gain@1", f.afterGain(), boost);
        act.put("AudioSegment.apply_gain@1.out", ints(f.afterNormalize()));
        act.put("apply_filters.out", ints(f.afterNormalize()));
        out.put("pcm_filtered", ints(f.afterNormalize()));
        short[] goldenFiltered = io.contains("pcm_filtered") ? shorts(io.loadBytes("pcm_filtered")) : f.afterNormalize();
        double target = bundle.config().has("target_dBFS") ? bundle.config().get("target_dBFS").getAsDouble() : -30.0;
        gainInputs(act, "AudioSegment.apply_gain@2", goldenFiltered, target - Pcm.dBFS(goldenFiltered));
        short[] t = Pcm.setToTargetLevel(goldenFiltered, target);
        act.put("AudioSegment.apply_gain@2.out", ints(t));
        out.put("pcm_target", ints(t));

        return Comparison.of(bundle).tolerance(name -> {
            String n = name.startsWith(Comparison.IO_PREFIX) ? name.substring(Comparison.IO_PREFIX.length()) : name;
            if (n.equals("inverse_mel_scaler.fb") || n.equals("inverse_mel_scaler.fb_rowsum")) return EXACT_FB;
            if (n.equals("inverse_mel_scaler.fb_colsum")) return COLSUM;
            if (n.equals("mel") || n.startsWith("spectrogram_from_image") || n.equals("inverse_mel_scaler.in.0")
                    || n.equals("inverse_spectrogram_func.window")) return ULP;
            if (n.equals("spectrogram") || n.startsWith("inverse_mel_scaler.")) return LSTSQ;
            if (n.equals("waveform") || n.startsWith("inverse_spectrogram_func.")) return griffinLim(bundle, name);
            if (n.equals("audio_from_waveform.in.samples")) return Tolerance.exact("the bundle's own waveform");
            return INT;
        }).compare(act, out);
    }

    /**
     * Griffin-Lim's rows: 32 fp32 iterations feed FFT rounding back into the phase, so each is held to
     * {@link Tolerance#fromReferenceNoise} of the distance the dump recorded between torch's own fp32 and fp64 runs of
     * Griffin-Lim on this bundle's spectrogram and phases (ours runs in double).
     */
    static Tolerance griffinLim(GoldenBundle bundle, String name) {
        String key = name.equals("inverse_spectrogram_func.out") || name.equals(Comparison.IO_PREFIX + "waveform")
                ? Comparison.IO_PREFIX + "waveform" : name;
        double noise = bundle.referenceNoise(key).orElseThrow(() -> new BundleException(bundle.dir()
                + ": manifest has no reference_noise for " + key + " (regenerate the bundle with dump_audio.py)"));
        return Tolerance.fromReferenceNoise(noise, Tolerance.FP32);
    }

    private static void gainInputs(Map<String, INDArray> act, String prefix, short[] in, double volumeChange) {
        act.put(prefix + ".in.volume_change", Nd4j.scalar(volumeChange));
        act.put(prefix + ".in.rms", Nd4j.scalar((double) Pcm.rms(in)));
        act.put(prefix + ".in.dBFS", Nd4j.scalar(Pcm.dBFS(in)));
        act.put(prefix + ".in.max", Nd4j.scalar((double) Pcm.max(in)));
        act.put(prefix + ".in.samples", ints(in));
    }

    private static INDArray stftAsReal(Stft stft, float[] wave) {
        float[] out = stftRealImag(stft, wave);
        return Nd4j.createFromArray(out).reshape(1, stft.nFreqs, out.length / (2 * stft.nFreqs), 2);
    }

    /** The STFT of {@code wave} in torch's {@code view_as_real} layout {@code [n_freqs][frames][re, im]}, flat. */
    static float[] stftRealImag(Stft stft, float[] wave) {
        float[][] spec = stft.forward(wave);
        int nf = stft.nFreqs, n = stft.nFft, frames = spec.length;
        float[] out = new float[nf * frames * 2];
        for (int t = 0; t < frames; t++) {
            out[(0 * frames + t) * 2] = spec[t][0];
            out[((n / 2) * frames + t) * 2] = spec[t][1];
            for (int k = 1; k < n / 2; k++) {
                out[(k * frames + t) * 2] = spec[t][2 * k];
                out[(k * frames + t) * 2 + 1] = spec[t][2 * k + 1];
            }
        }
        return out;
    }

    private static INDArray ints(short[] s) {
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) f[i] = s[i];
        return Nd4j.createFromArray(f);
    }

    private static short[] shorts(byte[] b) {
        short[] s = new short[b.length / 2];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(s);
        return s;
    }

    /**
     * The bundle's {@code spectrogram_params}, with the two constants riffusion's code fixes outside them
     * ({@code image_to_mel.max_value}, {@code griffinlim.momentum}) where the bundle records them.
     */
    public static SpectrogramParams params(GoldenBundle bundle) {
        var c = bundle.config();
        var sp = c.getAsJsonObject("spectrogram_params");
        if (sp == null) throw new BundleException(bundle.dir() + ": config.json has no spectrogram_params");
        var b = SpectrogramParams.fromJson(sp).toBuilder();
        if (c.has("image_to_mel")) b.maxValue(c.getAsJsonObject("image_to_mel").get("max_value").getAsDouble());
        if (c.has("griffinlim")) b.momentum(c.getAsJsonObject("griffinlim").get("momentum").getAsDouble());
        return b.build();
    }
}
