package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code v2a validate} path for audio bundles: every recorded tensor compared, all within tolerance. */
class GoldenAudioValidatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"audio-tiny", "audio-riffusion"})
    void validatesEveryRecordedTensor(String name) {
        assumeTrue(Files.isDirectory(Bundle.path(name)), "bundle " + name + " not present");
        try (GoldenBundle b = GoldenBundle.open(Bundle.path(name))) {
            GoldenAudioValidator v = new GoldenAudioValidator();
            assertThat(b.component()).isEqualTo(v.component());
            ComparisonReport r = v.validate(b);
            System.out.println(r.format(true));
            assertThat(r.missing()).as("tensors the validator did not produce").isEmpty();
            assertThat(r.passed()).as(r.format()).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"audio-forward-mono", "audio-forward-stereo", "audio-forward-downmix"})
    void validatesAudioToImageBundles(String name) {
        try (GoldenBundle b = GoldenBundle.open(Bundle.path(name))) {
            GoldenAudioForwardValidator v = new GoldenAudioForwardValidator();
            assertThat(b.component()).isEqualTo(v.component());
            ComparisonReport r = v.validate(b);
            System.out.println(r.format(true));
            assertThat(r.missing()).as("tensors the validator did not produce").isEmpty();
            assertThat(r.rows()).hasSizeGreaterThanOrEqualTo(6);
            assertThat(r.passed()).as(r.format()).isTrue();
        }
    }
}
