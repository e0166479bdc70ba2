package io.github.v2a4j.pipeline;

import io.github.v2a4j.synthetic.DemoModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Video2AudioPipeline#generateVideo}, the library's video-in, video-out call, on the tiny demo model: what it
 * writes, what it reports, and that a cancelled or failing job leaves nothing behind.
 */
class VideoToVideoTest {

    @TempDir
    static Path dir;

    static Video2AudioPipeline pipeline;
    static Path video;

    static final GenerationOptions FAST = GenerationOptions.defaults().withSteps(2).withFrames(4);

    @BeforeAll
    static void open() {
        DemoModel.write(dir.resolve("model"));
        pipeline = Video2AudioPipeline.open(dir.resolve("model"));
        video = dir.resolve("in.mp4");
        VideoWriter.write(video, 48, 32, 12, 24, i -> {
            byte[] rgb = new byte[48 * 32 * 3];
            for (int p = 0; p < rgb.length; p++) rgb[p] = (byte) (i * 9 + p % 97);
            return rgb;
        }, null, 44100);
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    /** Every stage's start, progress and end, in order. */
    static final class Recorder implements PipelineListener {
        final List<String> events = new ArrayList<>();

        @Override
        public void started(Stage stage, int units) {
            events.add("start " + stage + " " + units);
        }

        @Override
        public void progress(Stage stage, int done, int units, String detail) {
            events.add(stage + " " + done + "/" + units + " " + detail);
        }

        @Override
        public void finished(Stage stage, Duration took) {
            events.add("end " + stage);
        }

        @Override
        public void window(Stage stage, int window, int windows, double fromSec, double toSec, Duration took) {
            events.add(String.format(java.util.Locale.ROOT, "window %s %d/%d %.2f-%.2f", stage, window, windows,
                    fromSec, toSec));
        }
    }

    static List<String> files(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesTheVideoTheWavAndTheSpectrogramAndReportsEveryStage() throws Exception {
        Path out = Files.createDirectories(dir.resolve("ok"));
        // the prompts' embeddings may be cached by an earlier test: without them the prompt pass runs, layer by layer
        try (Stream<Path> cache = Files.list(io.github.v2a4j.io.CacheDir.choose(null, dir.resolve("model")))) {
            for (Path p : cache.filter(p -> p.getFileName().toString().startsWith("text-")).toList()) Files.delete(p);
        }
        Recorder rec = new Recorder();
        VideoResult r = pipeline.generateVideo(VideoJob.of(video, out.resolve("out.mp4"))
                .withWav(out.resolve("out.wav")).withSpectrogram(out.resolve("out.png")), FAST, rec, () -> false);

        assertThat(files(out)).containsExactly("out.mp4", "out.png", "out.wav");
        assertThat(r.videoSeconds()).isEqualTo(2);
        // 2 s → 192 spectrogram columns → 441 · 191 samples
        assertThat(r.audioSeconds()).isEqualTo(441 * 191 / 44100.0);
        assertThat(WavFile.read(out.resolve("out.wav")).samples).hasSize(441 * 191);
        assertThat(VideoReader.load(out.resolve("out.mp4"), 4, 12).durationSec()).isEqualTo(1); // re-timed
        assertThat(r.timings()).containsOnlyKeys(Stage.values());

        // the CogVLM2 passes report every layer (demo model: 2 vision layers, 3 decoder layers of which 2 are used)
        assertThat(rec.events).containsSubsequence("start ENCODE_PROMPT 2", "ENCODE_PROMPT 1/2 decoder layer 1/2",
                "ENCODE_PROMPT 2/2 decoder layer 2/2", "end ENCODE_PROMPT", "start ENCODE_VIDEO 5",
                "ENCODE_VIDEO 1/5 vision layer 1/2", "ENCODE_VIDEO 2/5 vision layer 2/2", "ENCODE_VIDEO 3/5 adapter",
                "ENCODE_VIDEO 4/5 decoder layer 1/2", "ENCODE_VIDEO 5/5 decoder layer 2/2", "end ENCODE_VIDEO",
                "start DENOISE 3", "DENOISE 1/3 step 1/3", "DENOISE 3/3 step 3/3", "end DENOISE", "end MUX");
    }

    @Test
    void aCancelledJobStopsAndWritesNothing() throws Exception {
        Path out = Files.createDirectories(dir.resolve("cancelled"));
        Recorder rec = new Recorder();
        // cancel once the second denoising step is done
        assertThatThrownBy(() -> pipeline.generateVideo(VideoJob.of(video, out.resolve("out.mp4"))
                        .withWav(out.resolve("out.wav")), FAST, rec,
                () -> rec.events.contains("DENOISE 2/3 step 2/3")))
                .isInstanceOf(CancellationException.class).hasMessageContaining("after 2 of 3 denoising steps");
        assertThat(rec.events).doesNotContain("DENOISE 3/3 step 3/3", "start VAE_DECODE");
        assertThat(files(out)).isEmpty();

        // a cancellation inside a CogVLM2 pass ends it at the next layer
        assertThatThrownBy(() -> pipeline.generateVideo(VideoJob.of(video, out.resolve("out.mp4")), FAST,
                PipelineListener.NONE, new java.util.function.BooleanSupplier() {
                    int calls;

                    @Override
                    public boolean getAsBoolean() {
                        return ++calls > 3;
                    }
                })).isInstanceOf(CancellationException.class).hasMessageContaining("encoding");
        assertThat(files(out)).isEmpty();
    }

    @Test
    void outputsAreCheckedBeforeAnyWork() throws Exception {
        Path out = Files.createDirectories(dir.resolve("checked"));
        Files.writeString(out.resolve("taken.wav"), "mine");
        Recorder rec = new Recorder();
        assertThatThrownBy(() -> pipeline.generateVideo(VideoJob.of(video, out.resolve("out.mp4"))
                .withWav(out.resolve("taken.wav")), FAST, rec, () -> false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("taken.wav: already exists");
        assertThat(rec.events).isEmpty();
        assertThatThrownBy(() -> pipeline.generateVideo(VideoJob.of(video, video).withOverwrite(true), FAST, rec,
                () -> false)).hasMessageContaining("overwrite the input");
        assertThat(files(out)).containsExactly("taken.wav");
        assertThat(Files.readString(out.resolve("taken.wav"))).isEqualTo("mine");
    }

    /** A scheduler named in the options replaces the model's: DDIM takes one evaluation per step, PNDM one more. */
    @Test
    void theOptionsSchedulerReplacesTheModels() {
        io.github.v2a4j.io.video.LoadedVideo v = VideoReader.load(video, 4, 12);
        for (String name : new String[] {null, "ddim"}) {
            io.github.v2a4j.nn.Trace trace = io.github.v2a4j.nn.Trace.matching(List.of("scheduler.step*.out.0"));
            pipeline.generate(v.clip(), v.durationSec(), FAST.withScheduler(name), PipelineListener.NONE, () -> false,
                    trace);
            assertThat(trace.recorded()).as(String.valueOf(name)).hasSize(name == null ? 3 : 2);
        }
    }
}
