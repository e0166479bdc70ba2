package io.github.v2a4j.io.video;

import java.nio.file.Path;

/**
 * Draws {@code assets/sample.mp4}: 3 s, 25 fps, 256×144, H.264 + a quiet AAC two-tone track (which the pipeline
 * replaces), all made here by {@link VideoWriter} — no third-party footage. Run with {@code assets/make-sample.sh}.
 * Deterministic pixels; the encoded bytes depend on the bundled FFmpeg/openh264 build.
 */
public final class MakeSampleVideo {

    static final int W = 256;
    static final int H = 144;
    static final int FPS = 25;
    static final int SECONDS = 3;

    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "assets/sample.mp4");
        short[] pcm = new short[SECONDS * VideoWriter.SAMPLE_RATE];
        for (int i = 0; i < pcm.length; i++) {
            double t = (double) i / VideoWriter.SAMPLE_RATE;
            double hz = t < 1.5 ? 330 : 440;
            pcm[i] = (short) (3000 * Math.sin(2 * Math.PI * hz * t));
        }
        VideoWriter.write(out, W, H, FPS, FPS * SECONDS, MakeSampleVideo::frame, pcm, VideoWriter.SAMPLE_RATE);
        System.out.println("wrote " + out);
    }

    /** Frame i: a sky-to-ground gradient, a ball bouncing left to right and a rotating bar. */
    static byte[] frame(int i) {
        double t = (double) i / FPS;
        byte[] rgb = new byte[W * H * 3];
        double bx = 20 + (W - 40) * (0.5 - 0.5 * Math.cos(Math.PI * t / SECONDS * 2));
        double by = H - 20 - 90 * Math.abs(Math.sin(Math.PI * t * 1.5));
        double angle = Math.PI * t;
        double cx = 200;
        double cy = 40;
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int r;
                int g;
                int b;
                if (y < H * 3 / 4) { // sky
                    r = 70 + y / 2;
                    g = 120 + y / 2;
                    b = 220;
                } else { // ground
                    r = 60;
                    g = 140 - (y - H * 3 / 4);
                    b = 50;
                }
                double dx = x - bx;
                double dy = y - by;
                if (dx * dx + dy * dy < 14 * 14) { // ball
                    r = 230;
                    g = 60;
                    b = 40;
                }
                // bar: distance along and across the rotating direction
                double ux = x - cx;
                double uy = y - cy;
                double along = ux * Math.cos(angle) + uy * Math.sin(angle);
                double across = -ux * Math.sin(angle) + uy * Math.cos(angle);
                if (Math.abs(along) < 28 && Math.abs(across) < 4) {
                    r = 250;
                    g = 220;
                    b = 40;
                }
                int p = (y * W + x) * 3;
                rgb[p] = (byte) r;
                rgb[p + 1] = (byte) g;
                rgb[p + 2] = (byte) b;
            }
        }
        return rgb;
    }
}
