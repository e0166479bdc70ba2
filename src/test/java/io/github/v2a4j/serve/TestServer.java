package io.github.v2a4j.serve;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** A service on a free loopback port over a work directory, with the generator a test gives, and its client. */
final class TestServer implements AutoCloseable {
    static final Path SAMPLE = Path.of("assets/sample.mp4");

    final V2aServer server;
    final Http http;
    final Path workDir;

    private TestServer(V2aServer server, Path workDir, String token) {
        this.server = server;
        this.workDir = workDir;
        this.http = new Http(server.port(), token);
    }

    static TestServer start(Path workDir, Callable<? extends ClipGenerator> opener) throws Exception {
        return start(config(workDir), opener);
    }

    static TestServer start(ServeConfig config, Callable<? extends ClipGenerator> opener) throws Exception {
        V2aServer s = V2aServer.start(config, opener);
        return new TestServer(s, config.workDir(), config.token());
    }

    /** Loopback, free port, queue of 8, 1 MiB uploads, no token, TTL 1 h, one worker, 2 s grace. */
    static ServeConfig config(Path workDir) {
        return new ServeConfig("127.0.0.1", 0, workDir, 8, 1024 * 1024, null, Duration.ofHours(1), 1,
                Duration.ofSeconds(2));
    }

    static byte[] sample() throws Exception {
        return Files.readAllBytes(SAMPLE);
    }

    /** Names in the work directory's staging folder (uploads in progress). */
    long staged() throws Exception {
        try (Stream<Path> s = Files.list(workDir.resolve("staging"))) {
            return s.count();
        }
    }

    long jobFolders() throws Exception {
        try (Stream<Path> s = Files.list(workDir.resolve("jobs"))) {
            return s.count();
        }
    }

    @Override
    public void close() {
        server.stop();
    }
}
