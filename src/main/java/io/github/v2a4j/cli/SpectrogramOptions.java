package io.github.v2a4j.cli;

import io.github.v2a4j.audio.SpectrogramParams;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * riffusion's spectrogram parameters as options. Defaults are riffusion's (what K4 inference uses); {@link #params}
 * applies only the options given on the command line over a base (riffusion's, or a model's own).
 */
final class SpectrogramOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--stereo", description = "two channels in the image's G and B (riffusion's stereo)")
    boolean stereo;

    @Option(names = "--sample-rate", description = "Hz (default ${DEFAULT-VALUE})")
    int sampleRate;

    @Option(names = "--step-ms", description = "hop in ms (default ${DEFAULT-VALUE})")
    int stepMs;

    @Option(names = "--window-ms", description = "Hann window in ms (default ${DEFAULT-VALUE})")
    int windowMs;

    @Option(names = "--padded-ms", description = "FFT length in ms (default ${DEFAULT-VALUE})")
    int paddedMs;

    @Option(names = "--mels", description = "mel bands = image height (default ${DEFAULT-VALUE})")
    int mels;

    @Option(names = "--min-freq", description = "Hz (default ${DEFAULT-VALUE})")
    double minFreq;

    @Option(names = "--max-freq", description = "Hz (default ${DEFAULT-VALUE})")
    double maxFreq;

    @Option(names = "--mel-scale", description = "htk or slaney (default ${DEFAULT-VALUE})")
    String melScale;

    @Option(names = "--mel-norm", description = "none or slaney (default ${DEFAULT-VALUE})")
    String melNorm;

    @Option(names = "--iterations", description = "Griffin-Lim iterations (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--momentum", description = "fast Griffin-Lim momentum (default ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--power", description = "image power curve (default ${DEFAULT-VALUE})")
    double power;

    @Option(names = "--max-value", description = "amplitude of a black pixel (default ${DEFAULT-VALUE})")
    double maxValue;

    /** riffusion's defaults with the given options applied. */
    SpectrogramParams params() {
        return params(SpectrogramParams.defaults());
    }

    /** {@code base} with the options given on the command line applied. */
    SpectrogramParams params(SpectrogramParams base) {
        ParseResult given = mixee.commandLine().getParseResult();
        SpectrogramParams.Builder b = base.toBuilder();
        if (given.hasMatchedOption("--stereo")) b.stereo(stereo);
        if (given.hasMatchedOption("--sample-rate")) b.sampleRate(sampleRate);
        if (given.hasMatchedOption("--step-ms")) b.stepSizeMs(stepMs);
        if (given.hasMatchedOption("--window-ms")) b.windowDurationMs(windowMs);
        if (given.hasMatchedOption("--padded-ms")) b.paddedDurationMs(paddedMs);
        if (given.hasMatchedOption("--mels")) b.numFrequencies(mels);
        if (given.hasMatchedOption("--min-freq")) b.minFrequency(minFreq);
        if (given.hasMatchedOption("--max-freq")) b.maxFrequency(maxFreq);
        if (given.hasMatchedOption("--mel-scale")) b.melScaleType(melScale);
        if (given.hasMatchedOption("--mel-norm")) b.melScaleNorm(melNorm.equals("none") ? null : melNorm);
        if (given.hasMatchedOption("--iterations")) b.numGriffinLimIters(iterations);
        if (given.hasMatchedOption("--momentum")) b.momentum(momentum);
        if (given.hasMatchedOption("--power")) b.powerForImage(power);
        if (given.hasMatchedOption("--max-value")) b.maxValue(maxValue);
        return b.build();
    }
}
