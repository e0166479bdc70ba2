package io.github.v2a4j.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.cli.Main;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.synthetic.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only a separate process shows: FFmpeg writes its log straight to file descriptor 2, and a signal ends the
 * JVM. Each case runs {@code v2a generate} in a child JVM.
 */
class GenerateProcessTest {

    @TempDir
    Path dir;

    static byte[] sample() throws Exception {
        return Files.readAllBytes(Fuzz.SAMPLE);
    }

    Processes.Run generate(Path video, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Main.class.getName(), "generate", video.toString(), "--model",
                dir.resolve("no-model").toString(), "--out", dir.resolve("o.mp4").toString()));
        cmd.addAll(Arrays.asList(extra));
        return Processes.run(cmd, Map.of(), 120);
    }

    static List<String> lines(String s) {
        return s.lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void ffmpegsOwnLogStaysOffStderrAndTheErrorIsOursInOneLine() throws Exception {
        byte[] b = sample();
        Path cut = Files.write(dir.resolve("cut.mp4"), Arrays.copyOf(b, b.length / 2));
        Processes.Run r = generate(cut);
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        // before: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x…] moov atom not found" twice, and JavaCV's "Has setFormat() been
        // called?" advice in our message
        assertThat(lines(r.err())).containsExactly("v2a: reading video ...", "v2a: error: " + cut
                + ": not a video file FFmpeg can read: the mp4 index (moov atom) is missing: the file is cut short, "
                + "still being written, or not an mp4");

        // damaged frames: FFmpeg conceals them ("error while decoding MB …") and the video reads; the run then stops
        // at the missing model, the only error
        int mdat = indexOf(b, "mdat");
        Random rnd = new Random(1);
        for (int k = 0; k < 200; k++) b[mdat + 8 + rnd.nextInt(20000)] ^= (byte) (1 + rnd.nextInt(255));
        Path damaged = Files.write(dir.resolve("damaged.mp4"), b);
        r = generate(damaged);
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(lines(r.err())).allMatch(l -> l.startsWith("v2a: "));
        assertThat(lines(r.err()).get(lines(r.err()).size() - 1)).contains("no such model directory");

        // --verbose shows FFmpeg's view through the "ffmpeg" logger
        r = generate(cut, "--verbose");
        assertThat(r.err()).contains("moov atom not found").contains("ffmpeg");
    }

    @Test
    void aZeroOrHugeTimeScaleIsNamedAsAnUnusableFrameRate() throws Exception {
        for (long ts : new long[] {0, 0xffffffffL}) {
            Path v = Files.write(dir.resolve("ts" + ts + ".mp4"), sample());
            Corrupt.setTimeScale(v, ts);
            Processes.Run r = generate(v);
            assertThat(r.exit()).isEqualTo(1);
            // before: "second decoding pass gave 0 frames, fewer than the 0 counted in the first"
            assertThat(lines(r.err())).containsExactly("v2a: reading video ...", "v2a: error: " + v
                    + ": the frame rate is unusable: 0.002 fps from a time base of 1/1 s (a zero or damaged time scale "
                    + "in the file; 1 to 1000 fps are accepted)");
        }
    }

    @Test
    void ctrlCWhileTheVideoIsWrittenLeavesNothingBehind() throws Exception {
        Path model = dir.resolve("model");
        DemoModel.write(model);
        Path video = dir.resolve("in.mp4");
        VideoWriter.write(video, 48, 32, 12, 24, i -> new byte[48 * 32 * 3], null, 44100);
        // SIGTERM, and both signals at every other stage, are in FaultInjectionFuzzTest (mvn test -Pfuzz)
        Signals.interruptAt(Files.createDirectories(dir.resolve("int")), "writing video", "INT", video, model,
                List.of("--frames", "2", "--steps", "1"));
    }

    static int indexOf(byte[] b, String type) {
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        for (int i = 0; i + 4 <= b.length; i++) {
            if (b[i] == t[0] && b[i + 1] == t[1] && b[i + 2] == t[2] && b[i + 3] == t[3]) return i - 4;
        }
        throw new IllegalArgumentException("no " + type + " box");
    }
}
