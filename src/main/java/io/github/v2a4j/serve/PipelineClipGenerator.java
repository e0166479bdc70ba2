package io.github.v2a4j.serve;

import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.VideoJob;
import io.github.v2a4j.pipeline.VideoResult;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * {@link ClipGenerator} on {@link Video2AudioPipeline#generateVideo}, doing what {@code v2a generate} does: read the
 * video as K4's {@code load_video}, generate, mux (re-timed frames, or the kept video stream), write the WAV and the
 * spectrogram. The pipeline checks {@code cancelled} between stages, CogVLM2 layers and denoising steps.
 */
public final class PipelineClipGenerator implements ClipGenerator {

    private final Video2AudioPipeline pipeline;

    private PipelineClipGenerator(Video2AudioPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Opens the model directory once; every tensor is checked here, before any job runs. */
    public static PipelineClipGenerator open(Path modelDir, Precision precision) {
        return new PipelineClipGenerator(Video2AudioPipeline.open(modelDir, precision));
    }

    @Override
    public Result generate(Path video, Path outDir, JobOptions options, PipelineListener listener,
                           BooleanSupplier cancelled) {
        VideoJob job = VideoJob.of(video, outDir.resolve(RESULT)).withKeepVideo(options.keepVideo())
                .withWav(outDir.resolve(AUDIO)).withSpectrogram(outDir.resolve(SPECTROGRAM)).withOverwrite(true);
        VideoResult r = pipeline.generateVideo(job, options.generationOptions(), listener, cancelled);
        return new Result(r.audioSeconds(), r.timings());
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
