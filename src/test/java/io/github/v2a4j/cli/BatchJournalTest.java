package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch journal on its own: what counts as finished after a run was killed at each point of an item. */
class BatchJournalTest {

    @TempDir
    Path dir;

    BatchItem item(String name) {
        return new BatchItem(name, dir.resolve(name + ".mp4"), dir.resolve(name + ".v2a.mp4"), null, null, null, null);
    }

    @Test
    void anItemIsFinishedWhenItsOutputWasRenamedIntoPlaceEvenIfDoneWasNeverWritten() throws Exception {
        BatchItem a = item("a");
        BatchItem b = item("b");
        BatchItem c = item("c");
        BatchItem d = item("d");
        Files.writeString(d.out(), "was there before");
        try (BatchJournal j = BatchJournal.open(dir)) {
            j.started("ka", a, false);
            j.done("ka", a, 1.0, 2.0);   // done, output there
            j.started("kb", b, false);   // killed after the rename, before 'done'
            j.started("kc", c, false);   // killed before the rename
            j.started("kd", d, true);    // overwriting: an existing output proves nothing
        }
        Files.writeString(a.out(), "video");
        Files.writeString(b.out(), "video");
        try (BatchJournal j = BatchJournal.open(dir)) {
            assertThat(j.finished("ka", a.out())).isTrue();
            assertThat(j.finished("kb", b.out())).isTrue();
            assertThat(j.finished("kc", c.out())).isFalse();
            assertThat(j.finished("kd", d.out())).isFalse();
            // another key (changed options) for the same files is another item
            assertThat(j.finished("other", a.out())).isFalse();
        }
        // a finished item whose output was deleted since is not finished
        Files.delete(a.out());
        try (BatchJournal j = BatchJournal.open(dir)) {
            assertThat(j.finished("ka", a.out())).isFalse();
        }
    }

    @Test
    void aFailureAfterTheStartIsNotAFinishAndALineCutShortIsIgnored() throws Exception {
        BatchItem a = item("a");
        try (BatchJournal j = BatchJournal.open(dir)) {
            j.started("ka", a, false);
            j.failed("ka", a, "broken");
        }
        Files.writeString(a.out(), "made by someone else");
        Path file = dir.resolve(BatchJournal.NAME);
        // a run killed in the middle of writing a line (and of a UTF-8 character)
        Files.write(file, "{\"event\":\"done\",\"key\":\"ka\",\"video\":\"\u00e9".getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.APPEND);
        Files.write(file, new byte[] {(byte) 0xc3}, StandardOpenOption.APPEND);
        try (BatchJournal j = BatchJournal.open(dir)) {
            assertThat(j.finished("ka", a.out())).isFalse();
            j.done("kb", item("b"), 1.0, 1.0);
        }
        // the next event starts on a line of its own
        List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(3)).startsWith("{\"event\":\"done\",\"key\":\"kb\"");
        try (BatchJournal j = BatchJournal.open(dir)) {
            Files.writeString(item("b").out(), "video");
            assertThat(j.finished("kb", item("b").out())).isTrue();
        }
    }

    @Test
    void oneBatchAtATimePerFolder() {
        try (BatchJournal j = BatchJournal.open(dir)) {
            assertThatThrownBy(() -> BatchJournal.open(dir)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("another batch is writing to");
        }
        BatchJournal.open(dir).close(); // released
        assertThatThrownBy(() -> BatchJournal.open(dir.resolve("missing")))
                .hasMessageContaining("no such output folder");
    }
}
