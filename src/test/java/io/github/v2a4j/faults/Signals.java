package io.github.v2a4j.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.cli.Main;
import io.github.v2a4j.io.video.VideoReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code v2a generate} in a child JVM, interrupted by a signal the moment it reports that a stage has started
 * ({@code v2a: <stage> ...} on stderr). Whatever the stage, the run must end by the signal (or, if it finished first,
 * with a complete output), never with a native crash, and leave no temporary file and no partial output behind.
 */
final class Signals {

    private Signals() {}

    /** Interrupts {@code generate input --model model} at {@code stage}; returns what the child said. */
    static Processes.Run interruptAt(Path work, String stage, String signal, Path input, Path model,
                                     List<String> extra) throws Exception {
        Path out = Files.createDirectories(work.resolve("out"));
        Path cache = work.resolve("cache");
        List<String> cmd = new ArrayList<>(List.of(Main.class.getName(), "generate", input.toString(), "--model",
                model.toString(), "--out", out.resolve("o.mp4").toString(), "--save-wav",
                out.resolve("o.wav").toString(), "--cache-dir", cache.toString()));
        cmd.addAll(extra);
        Processes.Run r = Processes.signalWhen(cmd, Map.of(), l -> l.equals("v2a: " + stage + " ..."), signal, 600);
        String d = "SIG" + signal + " at '" + stage + "': exit " + r.exit() + "\n" + r.err();
        assertThat(r.timedOut()).as(d).isFalse();
        assertThat(r.crashed()).as(d).isFalse();
        assertThat(r.err()).as(d).contains("v2a: " + stage + " ...").doesNotContain("\tat ");
        List<String> left = Fuzz.listAll(out);
        if (r.exit() == 0) {
            assertThat(left).as(d).containsExactlyInAnyOrder("o.mp4", "o.wav"); // finished before the signal
        } else {
            assertThat(r.exit()).as(d).isEqualTo(128 + Processes.signalNumber(signal));
            // outputs are renamed into place whole: a signal between two of them leaves the first, complete
            assertThat(left).as(d + ": left behind").isSubsetOf("o.mp4", "o.wav");
        }
        if (left.contains("o.mp4")) {
            assertThat(VideoReader.forEachFrame(out.resolve("o.mp4"), Integer.MAX_VALUE, (i, rgb) -> { })).isPositive();
        }
        if (left.contains("o.wav")) assertThat(io.github.v2a4j.io.WavFile.read(out.resolve("o.wav")).samples).isNotEmpty();
        assertThat(Fuzz.listAll(cache)).as(d + ": temporary files in the cache")
                .noneMatch(n -> n.endsWith(".part") || n.endsWith(".tmp"));
        return r;
    }
}
