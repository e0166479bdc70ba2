package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code v2a serve}'s refusals: each one line {@code v2a: error: …} and exit 1, before anything listens for long. */
class ServeCommandTest {

    @TempDir
    Path dir;

    private void assertRefused(String message, String... args) {
        GenerateCommandTest.Run r = GenerateCommandTest.run(args);
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("v2a: error: ").contains(message);
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void refusesBadSettingsInOneLine() throws Exception {
        Path work = dir.resolve("work");
        assertRefused("no such model directory", "serve", "--model", dir.resolve("none").toString(), "--port", "0",
                "--work-dir", work.toString());
        assertRefused("--bind 0.0.0.0 without --token-file would let anyone who reaches this address submit jobs",
                "serve", "--bind", "0.0.0.0", "--port", "0", "--work-dir", work.toString());
        Path shortToken = Files.writeString(dir.resolve("short.token"), "abc\n");
        assertRefused("the token is shorter than 16 characters", "serve", "--token-file", shortToken.toString(),
                "--port", "0", "--work-dir", work.toString());
        Path spaced = Files.writeString(dir.resolve("spaced.token"), "a token with spaces in it\n");
        assertRefused("the token must be printable ASCII without spaces", "serve", "--token-file", spaced.toString(),
                "--port", "0", "--work-dir", work.toString());
        assertRefused("no such token file", "serve", "--token-file", dir.resolve("missing").toString());
        assertRefused("'soon' is not a duration", "serve", "--result-ttl", "soon", "--port", "0",
                "--work-dir", work.toString());
        assertRefused("--max-queue must be at least 1", "serve", "--max-queue", "0", "--port", "0",
                "--work-dir", work.toString());
    }

    @Test
    void aModelThatCannotBeOpenedStopsTheServiceWithTheReason() throws Exception {
        Path model = Files.createDirectories(dir.resolve("empty-model"));
        assertRefused("cannot open the model: model directory is incomplete: " + model.resolve("cogvlm")
                + " is missing", "serve", "--model", model.toString(), "--port", "0",
                "--work-dir", dir.resolve("work").toString());
    }
}
