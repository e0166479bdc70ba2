package io.github.v2a4j.convert;

/** A checkpoint that cannot be converted or a model directory that fails verification; one line naming the files. */
public class ConvertException extends RuntimeException {

    public ConvertException(String message) {
        super(message);
    }

    public ConvertException(String message, Throwable cause) {
        super(message, cause);
    }
}
