package io.github.v2a4j.validate;

import io.github.v2a4j.audio.Stft;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.audio.SpectrogramImage;
import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.golden.BundleException;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.WavFile;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code v2a validate} for audio → image bundles (reference-tests/dump_audio_forward.py: riffusion
 * {@code spectrogram_image_from_audio}). From the bundle's int16 input: the STFT, the mel amplitudes, the max value
 * and the uint8 image.
 */
public final class GoldenAudioForwardValidator implements Validator {

    public static final String COMPONENT = "audio/riffusion audio->image";

    /** Measured ≤ 2.2e-7 on the committed bundles. */
    static final Tolerance STFT = new Tolerance(1e-6,
            "torch's fp32 STFT (pocketfft) against ours in double: a few float ulps of the largest value");
    static final Tolerance EXACT = Tolerance.exact("int16 samples as float32; uint8 quantisation (measured exact)");

    @Override
    public String component() {
        return COMPONENT;
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        Safetensors io = bundle.io();
        for (String n : new String[] {"pcm_in", "mel", "image"})
            if (!io.contains(n)) throw new BundleException(bundle.dir() + ": io.safetensors has no " + n);
        SpectrogramParams p = GoldenAudioValidator.params(bundle);
        long[] shape = io.info("pcm_in").shape();
        int ch = (int) shape[0], n = (int) shape[1];
        short[] planar = new short[ch * n];
        ByteBuffer.wrap(io.loadBytes("pcm_in")).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(planar);
        short[] inter = new short[ch * n];
        for (int c = 0; c < ch; c++) for (int i = 0; i < n; i++) inter[i * ch + c] = planar[c * n + i];
        WavFile wav = new WavFile(p.sampleRate(), ch, inter);

        SpectrogramConverter conv = new SpectrogramConverter(p);
        float[][] mel = conv.melFromAudio(wav);
        int nMels = p.numFrequencies(), frames = mel[0].length / nMels;
        Map<String, INDArray> act = new LinkedHashMap<>();
        Map<String, INDArray> out = new LinkedHashMap<>();
        INDArray melArr = Nd4j.create(mel).reshape(mel.length, nMels, frames);
        act.put("mel_scaler.out", melArr);
        out.put("mel", melArr);
        float max = Float.NEGATIVE_INFINITY;
        for (float[] c : mel) for (float v : c) max = Math.max(max, v);
        out.put("max_value", Nd4j.scalar(max));

        // the STFT the mel was made from, per channel after riffusion's channel rule
        Stft stft = new Stft(p);
        short[][] chans = SpectrogramConverter.channelsFor(wav, p);
        float[] spec = new float[mel.length * stft.nFreqs * frames * 2];
        float[] wave = new float[mel.length * n];
        for (int c = 0; c < chans.length; c++) {
            float[] x = toFloat(chans[c]);
            System.arraycopy(x, 0, wave, c * n, n);
            float[] s = GoldenAudioValidator.stftRealImag(stft, x);
            System.arraycopy(s, 0, spec, c * s.length, s.length);
        }
        act.put("spectrogram_func.in.0", Nd4j.createFromArray(wave).reshape(mel.length, n));
        act.put("spectrogram_func.out", Nd4j.createFromArray(spec).reshape(mel.length, stft.nFreqs, frames, 2));

        BufferedImage img = SpectrogramImage.fromSpectrogram(mel, nMels, frames, p.powerForImage());
        float[] px = new float[nMels * frames * 3];
        for (int y = 0; y < nMels; y++)
            for (int x = 0; x < frames; x++) {
                int rgb = img.getRGB(x, y), i = (y * frames + x) * 3;
                px[i] = (rgb >> 16) & 0xff;
                px[i + 1] = (rgb >> 8) & 0xff;
                px[i + 2] = rgb & 0xff;
            }
        out.put("image", Nd4j.createFromArray(px).reshape(nMels, frames, 3));
        out.put("pcm_in", Nd4j.createFromArray(toFloat(planar)).reshape(ch, n));

        return Comparison.of(bundle).tolerance(name -> {
            String s = name.startsWith(Comparison.IO_PREFIX) ? name.substring(Comparison.IO_PREFIX.length()) : name;
            if (s.equals("image") || s.equals("pcm_in") || s.equals("spectrogram_func.in.0")) return EXACT;
            return STFT;
        }).compare(act, out);
    }

    private static float[] toFloat(short[] s) {
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) f[i] = s[i];
        return f;
    }
}
