package io.github.v2a4j.serve;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code v2a serve} on a {@link FakeGenerator} in its own JVM, so a test can kill it (SIGKILL) or stop it (SIGTERM)
 * as an operator would. Arguments: work dir, steps per job, milliseconds per step, shutdown grace in ms. Prints
 * {@code PORT n} once it listens; stops as {@code ServeCommand} does, from a shutdown hook.
 */
public final class FakeServerMain {
    public static void main(String[] args) throws Exception {
        ServeConfig c = new ServeConfig("127.0.0.1", 0, Path.of(args[0]), 16, 1024 * 1024, null, Duration.ofHours(1), 1,
                Duration.ofMillis(Long.parseLong(args[3])));
        int steps = Integer.parseInt(args[1]);
        long stepMillis = Long.parseLong(args[2]);
        V2aServer server = V2aServer.start(c, () -> new FakeGenerator(steps, stepMillis));
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
        System.out.println("PORT " + server.port());
        System.out.flush();
        server.awaitStopped();
    }
}
