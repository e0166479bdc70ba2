package io.github.v2a4j.spark;

import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.VideoJob;
import io.github.v2a4j.pipeline.VideoResult;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@link ClipGenerator} on {@link Video2AudioPipeline#generateVideo}, as {@code v2a generate} runs it: the video read
 * as K4's {@code load_video} reads it (96 frames), the pipeline, and the used frames re-timed to the audio and muxed
 * with it.
 */
public final class PipelineClipGenerator implements ClipGenerator {

    private final Video2AudioPipeline pipeline;

    private PipelineClipGenerator(Video2AudioPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Opens a model directory made by {@code v2a convert} (weights mapped, every tensor checked). */
    public static PipelineClipGenerator open(Path modelDir) {
        return new PipelineClipGenerator(Video2AudioPipeline.open(modelDir));
    }

    @Override
    public Result generate(Path localVideo, Path localOut, ItemOptions o) {
        GenerationOptions options = GenerationOptions.defaults().withPrompts(o.prompt(), o.negativePrompt())
                .withSeed(o.seed()).withSteps(o.steps()).withGuidance(o.guidance())
                .withMaxDurationSec(o.maxDurationSec());
        VideoResult r = pipeline.generateVideo(VideoJob.of(localVideo, localOut), options, PipelineListener.NONE,
                () -> false);
        Map<String, Double> seconds = new LinkedHashMap<>();
        r.timings().forEach((stage, d) -> seconds.put(stage.name().toLowerCase(Locale.ROOT), d.toNanos() / 1e9));
        return new Result(r.audioSeconds(), seconds);
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
