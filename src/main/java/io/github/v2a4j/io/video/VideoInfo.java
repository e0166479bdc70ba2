package io.github.v2a4j.io.video;

import java.nio.file.Path;

/**
 * What K4's {@code load_video} learns of a video before sampling it: its size, frame rate and the stretch it keeps.
 *
 * @param source      the video file (never modified)
 * @param width       frame width in pixels
 * @param height      frame height in pixels
 * @param fps         the container's average frame rate of the video stream (torchvision's {@code video_fps})
 * @param durationSec {@code min(int(frames/fps), maxDurationSec)}, at least 1
 * @param totalFrames {@code int(durationSec*fps)}: the frames {@code [0, totalFrames)} kept, the ones muxed with the
 *                    audio
 */
public record VideoInfo(Path source, int width, int height, double fps, int durationSec, int totalFrames) {}
