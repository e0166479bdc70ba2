package io.github.v2a4j.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committed demo model is exactly what {@link DemoModel} makes, and it opens as a pipeline. */
class DemoModelTest {
    static final Path COMMITTED = Path.of("assets/demo-model");

    @Test
    void committedCopyIsRegeneratedByteForByte(@TempDir Path tmp) throws Exception {
        DemoModel.write(tmp);
        List<Path> made;
        try (Stream<Path> s = Files.walk(tmp)) {
            made = s.filter(Files::isRegularFile).map(tmp::relativize).sorted().toList();
        }
        List<Path> committed;
        try (Stream<Path> s = Files.walk(COMMITTED)) {
            committed = s.filter(Files::isRegularFile).map(COMMITTED::relativize).sorted().toList();
        }
        assertThat(committed).isEqualTo(made);
        for (Path rel : made) {
            assertThat(Files.readAllBytes(COMMITTED.resolve(rel))).as(rel.toString())
                    .isEqualTo(Files.readAllBytes(tmp.resolve(rel)));
        }
    }

    @Test
    void opensAndChecksEveryTensor() {
        try (Video2AudioPipeline p = Video2AudioPipeline.open(COMMITTED)) {
            assertThat(p.latentShape(12)).containsExactly(1, 4, 64, 148);
            assertThat(p.encoder().config().hiddenSize()).isEqualTo(DemoModel.HIDDEN);
        }
    }
}
