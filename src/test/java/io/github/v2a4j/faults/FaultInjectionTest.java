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
    void everyKindOfDamagedVideoEndsCleanly() throws Exception {
        Fuzz.Summary s = new Fuzz(work, SEED).videos(0, 2 * VideoMutations.KINDS.length, 1);
        System.out.println("video fuzz sample: " + s);
    }

    @Test
    void everyKindOfDamagedModelEndsCleanly() throws Exception {
        Fuzz.Summary s = new Fuzz(work, SEED).models(0, ModelCorruptions.KINDS.length);
        System.out.println("model fuzz sample: " + s);
    }
}
