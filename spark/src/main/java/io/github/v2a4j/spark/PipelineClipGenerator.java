package io.github.v2a4j.spark;

import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.GenerationResult;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@link ClipGenerator} over {@link Video2AudioPipeline}, as {@code v2a generate} runs it: the video read as K4's
 * {@code load_video} reads it (96 frames), the pipeline, and the used frames re-timed to the audio and muxed with it.
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
        Map<String, Double> seconds = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        LoadedVideo video = VideoReader.load(localVideo, VideoReader.K4_NUM_FRAMES, o.maxDurationSec());
        seconds.put("load_video", (System.nanoTime() - t0) / 1e9);

        GenerationOptions options = GenerationOptions.defaults().withPrompts(o.prompt(), o.negativePrompt())
                .withSeed(o.seed()).withSteps(o.steps()).withGuidance(o.guidance());
        GenerationResult r = pipeline.generate(video.clip(), video.durationSec(), options, PipelineListener.NONE,
                Trace.OFF);
        r.timings().forEach((stage, d) -> seconds.put(stage.name().toLowerCase(Locale.ROOT), d.toNanos() / 1e9));

        long m0 = System.nanoTime();
        VideoWriter.muxRetimed(video, r.pcm(), r.sampleRate(), localOut);
        seconds.put("mux", (System.nanoTime() - m0) / 1e9);
        return new Result(r.audioSeconds(), seconds);
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
