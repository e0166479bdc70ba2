package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.faults.Processes;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OutputFileTest {

    @TempDir
    Path dir;

    static List<String> names(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesUnderAHiddenPartNameAndRenamesWhenComplete() throws Exception {
        Path target = dir.resolve("out.mp4");
        try (OutputFile f = OutputFile.create(target)) {
            assertThat(f.tmp().getFileName().toString()).matches("\\.out\\.mp4\\.\\d+-\\d+\\.part");
            Files.writeString(f.tmp(), "video");
            assertThat(target).doesNotExist();
            f.commit(false);
        }
        assertThat(target).hasContent("video");
        assertThat(names(dir)).containsExactly("out.mp4");
    }

    @Test
    void aFailedWriteLeavesNothingAndKeepsTheOldFile() throws Exception {
        Path target = Files.writeString(dir.resolve("out.wav"), "old");
        assertThatThrownBy(() -> OutputFile.write(target, true, tmp -> {
            Files.writeString(tmp, "half");
            throw new IllegalStateException("encoder failed");
        })).hasMessage("encoder failed");
        assertThat(target).hasContent("old");
        assertThat(names(dir)).containsExactly("out.wav");
        assertThatThrownBy(() -> OutputFile.write(target, false, tmp -> Files.writeString(tmp, "new")))
                .isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining("--overwrite");
        assertThat(names(dir)).containsExactly("out.wav");
    }

    @Test
    void everyOutputGetsThePermissionsOfAnOrdinaryNewFile() throws Exception {
        Path target = dir.resolve("a.wav");
        OutputFile.write(target, false, tmp -> Files.writeString(tmp, "x"));
        Path plain = Files.createFile(dir.resolve("plain"));
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(Files.getPosixFilePermissions(plain));
    }

    @Test
    void partsOfKilledRunsOfTheSameOutputAreSweptOthersKept() throws Exception {
        long dead = Processes.deadPid();
        long alive = ProcessHandle.current().parent().orElseThrow().pid();
        Files.writeString(dir.resolve(".out.mp4." + dead + "-0.part"), "stale");
        Files.writeString(dir.resolve(".out.mp4.8216735491826354729123.part"), "random suffix of an old writer");
        Files.writeString(dir.resolve(".out.mp4." + alive + "-3.part"), "a live run");
        Files.writeString(dir.resolve(".other.mp4." + dead + "-0.part"), "another output");
        Files.writeString(dir.resolve("out.mp4.notes"), "not ours");
        assertThat(OutputFile.sweepStale(dir.resolve("out.mp4"))).isEqualTo(2);
        assertThat(names(dir)).containsExactly(".other.mp4." + dead + "-0.part", ".out.mp4." + alive + "-3.part",
                "out.mp4.notes");
    }

    /**
     * A process killed by Ctrl-C or SIGTERM while it writes deletes its temporary file on the way out (before the
     * fix, a hidden {@code .<out>.<n>.part} stayed beside the output).
     */
    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM"})
    void aSignalWhileWritingLeavesNothing(String signal) throws Exception {
        Path target = dir.resolve("out.mp4");
        Processes.Run r = Processes.signalWhenReady(List.of(Writer.class.getName(), target.toString()), "writing",
                signal, 60);
        assertThat(r.exit()).as(r.output()).isEqualTo(128 + Processes.signalNumber(signal));
        assertThat(names(dir)).isEmpty();
    }

    /**
     * A server lets a running job finish when it is stopped: with {@link OutputFile#leaveShutdownToOwner}, a file
     * completed after SIGTERM, within the owner's grace, is written whole instead of being deleted and refused.
     */
    @Test
    void anOwnerThatFinishesItsWorkOnShutdownGetsItsFileWritten() throws Exception {
        Path target = dir.resolve("out.mp4");
        Processes.Run r = Processes.signalWhenReady(List.of(FinishingWriter.class.getName(), target.toString()),
                "writing", "TERM", 60);
        assertThat(r.exit()).as(r.output()).isEqualTo(128 + Processes.signalNumber("TERM"));
        assertThat(target).hasContent("a whole video");
        assertThat(names(dir)).containsExactly("out.mp4");
    }

    /** Starts writing {@code args[0]}, says so, and finishes it once a shutdown has begun, as a server's job would. */
    public static final class FinishingWriter {
        public static void main(String[] args) throws Exception {
            OutputFile.leaveShutdownToOwner();
            java.util.concurrent.CountDownLatch stopping = new java.util.concurrent.CountDownLatch(1);
            Thread worker = Thread.currentThread();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping.countDown();
                try {
                    worker.join(30_000); // the owner's grace
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            OutputFile f = OutputFile.create(Path.of(args[0]));
            Files.writeString(f.tmp(), "half a video");
            System.out.println("writing " + f.tmp());
            System.out.flush();
            if (!stopping.await(60, java.util.concurrent.TimeUnit.SECONDS)) throw new IllegalStateException("no signal");
            Thread.sleep(500); // longer than the cleanup would delete for
            Files.writeString(f.tmp(), "a whole video");
            f.commit(true);
        }
    }

    /** Starts writing {@code args[0]}, says so, and waits to be killed. */
    public static final class Writer {
        public static void main(String[] args) throws Exception {
            OutputFile f = OutputFile.create(Path.of(args[0]));
            Files.writeString(f.tmp(), "half a video");
            System.out.println("writing " + f.tmp());
            System.out.flush();
            Thread.sleep(60_000);
        }
    }
}
