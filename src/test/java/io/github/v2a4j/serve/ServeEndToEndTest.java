package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.Defaults;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.synthetic.DemoModel;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service on the real pipeline and the demo model ({@link PipelineClipGenerator}), over loopback: a job that
 * finishes and whose mp4, WAV and PNG are what {@code v2a generate} writes; a job cancelled at a denoising step; a
 * video too short for K4 that fails with the CLI's one-line reason.
 */
class ServeEndToEndTest {
    private static final Duration WAIT = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @Test
    void runsCancelsAndFailsJobsOnTheDemoModel() throws Exception {
        Path model = dir.resolve("model");
        DemoModel.write(model);
        Path shortVideo = dir.resolve("short.mp4");
        VideoWriter.write(shortVideo, 48, 32, 12, 6, i -> new byte[48 * 32 * 3], null, 44100); // 0.5 s

        try (TestServer s = TestServer.start(TestServer.config(dir.resolve("work")),
                () -> PipelineClipGenerator.open(model, io.github.v2a4j.nn.Precision.FP32))) {
            s.server.modelOpened().get();
            String done = ServeApiTest.id(s.http.submit(TestServer.sample(), Http.fields("steps", "2", "seed", "3")));
            String cancelled = ServeApiTest.id(s.http.submit(TestServer.sample(), Http.fields("steps", "50")));
            String failed = ServeApiTest.id(s.http.submit(Files.readAllBytes(shortVideo), Http.fields()));

            JsonObject job = s.http.awaitState(done, WAIT, "done", "failed");
            assertThat(job.get("state").getAsString()).as(job.toString()).isEqualTo("done");
            Set<String> stages = new HashSet<>();
            for (Stage st : Stage.values()) stages.add(JobStatus.stageId(st));
            assertThat(job.getAsJsonObject("timings_seconds").keySet()).isEqualTo(stages);

            // the sample is 3 s at 25 fps: 288 spectrogram columns, 441 samples per column after the first
            int columns = Video2AudioPipeline.spectrogramWidth(3);
            assertThat(job.get("audio_seconds").getAsDouble()).isEqualTo(441.0 * (columns - 1) / 44100);
            HttpResponse<byte[]> mp4 = s.http.getBytes("/v1/jobs/" + done + "/result");
            assertThat(mp4.statusCode()).isEqualTo(200);
            Path got = Files.write(dir.resolve("got.mp4"), mp4.body());
            LoadedVideo back = VideoReader.load(got, Defaults.FRAMES, Defaults.MAX_DURATION_SEC);
            assertThat(back.width()).isEqualTo(256);
            assertThat(back.height()).isEqualTo(144);
            // the 75 frames of the sample re-timed to the 2.87 s of audio, as K4's create_video does
            assertThat(back.fps()).isCloseTo(75 / (441.0 * (columns - 1) / 44100), org.assertj.core.data.Offset.offset(0.05));
            assertThat(back.durationSec()).isEqualTo(2);
            Path wavFile = Files.write(dir.resolve("got.wav"), s.http.getBytes("/v1/jobs/" + done + "/audio").body());
            WavFile wav = WavFile.read(wavFile);
            assertThat(wav.sampleRate).isEqualTo(44100);
            assertThat(wav.samples.length).isEqualTo(441 * (columns - 1));
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(
                    s.http.getBytes("/v1/jobs/" + done + "/spectrogram").body()));
            assertThat(png.getWidth()).isEqualTo(columns);
            assertThat(png.getHeight()).isEqualTo(512);

            // cancelled at a denoising step boundary: it never reaches the VAE
            s.http.await(cancelled, WAIT, j -> j.has("stage") && j.get("stage").getAsString().equals("denoise")
                    && j.getAsJsonObject("progress").get("done").getAsInt() >= 1);
            assertThat(s.http.delete("/v1/jobs/" + cancelled).statusCode()).isEqualTo(202);
            JsonObject c = s.http.awaitState(cancelled, Duration.ofMinutes(2), "cancelled", "done", "failed");
            assertThat(c.get("state").getAsString()).isEqualTo("cancelled");
            assertThat(c.get("attempts").getAsInt()).isEqualTo(1);
            assertThat(s.http.get("/metrics").body()).contains("v2a_stage_seconds_count{stage=\"vae_decode\"} 1\n");

            JsonObject f = s.http.awaitState(failed, WAIT, "failed", "done");
            assertThat(f.get("state").getAsString()).isEqualTo("failed");
            assertThat(f.get("error").getAsString()).isEqualTo("video: video too short: 6 frames at 12 fps is less "
                    + "than 1 s (K4 needs at least 1 whole second)");
        }
    }
}
