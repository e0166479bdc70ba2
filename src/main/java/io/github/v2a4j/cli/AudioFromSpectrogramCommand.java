package io.github.v2a4j.cli;

import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.nn.Trace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code v2a audio-from-spectrogram IN.png OUT.wav}: riffusion's image → audio (inverse mel, Griffin-Lim, 16-bit PCM
 * normalised then {@code apply_filters}), optionally K4's {@code set_to_target_level}.
 */
@Command(name = "audio-from-spectrogram", mixinStandardHelpOptions = true, defaultValueProvider = DefaultValues.class,
        description = "Spectrogram image (riffusion layout) -> 16-bit PCM WAV via inverse mel + Griffin-Lim.")
public final class AudioFromSpectrogramCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN.png", description = "spectrogram image (height = mel count)")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT.wav", description = "WAV to write")
    Path output;

    @Mixin
    SpectrogramOptions spectrogram = new SpectrogramOptions();

    @Option(names = "--seed", description = "Griffin-Lim init phase seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--target-dbfs", description = "then set the loudness to this dBFS, as K4 and generate do")
    Double targetDbfs;

    @Option(names = "--no-filters", description = "skip riffusion's apply_filters (gain to -12 dBFS, normalise)")
    boolean noFilters;

    @Option(names = "--overwrite", description = "replace OUT if it exists")
    boolean overwrite;

    @Override
    public Integer call() throws IOException {
        SpectrogramParams p = spectrogram.params();
        if (!overwrite && Files.exists(output)) throw new IOException(output + ": exists (use --overwrite to replace it)");
        BufferedImage image = readImage(input);
        if (image.getHeight() != p.numFrequencies())
            throw new IllegalArgumentException(input + ": image height " + image.getHeight() + " != mel count "
                    + p.numFrequencies() + " (--mels)");
        long t0 = System.nanoTime();
        SpectrogramConverter.Audio a = new SpectrogramConverter(p)
                .audioFromImage(image, seed, null, !noFilters, targetDbfs, Trace.OFF);
        new WavFile(p.sampleRate(), a.channels(), a.pcm()).write(output, overwrite);
        int n = a.waveforms()[0].length;
        System.out.printf("%s: %d samples x %d ch at %d Hz (%.2f s) in %.1f s%n", output, n, a.channels(),
                p.sampleRate(), n / (double) p.sampleRate(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    static BufferedImage readImage(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such file");
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": unreadable image (" + e.getMessage() + ")", e);
        }
        if (img == null) throw new IOException(file + ": unreadable image (not PNG, JPEG, BMP or GIF)");
        return img;
    }
}
