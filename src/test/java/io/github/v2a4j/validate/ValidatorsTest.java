package io.github.v2a4j.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.TestBundles;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.nn.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code v2a validate} on every committed bundle: each must pass with no reference tensor missing. The end-to-end
 * bundles run in {@link EndToEndGoldenTest}, which checks more about them.
 */
class ValidatorsTest {

    /** Every bundle the repository holds; a bundle added without a test, or one that disappears, fails here. */
    static final List<String> COMMITTED = List.of("audio-forward-downmix", "audio-forward-mono",
            "audio-forward-stereo", "audio-riffusion", "audio-tiny", "cogvlm-tiny", "cogvlm-tiny-preprocess",
            "cogvlm-tiny-text", "ddim", "e2e-tiny", "e2e-tiny-b", "pndm", "pndm-prk", "unet-tiny", "unet-tiny-oddwidth", "vae-tiny");

    @Test
    void theRepositoryHoldsExactlyTheTestedBundles() throws IOException {
        try (Stream<Path> s = Files.list(TestBundles.COMMITTED)) {
            assertThat(s.filter(Files::isDirectory).map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrderElementsOf(COMMITTED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"audio-forward-downmix", "audio-forward-mono", "audio-forward-stereo", "audio-riffusion",
            "audio-tiny", "cogvlm-tiny", "cogvlm-tiny-preprocess", "cogvlm-tiny-text", "ddim", "pndm", "pndm-prk",
            "unet-tiny", "unet-tiny-oddwidth", "vae-tiny"})
    void bundlePassesWithNothingMissing(String name) {
        try (GoldenBundle b = GoldenBundle.open(TestBundles.committed(name))) {
            Validator v = Validators.find(Validators.all(), b.component());
            assertThat(v).as("validator for " + b.component()).isNotNull();
            ComparisonReport r = v.validate(b);
            System.out.println(r.format(false));
            assertThat(r.missing()).as("reference tensors the Java side did not produce").isEmpty();
            assertThat(r.passed()).as(r.format()).isTrue();
        }
    }

    /**
     * bf16 products (fp32 accumulation, norms, softmax and residuals): every row at least as close to the fp32
     * reference as the original code's own bf16 run on the same case.
     */
    @ParameterizedTest
    @ValueSource(strings = {"unet-tiny", "unet-tiny-oddwidth", "cogvlm-tiny", "cogvlm-tiny-text", "vae-tiny"})
    void bf16IsAtLeastAsCloseToTheReferenceAsTheReferencesOwnBf16(String name) {
        try (GoldenBundle b = GoldenBundle.open(TestBundles.committed(name))) {
            ComparisonReport r = Validators.find(Validators.all(), b.component()).validate(b, Precision.BF16);
            System.out.println(r.format(false));
            assertThat(r.missing()).isEmpty();
            assertThat(r.passed()).as(r.format()).isTrue();
        }
    }
}
