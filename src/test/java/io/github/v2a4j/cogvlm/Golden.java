package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Golden-bundle helpers for the CogVLM2 tests: locating bundles and the error metric (max |x−ref| / max |ref|). */
final class Golden {
    private Golden() {}

    /** reference-tests/bundles/&lt;name&gt;, which the repository holds (a missing one fails the test). */
    static Path bundle(String name) {
        return io.github.v2a4j.golden.TestBundles.committed(name);
    }

    record Error(String name, double maxAbs, double maxRef, double rel) {
        @Override
        public String toString() {
            return String.format("%-70s maxAbs %.3e  max|ref| %.3e  rel %.3e", name, maxAbs, maxRef, rel);
        }
    }

    static Error compare(String name, INDArray got, INDArray ref) {
        assertThat(got.shape()).as("shape of " + name).containsExactly(ref.shape());
        double[] g = got.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] r = ref.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double maxAbs = 0;
        double maxRef = 0;
        for (int i = 0; i < r.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(g[i] - r[i]));
            maxRef = Math.max(maxRef, Math.abs(r[i]));
        }
        return new Error(name, maxAbs, maxRef, maxRef == 0 ? maxAbs : maxAbs / maxRef);
    }

    /** Asserts every error is within {@code tol} relative to max|ref| and prints the table. */
    static void assertAll(List<Error> errors, double tol, String why) {
        System.out.println("tolerance " + tol + " relative to max|ref| (" + why + ")");
        errors.forEach(System.out::println);
        List<Error> bad = new ArrayList<>();
        for (Error e : errors) if (!(e.rel() <= tol)) bad.add(e);
        assertThat(bad).as("tensors over tolerance " + tol).isEmpty();
    }
}
