package io.github.v2a4j.cli;

import io.github.v2a4j.audio.SpectrogramParams;
import picocli.CommandLine.Option;

/** riffusion's spectrogram parameters as options (defaults = riffusion's, which K4 inference uses). */
final class SpectrogramOptions {
    @Option(names = "--stereo", description = "two channels in the image's G and B (riffusion's stereo)")
    boolean stereo;

    @Option(names = "--sample-rate", defaultValue = "44100", description = "Hz (default ${DEFAULT-VALUE})")
    int sampleRate;

    @Option(names = "--step-ms", defaultValue = "10", description = "hop in ms (default ${DEFAULT-VALUE})")
    int stepMs;

    @Option(names = "--window-ms", defaultValue = "100", description = "Hann window in ms (default ${DEFAULT-VALUE})")
    int windowMs;

    @Option(names = "--padded-ms", defaultValue = "400", description = "FFT length in ms (default ${DEFAULT-VALUE})")
    int paddedMs;

    @Option(names = "--mels", defaultValue = "512", description = "mel bands = image height (default ${DEFAULT-VALUE})")
    int mels;

    @Option(names = "--min-freq", defaultValue = "0", description = "Hz (default ${DEFAULT-VALUE})")
    double minFreq;

    @Option(names = "--max-freq", defaultValue = "10000", description = "Hz (default ${DEFAULT-VALUE})")
    double maxFreq;

    @Option(names = "--mel-scale", defaultValue = "htk", description = "htk or slaney (default ${DEFAULT-VALUE})")
    String melScale;

    @Option(names = "--mel-norm", description = "none (default) or slaney")
    String melNorm;

    @Option(names = "--iterations", defaultValue = "32", description = "Griffin-Lim iterations (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--momentum", defaultValue = "0.99", description = "fast Griffin-Lim momentum (default ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--power", defaultValue = "0.25", description = "image power curve (default ${DEFAULT-VALUE})")
    double power;

    @Option(names = "--max-value", defaultValue = "30e6", description = "amplitude of a black pixel (default ${DEFAULT-VALUE})")
    double maxValue;

    SpectrogramParams params() {
        String norm = melNorm == null || melNorm.equals("none") ? null : melNorm;
        return SpectrogramParams.builder().stereo(stereo).sampleRate(sampleRate).stepSizeMs(stepMs)
                .windowDurationMs(windowMs).paddedDurationMs(paddedMs).numFrequencies(mels).minFrequency(minFreq)
                .maxFrequency(maxFreq).melScaleType(melScale).melScaleNorm(norm).numGriffinLimIters(iterations)
                .momentum(momentum).powerForImage(power).maxValue(maxValue).build();
    }
}
