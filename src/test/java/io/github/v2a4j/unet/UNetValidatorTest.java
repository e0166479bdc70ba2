package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.v2a4j.diffusion.PndmValidator;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Validator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code v2a validate} entry points of the UNet and PNDM on their bundles (tolerances: see the validators). */
class UNetValidatorTest {

    @ParameterizedTest
    @CsvSource({"unet-tiny,unet", "unet-tiny-oddwidth,unet", "pndm,pndm", "pndm-prk,pndm"})
    void validatorPassesOnItsBundles(String bundle, String which) {
        Path dir = TestTensors.BUNDLES.resolve(bundle);
        assumeTrue(Files.isDirectory(dir), "golden bundle " + dir + " not present");
        Validator v = which.equals("unet") ? new UNetValidator() : new PndmValidator();
        try (GoldenBundle b = GoldenBundle.open(dir)) {
            assertThat(v.component()).isEqualTo(b.component());
            ComparisonReport r = v.validate(b);
            assertThat(r.rows().size()).isGreaterThan(which.equals("unet") ? 250 : 50);
            assertThat(r.passed()).as(r.toString()).isTrue();
        }
    }
}
