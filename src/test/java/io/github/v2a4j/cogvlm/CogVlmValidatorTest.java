package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Validator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code v2a validate} on the three CogVLM2 bundles: every compared tensor within its stated tolerance. */
class CogVlmValidatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"cogvlm-tiny", "cogvlm-tiny-text", "cogvlm-tiny-preprocess"})
    void bundlePasses(String name) {
        try (GoldenBundle b = GoldenBundle.open(Golden.bundle(name))) {
            Validator v = b.component().equals("cogvlm2.preprocess") ? new CogVlmValidator.Preprocess() : new CogVlmValidator();
            assertThat(v.component()).isEqualTo(b.component());
            ComparisonReport r = v.validate(b);
            System.out.println(r.format());
            assertThat(r.rows()).isNotEmpty();
            assertThat(r.passed()).as(r.format()).isTrue();
            if (!name.endsWith("preprocess")) {
                assertThat(r.rows()).anySatisfy(row -> assertThat(row.name()).startsWith("io:"));
                assertThat(r.rows()).anySatisfy(row -> assertThat(row.name()).isEqualTo("build_position_ids.out"));
            }
        }
    }
}
