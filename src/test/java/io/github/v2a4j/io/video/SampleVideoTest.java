package io.github.v2a4j.io.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The committed sample input {@code assets/sample.mp4} (made by {@link MakeSampleVideo}). */
class SampleVideoTest {

    static final Path SAMPLE = Path.of("assets/sample.mp4");

    @Test
    void sampleIsSmallAndLoadsAsThreeSecondsAt25Fps() throws Exception {
        assertThat(Files.size(SAMPLE)).isLessThan(300_000);
        LoadedVideo v = VideoReader.load(SAMPLE, 96, 12);
        assertThat(v.width()).isEqualTo(256);
        assertThat(v.height()).isEqualTo(144);
        assertThat(v.fps()).isEqualTo(25.0);
        assertThat(v.durationSec()).isEqualTo(3);
        assertThat(v.totalFrames()).isEqualTo(75);
        assertThat(v.frameIndices()).hasSize(96).startsWith(0, 0, 1, 2).endsWith(73, 74);
        // frame 0: the ball is at its left-most position (x≈20, y≈124), red
        assertThat(v.clip().getInt(0, 0, 124, 20)).isCloseTo(230, within(20));
        assertThat(v.clip().getInt(1, 0, 124, 20)).isCloseTo(60, within(20));
    }
}
