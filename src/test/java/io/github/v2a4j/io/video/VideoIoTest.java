package io.github.v2a4j.io.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MJPEG;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.v2a4j.faults.Corrupt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Video decoding/muxing on tiny videos made by {@link VideoWriter} in a temp dir (no external tools needed). */
class VideoIoTest {

    static final int W = 64;
    static final int H = 48;

    @TempDir
    Path dir;

    /** Frame i: grey background, a 16×16 square whose colour encodes i (red = 10·i), moving right by 2 px a frame. */
    static byte[] frame(int i) {
        byte[] rgb = new byte[W * H * 3];
        java.util.Arrays.fill(rgb, (byte) 64);
        int x0 = (2 * i) % (W - 16);
        for (int y = 16; y < 32; y++) {
            for (int x = x0; x < x0 + 16; x++) {
                int p = (y * W + x) * 3;
                rgb[p] = (byte) Math.min(255, 10 * i);
                rgb[p + 1] = (byte) 200;
                rgb[p + 2] = (byte) 30;
            }
        }
        return rgb;
    }

    static short[] sine(double seconds, double hz) {
        short[] s = new short[(int) Math.round(seconds * VideoWriter.SAMPLE_RATE)];
        for (int i = 0; i < s.length; i++) s[i] = (short) (8000 * Math.sin(2 * Math.PI * hz * i / VideoWriter.SAMPLE_RATE));
        return s;
    }

    Path video(String name, double fps, int frames, short[] pcm) {
        Path p = dir.resolve(name);
        VideoWriter.write(p, W, H, fps, frames, VideoIoTest::frame, pcm, VideoWriter.SAMPLE_RATE);
        return p;
    }

