package io.github.v2a4j.serve;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings of one service.
 *
 * @param bind          address to listen on (loopback by default)
 * @param port          0 picks a free port
 * @param workDir       one folder per job, kept across restarts
 * @param maxQueue      jobs waiting (not running) before submissions are answered 429
 * @param maxUpload     largest video accepted, in bytes
 * @param token         the bearer token every endpoint but /healthz and the web page needs; null for none
 * @param resultTtl     how long a finished job and its files are kept
 * @param workers       jobs run at once, each with its own opened model
 * @param shutdownGrace how long a stop waits for running jobs before they are stopped and kept to rerun
 */
public record ServeConfig(String bind, int port, Path workDir, int maxQueue, long maxUpload, String token,
                          Duration resultTtl, int workers, Duration shutdownGrace) {

    public ServeConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0 to 65535, got " + port);
        if (maxQueue < 1) throw new IllegalArgumentException("--max-queue must be at least 1, got " + maxQueue);
        if (maxUpload < 1) throw new IllegalArgumentException("--max-upload-mb must be at least 1");
        if (workers < 1) throw new IllegalArgumentException("--workers must be at least 1, got " + workers);
        if (resultTtl.isNegative() || resultTtl.isZero()) throw new IllegalArgumentException("--result-ttl must be positive");
        if (shutdownGrace.isNegative()) throw new IllegalArgumentException("--shutdown-grace must not be negative");
        if (token != null && token.length() < 16) {
            throw new IllegalArgumentException("the token is shorter than 16 characters; use a long random one, e.g. "
                    + "'openssl rand -hex 32'");
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    /** {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}, {@code 500ms}, or ISO-8601 ({@code PT24H}). */
    public static Duration parseDuration(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Matcher m = DURATION.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(text.strip().toUpperCase(Locale.ROOT));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 90s, 30m, 24h, 7d)");
        }
    }

    static String megabytes(long bytes) {
        return bytes % (1024 * 1024) == 0 ? bytes / (1024 * 1024) + " MB" : bytes + " bytes";
    }
}
