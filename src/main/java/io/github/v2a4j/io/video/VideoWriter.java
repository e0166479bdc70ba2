package io.github.v2a4j.io.video;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_copy;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_new_stream;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;

import io.github.v2a4j.io.OutputFile;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntFunction;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;

/**
 * Writes mp4 files: H.264 (the bundled FFmpeg's libopenh264) + AAC mono. Every output is written to a temporary
 * file in the output directory and renamed into place only when complete; the input video is never touched.
 */
public final class VideoWriter {

    /** Sample rate of the pipeline's audio (riffusion {@code SpectrogramParams}). */
    public static final int SAMPLE_RATE = 44100;

    private static final int AUDIO_BITRATE = 128_000;
    /** H.264 bits per pixel and frame (≈ what x264 at crf 23 spends on natural footage at these sizes). */
    private static final double BITS_PER_PIXEL = 0.2;

    /** AAC frame size in samples. */
    private static final int AAC_FRAME = 1024;

    static {
        FfmpegLog.install();
    }

    private VideoWriter() {}

    /**
     * Silence fed after the last sample: JavaCV 1.5.7 never drains the AAC encoder's last queued frame (FFmpeg warns
     * "1 frames left in the queue on closing"), so the audio is completed to a whole AAC frame and one more frame of
     * silence is added; that frame is the one lost, and every real sample is encoded (measured).
     */
    static short[] drainPadding(int samples) {
        return new short[(AAC_FRAME - samples % AAC_FRAME) % AAC_FRAME + AAC_FRAME];
    }

    /**
     * K4's muxing ({@code create_video}): the kept frames {@code [0, totalFrames)} of the source replayed at
     * {@code fps = totalFrames / audio duration}, i.e. re-timed to the audio length, with the audio as AAC.
     */
    public static void muxRetimed(VideoInfo video, short[] pcm, int sampleRate, Path out) {
        requireAudio(pcm, sampleRate, out);
        double audioSec = (double) pcm.length / sampleRate;
        double fps = video.totalFrames() / audioSec;
        Path src = video.source();
        atomically(src, out, tmp -> {
            try (Sink sink = new Sink(tmp, video.width(), video.height(), fps, sampleRate, pcm)) {
                int n = VideoReader.forEachFrame(src, video.totalFrames(), (i, rgb) -> sink.frame(rgb));
                if (n < video.totalFrames()) {
                    throw new VideoException(src, "only " + n + " frames decoded for muxing, expected "
                            + video.totalFrames());
                }
                sink.finish();
            }
        });
    }

    /**
     * Keeps the source's video stream exactly (packet copy, no re-encoding, all of it) and adds the audio as AAC,
     * padded with silence or cut to the video's duration. The source's own audio streams are dropped.
     * The video codec must be one the bundled FFmpeg can also encode (H.264 is).
     */
    public static void muxKeepVideo(Path source, short[] pcm, int sampleRate, Path out) {
        requireAudio(pcm, sampleRate, out);
        VideoReader.checkFile(source);
        atomically(source, out, tmp -> copyVideoAddAudio(source, pcm, sampleRate, tmp));
    }