    static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(q -> q.getFileName().toString()).sorted().toList();
        }
    }

    /** What a re-opened file holds, read back with FFmpegFrameGrabber. */
    record Probe(int videoCodec, int width, int height, double fps, int frames, int audioCodec, int sampleRate,
                 int channels, long audioSamples, double seconds) {}

    static Probe probe(Path p) throws Exception {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(p.toFile())) {
            g.start();
            int frames = 0;
            long samples = 0;
            Frame f;
            while ((f = g.grabFrame(true, true, true, false, false)) != null) {
                if (f.image != null) frames++;
                if (f.samples != null) samples += f.samples[0].limit();
            }
            return new Probe(g.getVideoCodec(), g.getImageWidth(), g.getImageHeight(), g.getVideoFrameRate(), frames,
                    g.getAudioCodec(), g.getSampleRate(), g.getAudioChannels(), samples, g.getLengthInTime() / 1e6);
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------------------

    @Test
    void loadFollowsK4LoadVideo() throws Exception {
        Path v = video("a.mp4", 10, 27, sine(2.7, 440)); // 2.7 s → duration 2 s → 20 frames kept
        String before = sha256(v);
        LoadedVideo lv = VideoReader.load(v, 8, 12);
        assertThat(lv.fps()).isEqualTo(10.0);
        assertThat(lv.durationSec()).isEqualTo(2);
        assertThat(lv.totalFrames()).isEqualTo(20);
        // np.linspace(0, 19, 8, dtype=int)
        assertThat(lv.frameIndices()).containsExactly(0, 2, 5, 8, 10, 13, 16, 19);
        assertThat(lv.width()).isEqualTo(W);
        assertThat(lv.height()).isEqualTo(H);
        INDArray t = lv.clip();
        assertThat(t.dataType()).isEqualTo(DataType.UINT8);
        assertThat(t.shape()).containsExactly(3, 8, H, W);
        // each sampled frame is the one asked for: red of the square encodes the frame number (lossy codec: ±6)
        for (int k = 0; k < 8; k++) {
            int idx = lv.frameIndices()[k];
            int x = (2 * idx) % (W - 16) + 8;
            assertThat(t.getInt(0, k, 24, x)).as("frame %d", idx).isCloseTo(10 * idx, within(6));
            assertThat(t.getInt(1, k, 24, x)).isCloseTo(200, within(6));
        }
        // and exactly the bytes of that frame as decoded on its own (plain HWC loop vs the planar copy)
        List<byte[]> all = new ArrayList<>();
        VideoReader.forEachFrame(v, 100, (i, rgb) -> all.add(rgb));
        assertThat(all).hasSize(27);
        for (int k = 0; k < 8; k++) {
            byte[] f = all.get(lv.frameIndices()[k]);
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    for (int c = 0; c < 3; c++) {
                        if (t.getInt(c, k, y, x) != (f[(y * W + x) * 3 + c] & 0xff)) {
                            throw new AssertionError("clip[" + c + "," + k + "," + y + "," + x + "] differs");
                        }
                    }
                }
            }
        }
        assertThat(sha256(v)).isEqualTo(before);
    }

    /** A later stretch is sampled as if it were a clip of its own: linspace over it, shifted to its first frame. */
    @Test
    void sampleTakesAStretchAsLoadVideoTakesAClip() {
        Path v = video("stretch.mp4", 10, 27, null); // 2.7 s → 20 frames kept
        VideoInfo info = VideoReader.probe(v, 12);
        assertThat(info.totalFrames()).isEqualTo(20);
        LoadedVideo part = VideoReader.sample(info, 7, 13, 4);
        // 7 + np.linspace(0, 12, 4, dtype=int)
        assertThat(part.frameIndices()).containsExactly(7, 11, 15, 19);
        LoadedVideo whole = VideoReader.load(v, 20, 12); // every kept frame once
        for (int k = 0; k < 4; k++) {
            int idx = part.frameIndices()[k];
            assertThat(part.clip().get(NDArrayIndex.all(), NDArrayIndex.point(k)))
                    .as("frame %d", idx).isEqualTo(whole.clip().get(NDArrayIndex.all(), NDArrayIndex.point(idx)));
        }
        assertThat(VideoReader.sample(info, 0, 20, 8).frameIndices())
                .containsExactly(VideoReader.load(v, 8, 12).frameIndices());
        assertThatThrownBy(() -> VideoReader.sample(info, 10, 11, 4)).hasMessageContaining("[10, 21)")
                .hasMessageContaining("20 kept frames");
    }

    @Test
    void longVideoIsCutToMaxDuration() {
        Path v = video("long.mp4", 8, 40, null); // 5 s at 8 fps, cap 3 s
        LoadedVideo lv = VideoReader.load(v, 4, 3);
        assertThat(lv.durationSec()).isEqualTo(3);
        assertThat(lv.totalFrames()).isEqualTo(24);
        assertThat(lv.frameIndices()).containsExactly(0, 7, 15, 23);
    }

    @Test
    void nonIntegerFpsTruncatesLikePython() {
        Path v = video("ntsc.mp4", 30000.0 / 1001, 75, null); // 2.5 s at 29.97 fps
        LoadedVideo lv = VideoReader.load(v, 96, 12);
        assertThat(lv.fps()).isCloseTo(29.97002997, within(1e-6));
        assertThat(lv.durationSec()).isEqualTo(2);
        assertThat(lv.totalFrames()).isEqualTo(59); // int(2 * 29.97) = 59
        assertThat(lv.frameIndices()).hasSize(96).startsWith(0, 0, 1, 1, 2).endsWith(57, 58);
    }

    @Test
    void linspaceMatchesNumpy() {
        // values printed by numpy: np.linspace(0, 87, 96, dtype=int)[:6], [-3:]; np.linspace(0, 40, 96, dtype=int)[:6]
        assertThat(VideoReader.linspaceIndices(88, 96)).startsWith(0, 0, 1, 2, 3, 4).endsWith(85, 86, 87);
        assertThat(VideoReader.linspaceIndices(41, 96)).startsWith(0, 0, 0, 1, 1, 2).endsWith(39, 39, 40);
        assertThat(VideoReader.linspaceIndices(5, 1)).containsExactly(0);
    }

    @Test
    void tooShortVideoIsRejected() {
        Path v = video("short.mp4", 10, 5, null); // 0.5 s
        assertThatThrownBy(() -> VideoReader.load(v, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessageContaining("short.mp4")
                .hasMessageContaining("too short")
                .hasMessageNotContaining("\n");
    }

    @Test
    void audioOnlyFileIsRejected() {
        Path a = dir.resolve("audio.mp4");
        VideoWriter.write(a, 0, 0, 0, 0, i -> null, sine(1.0, 440), VideoWriter.SAMPLE_RATE);
        assertThatThrownBy(() -> VideoReader.load(a, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessageContaining("audio.mp4")
                .hasMessageContaining("no video stream");
    }

    @Test
    void garbageFileIsRejected() throws Exception {
        Path g = dir.resolve("garbage.mp4");
        byte[] junk = new byte[4096];
        new java.util.Random(1).nextBytes(junk);
        Files.write(g, junk);
        assertThatThrownBy(() -> VideoReader.load(g, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessageContaining("garbage.mp4")
                .hasMessageContaining("not a video file FFmpeg can read")
                .hasMessageNotContaining("setFormat") // JavaCV's advice to programmers, not to users
                .hasMessageNotContaining("\n");
        assertThat(Files.readAllBytes(g)).isEqualTo(junk);
    }

    @Test
    void framesTooLargeToHoldAreRefusedBeforeAnythingIsAllocated() {
        VideoReader.checkClipSize(dir, 96, 1920, 1080); // 0.6 GB: fine
        assertThatThrownBy(() -> VideoReader.checkClipSize(dir.resolve("x.mp4"), 96, 65535, 65535))
                .isInstanceOf(VideoException.class).hasMessageContaining("x.mp4")
                .hasMessageContaining("frames of 65535x65535 pixels are too large: 96 sampled frames would take");
    }

    @Test
    void missingFileAndDirectoryAreRejected() {
        assertThatThrownBy(() -> VideoReader.load(dir.resolve("nope.mp4"), 96, 12))
                .isInstanceOf(VideoException.class).hasMessageContaining("nope.mp4").hasMessageContaining("no such file");
        assertThatThrownBy(() -> VideoReader.load(dir, 96, 12))
                .isInstanceOf(VideoException.class).hasMessageContaining("not a regular file");
    }

    @Test
    void unknownFrameRateIsRejected() throws Exception {
        // a raw MJPEG stream carries no timing: the reference's FFmpeg 5 gives no average rate (torchvision no
        // video_fps); FFmpeg 7 reports its 25 fps default, which would make this 2 s clip 0.8 s
        Path mjpeg = dir.resolve("raw.mjpeg");
        try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(mjpeg.toFile(), W, H, 0)) {
            rec.setFormat("mjpeg");
            rec.setVideoCodec(AV_CODEC_ID_MJPEG);
            rec.setFrameRate(10);
            rec.start();
            for (int i = 0; i < 20; i++) rec.recordImage(W, H, 8, 3, W * 3, AV_PIX_FMT_RGB24, ByteBuffer.wrap(frame(i)));
            rec.stop();
        }
        assertThatThrownBy(() -> VideoReader.load(mjpeg, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessageContaining("raw.mjpeg")
                .hasMessageContaining("unknown frame rate: a raw mjpeg stream without timestamps");
        assertThatThrownBy(() -> VideoReader.probeHeader(mjpeg)).isInstanceOf(VideoException.class)
                .hasMessageContaining("unknown frame rate");

        // a zero media time scale: the container's timing is damaged, and the rate FFmpeg derives from it has no
        // relation to the video
        Path v = video("zero-timescale.mp4", 10, 20, null);
        Corrupt.setTimeScale(v, 0);
        assertThatThrownBy(() -> VideoReader.load(v, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessageStartingWith(v + ": the frame rate is unusable: ")
                .hasMessageContaining("fps from a time base of 1/1 s (a zero or damaged time scale in the file; "
                        + "1 to 1000 fps are accepted)")
                .hasMessageNotContaining("\n");

        // a zeroed sample-timing table (stts): no frame durations, so no average frame rate at all
        Path untimed = video("no-timing.mp4", 10, 20, null);
        Corrupt.zeroBox(untimed, "stts");
        assertThatThrownBy(() -> VideoReader.load(untimed, 96, 12))
                .isInstanceOf(VideoException.class)
                .hasMessage(untimed + ": unknown or zero frame rate (average frame rate 0/0 in the container)");
    }

    // ---- muxing -----------------------------------------------------------------------------------------------------

    @Test
    void retimedMuxReplaysKeptFramesOverTheAudio() throws Exception {
        Path v = video("in.mp4", 10, 27, sine(2.7, 440));
        String before = sha256(v);
        LoadedVideo lv = VideoReader.load(v, 8, 12); // 20 frames kept
        short[] pcm = sine(1.6, 220); // K4: fps = 20 / 1.6 s = 12.5
        Path out = dir.resolve("out.mp4");
        VideoWriter.muxRetimed(lv.info(), pcm, VideoWriter.SAMPLE_RATE, out);

        Probe p = probe(out);
        assertThat(p.videoCodec()).isEqualTo(AV_CODEC_ID_H264);
        assertThat(p.frames()).isEqualTo(20);
        assertThat(p.fps()).isCloseTo(12.5, within(1e-6));
        assertThat(p.width()).isEqualTo(W);
        assertThat(p.height()).isEqualTo(H);
        assertThat(p.audioCodec()).isEqualTo(AV_CODEC_ID_AAC);
        assertThat(p.sampleRate()).isEqualTo(44100);
        assertThat(p.channels()).isEqualTo(1);
        // every sample is encoded; the AAC stream ends on a whole 1024-sample frame (+ the drain frame, see VideoWriter)
        assertThat(p.audioSamples()).isBetween((long) pcm.length, (long) pcm.length + 2048);
        assertThat(p.seconds()).isCloseTo(1.6, within(0.1));
        // the kept frames, re-encoded in order
        List<Integer> reds = new ArrayList<>();
        VideoReader.forEachFrame(out, 100, (i, rgb) -> reds.add(rgb[(24 * W + (2 * i) % (W - 16) + 8) * 3] & 0xff));
        assertThat(reds).hasSize(20);
        for (int i = 0; i < 20; i++) assertThat(reds.get(i)).as("frame %d", i).isCloseTo(10 * i, within(6));
        assertThat(sha256(v)).isEqualTo(before);
        assertThat(dirListing()).containsExactly("in.mp4", "out.mp4");
    }

    @Test
    void oddFrameSizeIsReadExactlyAndMuxedAtTheNextEvenWidth() throws Exception {
        // H.264 4:2:0 needs even sizes: JavaCV rounds the width up and scales the height to keep the aspect ratio
        Path v = dir.resolve("odd.mp4");
        VideoWriter.write(v, 65, 49, 10, 12, i -> new byte[65 * 49 * 3], null, 44100);
        LoadedVideo lv = VideoReader.load(v, 4, 12);
        assertThat(lv.clip().shape()).containsExactly(3, 4, lv.height(), lv.width());
        Path out = dir.resolve("odd-out.mp4");
        VideoWriter.muxRetimed(lv.info(), sine(1.0, 220), 44100, out);
        Probe p = probe(out);
        assertThat(p.frames()).isEqualTo(10);
        assertThat(p.width() % 2).isZero();
        assertThat(p.height() % 2).isZero();
    }

    @Test
    void keepVideoCopiesPacketsAndFitsAudio() throws Exception {
        Path v = video("src.mp4", 10, 25, sine(2.5, 440)); // 2.5 s, own AAC audio (dropped)
        String before = sha256(v);
        Path shorter = dir.resolve("padded.mp4");
        Path longer = dir.resolve("cut.mp4");
        VideoWriter.muxKeepVideo(v, sine(1.0, 220), VideoWriter.SAMPLE_RATE, shorter);
        VideoWriter.muxKeepVideo(v, sine(4.0, 220), VideoWriter.SAMPLE_RATE, longer);
        for (Path out : List.of(shorter, longer)) {
            assertThat(videoPackets(out)).as(out.toString()).isEqualTo(videoPackets(v));
            Probe p = probe(out);
            assertThat(p.frames()).isEqualTo(25);
            assertThat(p.fps()).isCloseTo(10.0, within(1e-6));
            assertThat(p.audioCodec()).isEqualTo(AV_CODEC_ID_AAC);
            assertThat(p.channels()).isEqualTo(1);
            assertThat(p.sampleRate()).isEqualTo(44100);
            assertThat(p.audioSamples()).isBetween(2L * 44100 + 44100 / 2, 2L * 44100 + 44100 / 2 + 2048);
        }
        assertThat(sha256(v)).isEqualTo(before);
        assertThat(dirListing()).containsExactly("cut.mp4", "padded.mp4", "src.mp4");
    }

    /** SHA-256 of each video packet's payload, in order. */
    static List<String> videoPackets(Path p) throws Exception {
        List<String> out = new ArrayList<>();
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(p.toFile())) {
            g.start();
            AVPacket pkt;
            while ((pkt = g.grabPacket()) != null) {
                if (pkt.stream_index() == g.getVideoStream()) {
                    byte[] b = new byte[pkt.size()];
                    new BytePointer(pkt.data()).capacity(pkt.size()).get(b);
                    out.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)));
                }
                av_packet_unref(pkt);
            }
        }
        return out;
    }

    @Test
    void failedMuxLeavesNothingBehind() throws Exception {
        Path v = video("in.mp4", 10, 20, null);
        LoadedVideo lv = VideoReader.load(v, 4, 12);
        String before = sha256(v);
        // output would replace the input
        assertThatThrownBy(() -> VideoWriter.muxKeepVideo(v, sine(1, 220), 44100, v))
                .isInstanceOf(VideoException.class).hasMessageContaining("overwrite the input");
        assertThatThrownBy(() -> VideoWriter.muxRetimed(lv.info(), sine(1, 220), 44100, v))
                .isInstanceOf(VideoException.class).hasMessageContaining("overwrite the input");
        // no audio
        assertThatThrownBy(() -> VideoWriter.muxRetimed(lv.info(), new short[0], 44100, dir.resolve("x.mp4")))
                .isInstanceOf(VideoException.class).hasMessageContaining("x.mp4").hasMessageContaining("no audio");
        // missing output directory
        assertThatThrownBy(() -> VideoWriter.muxRetimed(lv.info(), sine(1, 220), 44100, dir.resolve("no/such/o.mp4")))
                .isInstanceOf(VideoException.class).hasMessageContaining("o.mp4")
                .hasMessageContaining("output directory does not exist");
        // the source vanishes between loading and muxing: the failure happens mid-write
        Path gone = dir.resolve("gone.mp4");
        Files.copy(v, gone);
        LoadedVideo lg = VideoReader.load(gone, 4, 12);
        Files.write(gone, new byte[100]);
        assertThatThrownBy(() -> VideoWriter.muxRetimed(lg.info(), sine(1, 220), 44100, dir.resolve("o.mp4")))
                .isInstanceOf(VideoException.class).hasMessageContaining("gone.mp4");
        assertThatThrownBy(() -> VideoWriter.muxKeepVideo(dir.resolve("gone.mp4"), sine(1, 220), 44100,
                dir.resolve("o.mp4"))).isInstanceOf(VideoException.class).hasMessageContaining("gone.mp4");
        assertThat(sha256(v)).isEqualTo(before);
        assertThat(dirListing()).containsExactly("gone.mp4", "in.mp4");
    }

    @Test
    void ffprobeAgreesWhenInstalled() throws Exception {
        boolean have;
        try {
            have = new ProcessBuilder("ffprobe", "-version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            have = false;
        }
        assumeTrue(have, "ffprobe not installed: skipping the external cross-check (the Java re-open checks still ran)");
        Path v = video("in.mp4", 10, 20, null);
        Path out = dir.resolve("out.mp4");
        VideoWriter.muxRetimed(VideoReader.load(v, 4, 12).info(), sine(1.6, 220), 44100, out);
        Process p = new ProcessBuilder("ffprobe", "-v", "error", "-show_entries",
                "stream=codec_name,codec_type,width,height,avg_frame_rate,nb_frames,sample_rate,channels",
                "-of", "compact", out.toString()).redirectErrorStream(true).start();
        String s = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(s).contains("codec_name=h264|codec_type=video|width=64|height=48")
                .contains("avg_frame_rate=25/2").contains("nb_frames=20")
                .contains("codec_name=aac|codec_type=audio|sample_rate=44100|channels=1");
    }
}
