package io.github.v2a4j.cli;

import static io.github.v2a4j.cli.GenerateCommandTest.filesIn;
import static io.github.v2a4j.cli.GenerateCommandTest.makeVideo;
import static io.github.v2a4j.cli.GenerateCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.faults.Corrupt;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.synthetic.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The faults found by trying to break {@code v2a generate}, each injected and each required to end in one line
 * {@code v2a: error: …} (exit 1) before the expensive work, or in a correct output (exit 0). Runs the CLI in this JVM
 * on the tiny demo model and a 2 s, 48×32 video, so a whole generation takes seconds.
 */
class GenerateFaultsTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path video;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        DemoModel.write(model);
        video = dir.resolve("in.mp4");
        makeVideo(video, 2.0, 12);
    }

    /** A damaged copy of the demo model. */
    static Path modelCopy(String name) throws Exception {
        return Corrupt.copyTree(model, dir.resolve(name));
    }

    /** generate on the small video with 2 frames and 1 step unless {@code extra} sets them. */
    static List<String> args(Path model, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", video.toString(), "--model", model.toString(),
                "--out", out.toString()));
        List<String> given = List.of(extra);
        if (!given.contains("--frames")) a.addAll(List.of("--frames", "2"));
        if (!given.contains("--steps")) a.addAll(List.of("--steps", "1"));
        a.addAll(given);
        return a;
    }

    /** Exit 1, the last line one error line containing every {@code expected}, no stack trace, nothing written. */
    static GenerateCommandTest.Run fails(Path outDir, List<String> args, String... expected) throws Exception {
        Files.createDirectories(outDir);
        GenerateCommandTest.Run r = run(args.toArray(new String[0]));
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        List<String> errors = r.err().lines().filter(l -> l.startsWith("v2a: error: ")).toList();
        assertThat(errors).as(r.err()).hasSize(1);
        assertThat(errors.get(0)).contains(expected);
        assertThat(r.err()).doesNotContain("\tat ");
        assertThat(filesIn(outDir)).as("left behind").isEmpty();
        return r;
    }

    // ---- fault 3: every option is checked before any work ------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--steps|0|number of denoising steps must be 1 to 1000, got 0",
        "--steps|1001|number of denoising steps must be 1 to 1000, got 1001",
        "--guidance|1|guidance scale must be above 1 and at most 100",
        "--guidance|100.5|guidance scale must be above 1 and at most 100",
        "--guidance|NaN|guidance scale must be above 1",
        "--guidance|Infinity|guidance scale must be above 1",
        "--frames|0|number of frames to sample from the video must be 1 to 1000, got 0",
        "--frames|1001|number of frames to sample from the video must be 1 to 1000, got 1001",
        "--max-duration|0|longest stretch of video used must be at least 1 second, got 0"})
    void anOptionOutOfRangeIsOneLineBeforeTheVideoIsRead(String option, String value, String message) throws Exception {
        Path outDir = dir.resolve("bounds" + option + value);
        GenerateCommandTest.Run r = fails(outDir, args(model, outDir.resolve("o.mp4"), option, value), message);
        assertThat(r.err()).doesNotContain("reading video").doesNotContain("numFrames");
    }

    @Test
    void stepsAboveTheSchedulersRangeFailBeforeTheEncoders() throws Exception {
        // the demo scheduler (1000 training timesteps, steps_offset 1, leading) serves at most 999 steps; 1000 would
        // index timestep 1000, past diffusers' tables
        Path outDir = dir.resolve("steps1000");
        GenerateCommandTest.Run r = fails(outDir, args(model, outDir.resolve("o.mp4"), "--steps", "1000"),
                "steps must be at most 999 for this model's scheduler");
        assertThat(r.err()).doesNotContain("encoding prompts");
    }

    @Test
    void aMistypedNumberIsOneLineWithExit2AndAHint() {
        GenerateCommandTest.Run r = run("generate", video.toString(), "--steps", "abc");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().strip().lines().toList()).containsExactly(
                "v2a: error: Invalid value for option '--steps': 'abc' is not an int (see 'v2a generate --help')");
    }

    @Test
    void oneStepRunsToTheEndAndEveryOutputGetsTheSamePermissions() throws Exception {
        // diffusers 0.31 runs PNDM with one step (skip_prk_steps: the chain is the single timestep)
        Path outDir = Files.createDirectories(dir.resolve("one-step"));
        Path out = outDir.resolve("o.mp4");
        Path wav = outDir.resolve("o.wav");
        Path png = outDir.resolve("o.png");
        GenerateCommandTest.Run r = run(args(model, out, "--save-wav", wav.toString(), "--save-spectrogram",
                png.toString()).toArray(new String[0]));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(VideoReader.load(out, 2, 12).durationSec()).isEqualTo(1);
        // --save-wav was owner-only (0600) while the mp4 was 0644: every output is now made as any new file is
        var plain = Files.getPosixFilePermissions(Files.createFile(outDir.resolve("plain")));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(wav)))
                .isEqualTo(PosixFilePermissions.toString(Files.getPosixFilePermissions(out)))
                .isEqualTo(PosixFilePermissions.toString(Files.getPosixFilePermissions(png)))
                .isEqualTo(PosixFilePermissions.toString(plain));
    }

    // ---- fault 1: non-finite weights --------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "unet/model.safetensors|conv_in.weight|NaN",
        "unet/model.safetensors|conv_out.weight|Infinity",
        "vae/model.safetensors|decoder.conv_in.weight|NaN",
        "cogvlm/model.safetensors|model.embed_tokens.weight|NaN"})
    void aNonFiniteWeightIsNamedBeforeAnyEncoding(String file, String tensor, float value) throws Exception {
        Path broken = modelCopy("nonfinite-" + tensor + value);
        Corrupt.setFloat(broken.resolve(file), tensor, 3, value);
        Path outDir = dir.resolve("out-nonfinite-" + tensor + value);
        GenerateCommandTest.Run r = fails(outDir, args(broken, outDir.resolve("o.mp4")),
                broken.resolve(file).toString(), "tensor '" + tensor + "' holds " + (Float.isNaN(value) ? "NaN" : "+Inf")
                        + " at element 3");
        assertThat(r.err()).doesNotContain("encoding prompts");
    }

    @Test
    void aBlockThatOverflowsStopsTheRunNamingTheBlock() throws Exception {
        // finite weights so large that conv_in's products overflow: the weights pass, the activations do not
        Path broken = modelCopy("overflow");
        Corrupt.fillFloat(broken.resolve("unet/model.safetensors"), "conv_in.weight", 3e38f);
        Path outDir = dir.resolve("out-overflow");
        GenerateCommandTest.Run r = fails(outDir, args(broken, outDir.resolve("o.mp4"), "--save-wav",
                outDir.resolve("o.wav").toString()), "UNet: conv_in gave ",
                "its input came from the latents of step 1 of 1 at timestep 1 (finite)");
        assertThat(r.err()).doesNotContain("decoding spectrogram");
    }

    // ---- faults 2 and 5: the black-video cache ------------------------------------------------------------------

    @Test
    void anUnwritableCacheIsAWarningNotAFailure() throws Exception {
        Path blocked = Files.writeString(dir.resolve("not-a-folder"), "a file where the cache folder would be");
        Path out = Files.createDirectories(dir.resolve("cache-blocked")).resolve("o.mp4");
        GenerateCommandTest.Run r = run(args(model, out, "--cache-dir", blocked.toString()).toArray(new String[0]));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(out).isRegularFile();
        List<String> warnings = r.err().lines().filter(l -> l.contains("cannot write to the cache folder")).toList();
        assertThat(warnings).hasSize(1); // once, though the stamps and the embedding both failed
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void aChangedCogVlmWeightIsNotAnsweredFromTheCache() throws Exception {
        Path m = modelCopy("cache-key");
        Path cache = dir.resolve("cache-key-cache");
        Path out1 = Files.createDirectories(dir.resolve("cache-key-1")).resolve("o.mp4");
        assertThat(run(args(m, out1, "--cache-dir", cache.toString()).toArray(new String[0])).exit()).isZero();
        assertThat(embeddings(cache)).hasSize(1);
        // same header, one value changed: the black-video embedding changes, so its cache entry must too
        Path weights = m.resolve("cogvlm/model.safetensors");
        String tensor = "model.vision.transformer.layers.0.mlp.fc1.weight";
        Corrupt.setFloat(weights, tensor, 0, 0.5f);
        Path out2 = Files.createDirectories(dir.resolve("cache-key-2")).resolve("o.mp4");
        GenerateCommandTest.Run r = run(args(m, out2, "--cache-dir", cache.toString()).toArray(new String[0]));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(embeddings(cache)).hasSize(2);
    }

    static List<Path> embeddings(Path cache) throws Exception {
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.getFileName().toString().startsWith("uncond-video-")).toList();
        }
    }

    // ---- fault 6 and the smaller ones ---------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "unet/model.safetensors|conv_in.weight",
        "vae/model.safetensors|decoder.conv_in.weight",
        "cogvlm/model.safetensors|model.vision.transformer.layers.0.mlp.fc1.weight"})
    void anIntegerTensorWhereAWeightBelongsIsNamed(String file, String tensor) throws Exception {
        Path broken = modelCopy("dtype-" + tensor);
        Corrupt.retype(broken.resolve(file), tensor, "I32"); // same byte span as F32: only the dtype tells
        Path outDir = dir.resolve("out-dtype-" + tensor);
        fails(outDir, args(broken, outDir.resolve("o.mp4")), tensor + " is I32, a weight must be F32, BF16, F16 or F64",
                Path.of(file).getFileName().toString(), broken.resolve(file).getParent().toString());
    }
}
