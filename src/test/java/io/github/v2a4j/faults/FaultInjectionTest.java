package io.github.v2a4j.faults;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default suite's share of the fault-injection fuzz ({@link Fuzz}): a fixed seeded sample of every kind of
 * video mutation and model damage. The long run is {@code FaultInjectionFuzzTest} ({@code mvn test -Pfuzz}).
 */
class FaultInjectionTest {

    static final long SEED = 17;

    @TempDir
    Path work;

    @Test
    void everyKindOfDamagedVideoAndModelEndsCleanly() throws Exception {
        long t0 = System.nanoTime();
        // one case of each video kind through the reader, the flip-middle one (readable) through the whole pipeline,
        // one case of each kind of model damage
        Fuzz.Summary s = new Fuzz(work, SEED).sample(new int[] {0, VideoMutations.KINDS.length}, 1,
                new int[] {0, ModelCorruptions.KINDS.length});
        System.out.printf("fault-injection sample (seed %d), %.0f s wall: %s%n", SEED, (System.nanoTime() - t0) / 1e9, s);
    }
}
