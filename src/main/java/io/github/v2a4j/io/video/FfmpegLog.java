package io.github.v2a4j.io.video;

import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_ERROR;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_INFO;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;
import static org.bytedeco.ffmpeg.global.avutil.setLogCallback;

import java.util.regex.Pattern;
import org.bytedeco.ffmpeg.avutil.LogCallback;
import org.bytedeco.javacpp.BytePointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FFmpeg's own log, routed to the SLF4J logger {@code ffmpeg} at DEBUG instead of FFmpeg writing to stderr itself.
 * A bad file then gets one line of ours (a {@link VideoException}); FFmpeg's view of it ("moov atom not found", "error
 * while decoding MB 3 4") shows only when that logger is enabled ({@code v2a generate --verbose} enables it). The last
 * first error line after {@link #clear} is kept so that our message can say why FFmpeg gave up (the first, because
 * FFmpeg's later lines tend to be consequences: "Invalid sample size" is followed by "error reading header").
 */
final class FfmpegLog extends LogCallback {

    private static final Logger LOG = LoggerFactory.getLogger("ffmpeg");
    /** FFmpeg's prefix "[h264 @ 0x55d0c0a1b2c0] " or "[mov,mp4,m4a,… @ 0x…] ": the component (its first name). */
    private static final Pattern CONTEXT = Pattern.compile("^\\[([^],@ ]+)[^]]*@ 0x[0-9a-f]+\\] ");
    /** Native code holds this callback: a static field keeps it from being collected. */
    private static final FfmpegLog INSTANCE = new FfmpegLog();
    private static volatile String firstError;

    static {
        av_log_set_level(LOG.isDebugEnabled() ? AV_LOG_INFO : AV_LOG_ERROR);
        setLogCallback(INSTANCE);
    }

    private FfmpegLog() {}

    /** Makes sure the routing is in place before FFmpeg is first called (idempotent). */
    static void install() {
        // the static initializer does the work
    }

    /** Forgets the last error, before an operation whose failure should be explained. */
    static void clear() {
        firstError = null;
    }

    /**
     * The first error FFmpeg logged since {@link #clear}, with the component that logged it ("aac: Prediction is
     * not allowed in AAC-LC.": the sound track's decoder, not the picture's) instead of FFmpeg's prefix; null if none.
     */
    static String firstError() {
        return firstError;
    }

    @Override
    public void call(int level, BytePointer msg) {
        String s = msg.getString().strip();
        if (s.isEmpty()) return;
        if (level <= AV_LOG_ERROR && firstError == null) firstError = CONTEXT.matcher(s).replaceFirst("$1: ");
        if (LOG.isDebugEnabled()) LOG.debug(s);
    }
}
