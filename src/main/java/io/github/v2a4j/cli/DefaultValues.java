package io.github.v2a4j.cli;

import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.pipeline.Defaults;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The commands' option defaults, taken from {@link Defaults} and riffusion's {@link SpectrogramParams#defaults()}
 * rather than written again in the annotations; {@code ${DEFAULT-VALUE}} in a description shows them.
 */
final class DefaultValues implements IDefaultValueProvider {

    /** Options of {@code generate} only (other commands give some of these names other meanings or none). */
    private static final Map<String, String> GENERATE = Map.ofEntries(
            Map.entry("--prompt", Defaults.PROMPT),
            Map.entry("--negative-prompt", Defaults.NEGATIVE_PROMPT),
            Map.entry("--steps", String.valueOf(Defaults.STEPS)),
            Map.entry("--guidance", fmt(Defaults.GUIDANCE)),
            Map.entry("--frames", String.valueOf(Defaults.FRAMES)),
            Map.entry("--max-duration", String.valueOf(Defaults.MAX_DURATION_SEC)),
            Map.entry("--target-dbfs", fmt(Defaults.TARGET_DBFS)),
            Map.entry("--cfg", Defaults.CFG_ONE_BATCH ? "batch" : "split"));

    /** riffusion's spectrogram parameters ({@link SpectrogramOptions}) and the Griffin-Lim seed, for every command. */
    private static final Map<String, String> SPECTROGRAM;

    static {
        SpectrogramParams p = SpectrogramParams.defaults();
        SPECTROGRAM = Map.ofEntries(
                Map.entry("--seed", String.valueOf(Defaults.SEED)),
                Map.entry("--sample-rate", String.valueOf(p.sampleRate())),
                Map.entry("--step-ms", String.valueOf(p.stepSizeMs())),
                Map.entry("--window-ms", String.valueOf(p.windowDurationMs())),
                Map.entry("--padded-ms", String.valueOf(p.paddedDurationMs())),
                Map.entry("--mels", String.valueOf(p.numFrequencies())),
                Map.entry("--min-freq", fmt(p.minFrequency())),
                Map.entry("--max-freq", fmt(p.maxFrequency())),
                Map.entry("--mel-scale", p.melScaleType()),
                Map.entry("--mel-norm", p.melScaleNorm() == null ? "none" : p.melScaleNorm()),
                Map.entry("--iterations", String.valueOf(p.numGriffinLimIters())),
                Map.entry("--momentum", fmt(p.momentum())),
                Map.entry("--power", fmt(p.powerForImage())),
                Map.entry("--max-value", fmt(p.maxValue())));
    }

    /** Integral values without a trailing ".0"; others as Java prints them. */
    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o)) return null;
        String name = o.longestName();
        if (o.command() != null && "generate".equals(o.command().name()) && GENERATE.containsKey(name)) {
            return GENERATE.get(name);
        }
        return SPECTROGRAM.get(name);
    }
}
