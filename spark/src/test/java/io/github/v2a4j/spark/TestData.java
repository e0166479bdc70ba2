package io.github.v2a4j.spark;

import io.github.v2a4j.io.video.VideoWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Inputs the tests make from what the repository holds: the demo model, the sample video, and videos made here. */
final class TestData {

    private TestData() {}

    /** The repository root (set by the module's pom for the tests). */
    static Path repo() {
        String root = System.getProperty("v2a.repo");
        if (root == null) throw new IllegalStateException("system property v2a.repo (the repository root) is not set");
        return Path.of(root);
    }

    static Path sampleVideo() {
        return repo().resolve("assets/sample.mp4");
    }

    /**
     * A copy of the bundled demo model (random weights) in {@code dir}, so that its black-video cache, written beside
     * the model folder, stays out of the repository.
     */
    static Path demoModelCopy(Path dir) throws IOException {
        Path src = repo().resolve("assets/demo-model");
        Path dst = dir.resolve("demo-model");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) Files.copy(p, dst.resolve(src.relativize(p).toString()));
        }
        return dst;
    }

    /** A 48×32 video without audio: colour ramps that change every frame. */
    static void makeVideo(Path file, double seconds, double fps) {
        int frames = (int) Math.round(seconds * fps);
        VideoWriter.write(file, 48, 32, fps, frames, i -> {
            byte[] rgb = new byte[48 * 32 * 3];
            for (int p = 0; p < 48 * 32; p++) {
                rgb[3 * p] = (byte) (i * 20);
                rgb[3 * p + 1] = (byte) (p % 48 * 5);
                rgb[3 * p + 2] = (byte) (p / 48 * 7);
            }
            return rgb;
        }, null, 44100);
    }

    /** Bytes no demuxer recognises. */
    static byte[] garbage(int n) {
        byte[] b = new byte[n];
        new Random(1).nextBytes(b);
        return b;
    }

    /** File names in a folder, sorted, hidden ones included. */
    static List<String> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
