package io.github.v2a4j.io.video;

import java.nio.file.Path;

/** A video file that cannot be read or written as asked; the message names the file and says why, in one line. */
public class VideoException extends RuntimeException {

    public VideoException(Path file, String why) {
        super(file + ": " + why);
    }

    public VideoException(Path file, String why, Throwable cause) {
        super(file + ": " + why + (cause == null || cause.getMessage() == null ? "" : " (" + oneLine(cause.getMessage()) + ")"),
                cause);
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }
}
