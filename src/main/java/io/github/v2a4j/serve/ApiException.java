package io.github.v2a4j.serve;

import java.util.Map;

/** A request the service answers with {@code status} and the one-line {@code message} as {@code {"error": …}}. */
final class ApiException extends RuntimeException {
    final int status;
    final Map<String, String> headers;

    ApiException(int status, String message) {
        this(status, message, Map.of());
    }

    ApiException(int status, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.headers = headers;
    }

    static ApiException retryLater(int status, String message, long retryAfterSeconds) {
        return new ApiException(status, message, Map.of("Retry-After", Long.toString(retryAfterSeconds)));
    }
}