    /**
     * A new video from generated frames (tests, the sample video): {@code frameAt(i)} gives frame i as
     * {@code H*W*3} RGB bytes; {@code pcm} may be null for a video without audio. {@code width <= 0} writes an
     * audio-only file.
     */
    public static void write(Path out, int width, int height, double fps, int frames, IntFunction<byte[]> frameAt,
                             short[] pcm, int sampleRate) {
        atomically(null, out, tmp -> {
            try (Sink sink = new Sink(tmp, width, height, fps, sampleRate, pcm)) {
                for (int i = 0; i < frames; i++) sink.frame(frameAt.apply(i));
                sink.finish();
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------------------

    private interface Body {
        void write(Path tmp) throws Exception;
    }

    /** Runs body on a temp file beside {@code out}, then renames it to {@code out}; no temp file survives failure. */
    private static void atomically(Path source, Path out, Body body) {
        Path abs = out.toAbsolutePath();
        Path dir = abs.getParent();
        if (!Files.isDirectory(dir)) throw new VideoException(out, "output directory does not exist");
        if (Files.isDirectory(abs)) throw new VideoException(out, "output is a directory");
        if (source != null && Files.exists(abs)) {
            try {
                if (Files.isSameFile(source, abs)) throw new VideoException(out, "output would overwrite the input video");
            } catch (IOException e) {
                throw new VideoException(out, "cannot compare with the input", e);
            }
        }
        OutputFile file;
        try {
            file = OutputFile.create(abs);
        } catch (RuntimeException e) {
            throw new VideoException(out, "cannot create a file in the output directory", e);
        }
        try (file) {
            body.write(file.tmp());
            file.commit(true);
        } catch (VideoException e) {
            throw e;
        } catch (Exception e) {
            throw new VideoException(out, "cannot write the video", e);
        }
    }

    private static void requireAudio(short[] pcm, int sampleRate, Path out) {
        if (sampleRate <= 0) throw new IllegalArgumentException("sample rate must be > 0, got " + sampleRate);
        if (pcm == null || pcm.length == 0) throw new VideoException(out, "no audio samples to mux");
    }

    /** Packet copy of the source's first video stream + AAC audio fitted to the video's duration. */
    private static void copyVideoAddAudio(Path source, short[] pcm, int sampleRate, Path tmp) throws Exception {
        FFmpegFrameGrabber g = VideoReader.open(source);
        AVFormatContext videoOnly = null;
        FFmpegFrameRecorder rec = null;
        try {
            int vIndex = g.getVideoStream();
            AVStream in = g.getFormatContext().streams(vIndex);
            // JavaCV's recorder takes the streams to copy from an input context; it would also "copy" the source's
            // audio stream, so it gets a context holding only the video stream. Its r_frame_rate is set to the
            // inverse of the input time base so that the output time base equals the input's and packet timestamps
            // pass unchanged (JavaCV derives the output time base from r_frame_rate).
            videoOnly = avformat_alloc_context();
            AVStream vs = avformat_new_stream(videoOnly, null);
            if (avcodec_parameters_copy(vs.codecpar(), in.codecpar()) < 0) {
                throw new VideoException(source, "cannot copy the video stream parameters");
            }
            AVRational tb = in.time_base();
            vs.time_base().num(tb.num()).den(tb.den());
            vs.r_frame_rate().num(tb.den()).den(tb.num());
            vs.avg_frame_rate().num(in.avg_frame_rate().num()).den(in.avg_frame_rate().den());

            double videoSec = videoDurationSec(g, in);
            int nSamples = (int) Math.round(videoSec * sampleRate);
            short[] fitted = new short[nSamples]; // silence beyond the audio's end
            System.arraycopy(pcm, 0, fitted, 0, Math.min(pcm.length, nSamples));

            rec = new FFmpegFrameRecorder(tmp.toFile(), g.getImageWidth(), g.getImageHeight(), 1);
            rec.setFormat("mp4");
            rec.setAudioCodec(AV_CODEC_ID_AAC);
            rec.setAudioBitrate(AUDIO_BITRATE);
            rec.setSampleRate(sampleRate);
            rec.setAudioChannels(1);
            rec.start(videoOnly);

            long start = in.start_time() == AV_NOPTS_VALUE ? 0 : in.start_time();
            int written = 0;
            AVPacket pkt;
            while ((pkt = g.grabPacket()) != null) {
                if (pkt.stream_index() != vIndex) {
                    av_packet_unref(pkt);
                    continue;
                }
                long ts = pkt.dts() != AV_NOPTS_VALUE ? pkt.dts() : pkt.pts();
                pkt.stream_index(0);
                rec.recordPacket(pkt); // unrefs the packet
                if (ts != AV_NOPTS_VALUE) {
                    // interleave: audio up to this packet's time
                    double t = (ts - start) * (double) tb.num() / tb.den();
                    int upTo = (int) Math.min(nSamples, Math.max(0, Math.round(t * sampleRate)));
                    if (upTo > written) {
                        rec.recordSamples(sampleRate, 1, ShortBuffer.wrap(fitted, written, upTo - written));
                        written = upTo;
                    }
                }
            }
            if (nSamples > written) rec.recordSamples(sampleRate, 1, ShortBuffer.wrap(fitted, written, nSamples - written));
            rec.recordSamples(sampleRate, 1, ShortBuffer.wrap(drainPadding(nSamples)));
            // with an input context JavaCV's stop() does not drain the audio encoder: do it here
            while (rec.recordSamples(0, 0, (Buffer[]) null)) {
                // drain
            }
            rec.stop();
        } finally {
            if (rec != null) {
                try {
                    rec.release();
                } catch (Exception ignored) {
                    // already released by stop()
                }
            }
            VideoReader.close(g);
            if (videoOnly != null) avformat_free_context(videoOnly);
        }
    }

    /** Duration of the video stream in seconds: stream duration if known, else the container's. */
    private static double videoDurationSec(FFmpegFrameGrabber g, AVStream in) {
        if (in.duration() != AV_NOPTS_VALUE && in.duration() > 0) {
            return in.duration() * (double) in.time_base().num() / in.time_base().den();
        }
        return g.getLengthInTime() / 1e6;
    }

    /** An mp4 being encoded: video frames pushed one at a time, audio interleaved by time. */
    private static final class Sink implements AutoCloseable {
        private final FFmpegFrameRecorder rec;
        private final int width;
        private final int height;
        private final double fps;
        private final int sampleRate;
        private final short[] pcm;
        private int frames;
        private int written;
        private boolean stopped;

        Sink(Path tmp, int width, int height, double fps, int sampleRate, short[] pcm) throws Exception {
            boolean video = width > 0 && height > 0;
            if (!video && pcm == null) throw new IllegalArgumentException("neither video nor audio to write");
            if (video && !(fps > 0)) throw new IllegalArgumentException("fps must be > 0, got " + fps);
            this.width = width;
            this.height = height;
            this.fps = fps;
            this.sampleRate = sampleRate;
            this.pcm = pcm;
            rec = new FFmpegFrameRecorder(tmp.toFile(), video ? width : 0, video ? height : 0, pcm == null ? 0 : 1);
            rec.setFormat("mp4");
            if (video) {
                rec.setVideoCodec(AV_CODEC_ID_H264);
                rec.setPixelFormat(AV_PIX_FMT_YUV420P);
                rec.setFrameRate(fps);
                rec.setVideoBitrate((int) Math.max(100_000, Math.min(20_000_000, width * (double) height * fps * BITS_PER_PIXEL)));
                rec.setGopSize((int) Math.max(1, Math.round(fps * 2)));
            }
            if (pcm != null) {
                rec.setAudioCodec(AV_CODEC_ID_AAC);
                rec.setAudioBitrate(AUDIO_BITRATE);
                rec.setSampleRate(sampleRate);
                rec.setAudioChannels(1);
            }
            rec.start();
        }

        void frame(byte[] rgb) {
            if (rgb.length != width * height * 3) {
                throw new IllegalArgumentException("frame " + frames + " has " + rgb.length + " bytes, expected "
                        + width + "x" + height + "x3");
            }
            try {
                rec.recordImage(width, height, 8, 3, width * 3, AV_PIX_FMT_RGB24, ByteBuffer.wrap(rgb));
                frames++;
                audioUpTo((int) Math.min(pcm == null ? 0 : pcm.length, Math.round(frames / fps * sampleRate)));
            } catch (Exception e) {
                throw new IllegalStateException("encoding frame " + frames + " failed: " + e.getMessage(), e);
            }
        }

        private void audioUpTo(int upTo) throws Exception {
            if (pcm != null && upTo > written) {
                rec.recordSamples(sampleRate, 1, ShortBuffer.wrap(pcm, written, upTo - written));
                written = upTo;
            }
        }

        void finish() throws Exception {
            if (pcm != null) {
                audioUpTo(pcm.length);
                rec.recordSamples(sampleRate, 1, ShortBuffer.wrap(drainPadding(pcm.length)));
            }
            rec.stop();
            stopped = true;
        }

        @Override
        public void close() throws Exception {
            if (!stopped) rec.release();
        }
    }
}
