package io.github.v2a4j.cli;

import static io.github.v2a4j.cli.GenerateCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.cli.GenerateCommandTest.Run;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.TraceEvents;
import io.github.v2a4j.pipeline.TraceProfile;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Scale;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code v2a rehearse} at tiny widths: the published layouts, convert and generate in child processes, one table and
 * {@code rehearsal.json} with every figure; a second run reuses the checkpoints and the model.
 */
class RehearseCommandTest {

    @TempDir
    Path tmp;

    static Map<String, JsonObject> stages(JsonObject report, String run) {
        Map<String, JsonObject> out = new LinkedHashMap<>();
        boolean in = false;
        for (JsonElement el : report.getAsJsonArray("stages")) {
            JsonObject s = el.getAsJsonObject();
            if (!s.get("substage").getAsBoolean()) in = s.get("stage").getAsString().equals(run);
            else if (in) out.put(s.get("stage").getAsString(), s);
        }
        return out;
    }

    static JsonObject row(JsonObject report, String stage) {
        for (JsonElement el : report.getAsJsonArray("stages")) {
            if (el.getAsJsonObject().get("stage").getAsString().equals(stage)) return el.getAsJsonObject();
        }
        throw new AssertionError("no row " + stage + " in " + report);
    }

    @Test
    void tinyRehearsalEndToEndThenReused() throws Exception {
        Path work = tmp.resolve("work");
        // the quick rehearsal (--cogvlm-layers 1,1 --steps 2 on a short clip) at tiny widths
        String[] shape = {"--work", work.toString(), "--scale", "tiny", "--cogvlm-layers", "1,1", "--steps", "2",
            "--seconds", "2", "--frames", "4"};
        Run r = run(Stream.concat(Stream.of("rehearse"), Stream.of(shape)).toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("stage", "GFLOP/s", "anon GB", "file GB", "synthetic checkpoints", "convert (f32)",
                "generate cold (f32)", "  denoising");

        JsonObject report = JsonParser.parseString(Files.readString(work.resolve("rehearsal.json"))).getAsJsonObject();
        JsonObject machine = report.getAsJsonObject("machine");
        assertThat(machine.keySet()).contains("cpu_model", "cores", "memory_total", "load_average_start",
                "load_average_end", "started");
        assertThat(machine.get("cores").getAsInt()).isPositive();
        JsonObject settings = report.getAsJsonObject("settings");
        assertThat(settings.get("precision").getAsString()).isEqualTo("fp32");
        assertThat(settings.get("dtype").getAsString()).isEqualTo("f32");
        assertThat(settings.get("vision_layers").getAsInt()).isEqualTo(1);
        assertThat(settings.get("decoder_layers").getAsInt()).isEqualTo(1);
        assertThat(settings.get("steps").getAsInt()).isEqualTo(2);
        // the checkpoint holds one decoder layer more than runs, as the published one does
        JsonObject config = JsonParser.parseString(Files.readString(
                work.resolve("checkpoints/cogvlm2-video-llama3-chat/config.json"))).getAsJsonObject();
        assertThat(config.get("num_hidden_layers").getAsInt()).isEqualTo(2);
        assertThat(config.getAsJsonObject("vision_config").get("num_hidden_layers").getAsInt()).isEqualTo(1);

        List<String> names = new ArrayList<>();
        report.getAsJsonArray("stages").forEach(s -> names.add(s.getAsJsonObject().get("stage").getAsString()));
        List<String> expected = new ArrayList<>(List.of("synthetic checkpoints", "convert (f32)", "generate cold (f32)"));
        for (Stage s : Stage.values()) expected.add(s.label());
        assertThat(names).containsExactlyElementsOf(expected);

        for (String process : new String[] {"synthetic checkpoints", "convert (f32)", "generate cold (f32)"}) {
            JsonObject p = row(report, process);
            assertThat(p.get("status").getAsString()).as(process).isIn("written", "ok");
            for (String f : new String[] {"wall_s", "peak_rss_anonymous_bytes", "peak_rss_file_bytes", "peak_rss_bytes",
                    "disk_bytes"}) {
                assertThat(p.get(f).getAsDouble()).as(process + " " + f).isPositive();
            }
        }
        JsonObject generate = row(report, "generate cold (f32)");
        assertThat(generate.get("flop").getAsDouble()).isPositive();
        assertThat(generate.get("gflop_per_s").getAsDouble()).isPositive();
        Map<String, JsonObject> cold = stages(report, "generate cold (f32)");
        double stageFlop = 0;
        for (JsonObject s : cold.values()) {
            assertThat(s.get("status").getAsString()).isEqualTo("ok");
            assertThat(s.get("wall_s").getAsDouble()).isNotNegative();
            assertThat(s.get("peak_rss_anonymous_bytes").getAsDouble()).isPositive();
            assertThat(s.get("peak_rss_file_bytes").getAsDouble()).isPositive();
            if (s.has("flop")) stageFlop += s.get("flop").getAsDouble();
        }
        assertThat(generate.get("flop").getAsDouble()).isCloseTo(stageFlop, org.assertj.core.data.Percentage.withPercentage(1e-9));
        for (Stage s : new Stage[] {Stage.ENCODE_PROMPT, Stage.ENCODE_VIDEO, Stage.ENCODE_BLACK_VIDEO, Stage.DENOISE,
                Stage.VAE_DECODE}) {
            assertThat(cold.get(s.label()).get("flop").getAsDouble()).as(s.label()).isPositive();
        }
        // the black clip is one frame repeated: its vision tower runs once, so its pass counts less than the video's
        assertThat(cold.get(Stage.ENCODE_BLACK_VIDEO.label()).get("flop").getAsDouble())
                .isLessThan(cold.get(Stage.ENCODE_VIDEO.label()).get("flop").getAsDouble());
        assertThat(cold.get(Stage.AUDIO.label()).has("flop")).isFalse(); // no analytic count for Griffin-Lim
        assertThat(work.resolve("out-f32-cold.mp4")).isRegularFile();
        assertThat(work.resolve("logs/convert-f32.log")).isRegularFile();
        // the child generate ran the rehearsal's shape: one vision and one decoder layer per pass, 2 steps
        List<String> units = new ArrayList<>();
        for (JsonObject e : TraceEvents.valid(work.resolve("profile-f32-cold.json"))) {
            // layers and steps; the latent window's own event is on the window track
            if (e.get("ph").getAsString().equals("X") && !e.get("cat").getAsString().equals(TraceProfile.WINDOW)) {
                units.add(e.getAsJsonObject("args").get("stage").getAsString() + ": " + e.get("name").getAsString());
            }
        }
        String video = Stage.ENCODE_VIDEO.label() + ": ";
        String black = Stage.ENCODE_BLACK_VIDEO.label() + ": ";
        String denoise = Stage.DENOISE.label() + ": ";
        assertThat(units).containsExactly(Stage.ENCODE_PROMPT.label() + ": decoder layer 1/1",
                video + "vision layer 1/1", video + "adapter", video + "decoder layer 1/1",
                black + "vision layer 1/1", black + "adapter", black + "decoder layer 1/1",
                denoise + "step 1/3", denoise + "step 2/3", denoise + "step 3/3");

        // again, with the model kept and the black-video cache warm: nothing rewritten
        Path shard = work.resolve("checkpoints/cogvlm2-video-llama3-chat/model-00001-of-00006.safetensors");
        FileTime written = Files.getLastModifiedTime(shard);
        Run again = run(Stream.concat(Stream.of("rehearse"), Stream.concat(Stream.of(shape),
                Stream.of("--reuse-model", "--runs", "warm"))).toArray(String[]::new));
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(Files.getLastModifiedTime(shard)).isEqualTo(written);
        JsonObject second = JsonParser.parseString(Files.readString(work.resolve("rehearsal.json"))).getAsJsonObject();
        assertThat(row(second, "synthetic checkpoints").get("status").getAsString()).isEqualTo("reused");
        assertThat(row(second, "convert (f32)").get("status").getAsString()).isEqualTo("reused");
        Map<String, JsonObject> warm = stages(second, "generate warm (f32)");
        assertThat(warm.get(Stage.ENCODE_BLACK_VIDEO.label()).get("status").getAsString()).isEqualTo("cached");
        assertThat(warm.get(Stage.ENCODE_BLACK_VIDEO.label()).get("flop").getAsDouble()).isZero();
        // the prompts' text embeddings come from the cache too
        assertThat(warm.get(Stage.ENCODE_PROMPT.label()).get("status").getAsString()).isEqualTo("cached");
        assertThat(warm.get(Stage.ENCODE_PROMPT.label()).get("flop").getAsDouble()).isZero();
    }

    @Test
    void badOptionsFailBeforeAnythingIsWritten() {
        Path work = tmp.resolve("never");
        for (String[] bad : new String[][] {
            {"--cogvlm-layers", "64,31"}, {"--cogvlm-layers", "2"}, {"--dtype", "f16"}, {"--scale", "huge"},
            {"--runs", "hot"}, {"--video", tmp.resolve("missing.mp4").toString()}, {"--steps", "0"}}) {
            Run r = run(Stream.concat(Stream.of("rehearse", "--work", work.toString()), Stream.of(bad)).toArray(String[]::new));
            assertThat(r.exit()).as(String.join(" ", bad)).isEqualTo(1);
            assertThat(r.err().strip()).startsWith("v2a: error: ").doesNotContain("\tat ");
            assertThat(work).doesNotExist();
        }
    }

    @Test
    void aFailedChildIsReportedWithItsErrorLine() throws Exception {
        java.io.ByteArrayOutputStream echo = new java.io.ByteArrayOutputStream();
        ChildRun r = ChildRun.run(List.of("generate", tmp.resolve("nope.mp4").toString()), tmp.resolve("logs/g.log"),
                new java.io.PrintStream(echo, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(r.ok()).isFalse();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.failure()).isEqualTo("exit 1: " + tmp.resolve("nope.mp4") + ": no such video file");
        assertThat(Files.readString(tmp.resolve("logs/g.log"))).contains("v2a: error:");
        assertThat(echo.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("    v2a: error:");
        assertThat(r.peakBytes()).isPositive();
    }

    @Test
    void refusesClearlyWhenTheDiskCannotHoldIt() {
        assertThat(RehearseCommand.checkDisk(100, 100, 60, 30, "f32")).isNull();
        assertThat(RehearseCommand.checkDisk(81_000_000_000L, 72_000_000_000L, 29_500_000_000L, 51_000_000_000L, "f32"))
                .startsWith("the rehearsal needs 81.0 GB of disk (synthetic checkpoints 29.5 GB, f32 model 51.0 GB")
                .contains("only 72.0 GB are free; nothing was written", "--dtype bf16");
    }

    @Test
    void diskOfTheConvertedPublishedModel() {
        // CogVLM2 12 507 532 544 parameters less what convert drops (decoder layer 31 with its inv_freq, model.norm,
        // lm_head), the UNet's 1 036 931 780 and the VAE decoder's 49 490 199
        long cogvlm = 12_507_532_544L - (218_112_000L + 64) - 4096 - 128256L * 4096;
        long params = cogvlm + 1_036_931_780L + 49_490_199L;
        assertThat(RehearseCommand.convertedBytes(Shape.all(Scale.REAL), 4)).isEqualTo(4 * params); // 51.4 GB
        assertThat(RehearseCommand.convertedBytes(Shape.all(Scale.REAL), 2)).isEqualTo(2 * params); // 25.7 GB
    }
}
