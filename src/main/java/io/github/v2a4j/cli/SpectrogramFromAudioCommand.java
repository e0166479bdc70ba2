package io.github.v2a4j.cli;

import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.io.WavFile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code v2a spectrogram-from-audio IN.wav OUT.png}: riffusion's audio → spectrogram image (STFT, |·|, mel, power curve). */
@Command(name = "spectrogram-from-audio", mixinStandardHelpOptions = true, defaultValueProvider = DefaultValues.class,
        description = "16-bit PCM WAV -> spectrogram image (riffusion layout: height = mel count, low frequencies at the bottom).")
public final class SpectrogramFromAudioCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN.wav", description = "16-bit PCM WAV at the --sample-rate")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT.png", description = "PNG to write")
    Path output;

    @Mixin
    SpectrogramOptions spectrogram = new SpectrogramOptions();

    @Option(names = "--overwrite", description = "replace OUT if it exists")
    boolean overwrite;

    @Override
    public Integer call() throws IOException {
        SpectrogramParams p = spectrogram.params();
        if (!overwrite && Files.exists(output)) throw new IOException(output + ": exists (use --overwrite to replace it)");
        WavFile wav = WavFile.read(input);
        if (wav.sampleRate != p.sampleRate())
            throw new IllegalArgumentException(input + ": sample rate " + wav.sampleRate + " Hz != " + p.sampleRate()
                    + " Hz (resample it, or pass --sample-rate)");
        checkLength(wav, p);
        BufferedImage img = new SpectrogramConverter(p).imageFromAudio(wav);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bytes);
        WavFile.writeAtomically(output, bytes.toByteArray(), overwrite);
        System.out.printf("%s: %dx%d spectrogram image%n", output, img.getWidth(), img.getHeight());
        return 0;
    }

    private static void checkLength(WavFile wav, SpectrogramParams p) {
        if (wav.frames() <= p.nFft() / 2)
            throw new IllegalArgumentException("audio too short: " + wav.frames() + " samples, need more than "
                    + p.nFft() / 2 + " (half the FFT length)");
    }
}
