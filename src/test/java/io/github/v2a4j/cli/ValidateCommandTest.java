package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.TestBundles;
import io.github.v2a4j.golden.Validator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

class ValidateCommandTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** A stand-in component whose "implementation" returns the reference plus {@code offset}. */
    private record Toy(float offset) implements Validator {
        public String component() {
            return "toy";
        }

        public ComparisonReport validate(GoldenBundle b) {
            INDArray x = b.activation("x.out").add(offset);
            return Comparison.of(b).compare(Map.of("x.out", x));
        }
    }

    private int run(List<Validator> validators, String... args) {
        CommandLine cl = new CommandLine(new ValidateCommand(validators));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private Path bundle(String component) throws IOException {
        return TestBundles.write(dir.resolve(component.replaceAll("[^a-z]", "_")), component, Map.of("x.out", Nd4j.createFromArray(1f, 2f)),
                List.of("x.out"), Map.of(), Map.of());
    }

    @Test
    void missingDirectory() {
        int rc = run(List.of(new Toy(0)), dir.resolve("nope").toString());
        assertThat(rc).isEqualTo(1);
        assertThat(err.toString()).startsWith("v2a: error: ").contains("nope: no such bundle directory")
                .doesNotContain("\tat ");
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    void brokenBundle() throws IOException {
        Path b = bundle("toy");
        Files.writeString(b.resolve("manifest.json"), "{\"component\": ");
        assertThat(run(List.of(new Toy(0)), b.toString())).isEqualTo(1);
        assertThat(err.toString()).startsWith("v2a: error: ").contains("manifest.json: broken JSON");
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    void verboseAddsTheStackTrace() {
        assertThat(run(List.of(), "--verbose", dir.resolve("nope").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("v2a: error: ").contains("\tat ");
    }

    @Test
    void unknownComponentListsTheKnownOnes() throws IOException {
        Path b = bundle("vocoder");
        assertThat(run(List.of(new Toy(0)), b.toString())).isEqualTo(1);
        assertThat(err.toString().strip()).endsWith("no validator for component 'vocoder' (known: toy)");
    }

    @Test
    void componentMatchesExactlyOrByItsPrefix() throws IOException {
        Path b = bundle("toy/tiny variant (upstream 1.0)");
        assertThat(run(List.of(new Toy(0)), b.toString())).isEqualTo(0);
        Path other = bundle("toyota");
        assertThat(run(List.of(new Toy(0)), other.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no validator for component 'toyota'");
    }

    @Test
    void passingBundleExitsZero() throws IOException {
        assertThat(run(List.of(new Toy(0)), bundle("toy").toString(), "--all-rows")).isEqualTo(0);
        assertThat(out.toString()).contains("toy / test: 1 tensors compared, 0 over tolerance: PASS").contains("x.out");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void overToleranceExitsTwo() throws IOException {
        assertThat(run(List.of(new Toy(0.5f)), bundle("toy").toString())).isEqualTo(2);
        assertThat(out.toString()).contains("FAIL").contains("<== FIRST FAILURE");
    }

    /** A validator that stops reporting a tensor the bundle holds fails, even though what it compared passed. */
    @Test
    void aTensorNoLongerProducedExitsTwo() throws IOException {
        Path b = TestBundles.write(dir.resolve("two"), "toy", Map.of("x.out", Nd4j.createFromArray(1f, 2f),
                "y.out", Nd4j.createFromArray(3f)), List.of("x.out", "y.out"), Map.of(), Map.of());
        assertThat(run(List.of(new Toy(0)), b.toString())).isEqualTo(2);
        assertThat(out.toString()).contains("1 missing: FAIL").contains("not produced by the Java side: y.out");
    }

    @Test
    void badCommandLineIsNotMistakenForOverTolerance() {
        assertThat(run(List.of())).isEqualTo(1);
        assertThat(err.toString()).contains("BUNDLE_DIR");
    }
}
