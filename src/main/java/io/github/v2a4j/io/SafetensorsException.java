package io.github.v2a4j.io;

/** A checkpoint that cannot be read as asked; the message names the file and, where there is one, the tensor. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
