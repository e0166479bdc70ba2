package io.github.v2a4j.golden;

/** A golden bundle that cannot be used; the one-line message names the bundle file at fault. */
public class BundleException extends RuntimeException {
    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
