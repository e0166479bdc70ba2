package io.github.v2a4j.spark;

import java.nio.file.Path;
import java.util.Map;

/**
 * The one thing the job needs from v2a4j: a local video file in, a local video file with generated sound out.
 * {@link PipelineClipGenerator} is the implementation; everything else in this package is Spark and file systems.
 * An instance is not used by two threads at once ({@link ExecutorModels} serialises the calls).
 */
public interface ClipGenerator extends AutoCloseable {

    /**
     * Generates the sound track of {@code localVideo} and writes the video with it to {@code localOut}, which does not
     * exist yet. Throws with a one-line message (naming the file) when the video cannot be used.
     */
    Result generate(Path localVideo, Path localOut, ItemOptions options);

    /**
     * @param audioSeconds length of the generated audio
     * @param stageSeconds wall time of each stage, in order, keyed by a lower-case stage name ({@code load_video},
     *                     {@code denoise}, …)
     */
    record Result(double audioSeconds, Map<String, Double> stageSeconds) {}

    @Override
    void close();
}
