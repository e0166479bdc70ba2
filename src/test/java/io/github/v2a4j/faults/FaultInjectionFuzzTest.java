package io.github.v2a4j.faults;

import io.github.v2a4j.pipeline.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long fault-injection run ({@code mvn -B test -Pfuzz}): 240 mutated videos (20 of each kind, 5 of the readable
 * ones through the whole pipeline), 64 damaged models (4 of each kind), and SIGINT and SIGTERM at the start of every
 * stage of a generation. The rules per case are {@link Fuzz}'s and {@link Signals}'.
 */
@Tag("fuzz")
class FaultInjectionFuzzTest {

    static final long SEED = 2024;

    @TempDir
    Path work;

    @Test
    void videos() throws Exception {
        long t0 = System.nanoTime();
        Fuzz.Summary s = new Fuzz(work, SEED).videos(0, 20 * VideoMutations.KINDS.length, 5);
        System.out.printf("video fuzz (seed %d), %.0f s wall: %s%n", SEED, (System.nanoTime() - t0) / 1e9, s);
    }

    @Test
    void models() throws Exception {
        long t0 = System.nanoTime();
        Fuzz.Summary s = new Fuzz(work, SEED).models(0, 4 * ModelCorruptions.KINDS.length);
        System.out.printf("model fuzz (seed %d), %.0f s wall: %s%n", SEED, (System.nanoTime() - t0) / 1e9, s);
    }

    @Test
    void signalsAtEveryStage() throws Exception {
        long t0 = System.nanoTime();
        int n = 0;
        for (Stage stage : Stage.values()) {
            for (String signal : List.of("INT", "TERM")) {
                Path dir = Files.createDirectories(work.resolve(stage.name() + "-" + signal));
                Processes.Run r = Signals.interruptAt(dir, stage.label(), signal, Fuzz.SAMPLE, Fuzz.DEMO,
                        List.of("--steps", "3"));
                System.out.printf("SIG%s at '%s': exit %d%n", signal, stage.label(), r.exit());
                n++;
            }
        }
        System.out.printf("signals: %d runs, %.0f s wall%n", n, (System.nanoTime() - t0) / 1e9);
    }
}
