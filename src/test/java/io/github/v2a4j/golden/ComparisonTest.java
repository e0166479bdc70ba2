package io.github.v2a4j.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.v2a4j.nn.Trace;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ComparisonTest {

    @TempDir
    Path dir;

    /** Reference activations of a pretend 4-module network; "act.out" is stored once under "norm.out". */
    private final Map<String, INDArray> ref = new LinkedHashMap<>();
    private GoldenBundle bundle;

    @BeforeEach
    void bundle() throws IOException {
        Nd4j.getRandom().setSeed(42);
        ref.put("conv_in.out", Nd4j.randn(DataType.FLOAT, 1, 4, 3, 3));
        ref.put("norm.out", Nd4j.randn(DataType.FLOAT, 1, 4, 3, 3));
        ref.put("mid.out", Nd4j.randn(DataType.FLOAT, 1, 8));
        ref.put("conv_out.out", Nd4j.randn(DataType.FLOAT, 1, 2));
        ref.put("unused.out", Nd4j.randn(DataType.FLOAT, 2));
        Path b = TestBundles.write(dir.resolve("bundle"), "toy", ref,
                List.of("conv_in.out", "norm.out", "act.out", "mid.out", "conv_out.out"),
                Map.of("act.out", "norm.out"), Map.of("out", ref.get("conv_out.out"), "sample", Nd4j.ones(1, 4)));
        bundle = GoldenBundle.open(b);
    }

    /** What a faithful Java implementation would record, in its own execution order. */
    private Trace faithful() {
        Trace t = Trace.all();
        t.record("conv_in.out", ref.get("conv_in.out"));
        t.record("norm.out", ref.get("norm.out"));
        t.record("act.out", ref.get("norm.out"));
        t.record("mid.out", ref.get("mid.out").add(1e-7f));
        t.record("conv_out.out", ref.get("conv_out.out"));
        t.record("extra.debug", Nd4j.zeros(1));
        return t;
    }

    @Test
    void matchingTracePasses() {
        ComparisonReport r = Comparison.of(bundle).notProduced("a module this model does not have", "unused.*")
                .compare(faithful());
        assertThat(r.passed()).isTrue();
        assertThat(r.rows()).extracting(ComparisonReport.Row::name)
                .containsExactly("conv_in.out", "norm.out", "act.out", "mid.out", "conv_out.out");
        assertThat(r.rows().get(2).canonical()).isEqualTo("norm.out");
        assertThat(r.missing()).isEmpty();
        assertThat(r.skipped()).containsExactly(Map.entry("a module this model does not have", 1));
        assertThat(r.ignored()).containsExactly("extra.debug");
        String table = r.format(true);
        assertThat(table).contains("toy / test: 5 tensors compared, 0 over tolerance: PASS")
                .contains("act.out (= norm.out)").doesNotContain("FIRST FAILURE")
                .contains("1.00e-05 fp32 CPU vs PyTorch fp32: rounding only (5 rows)")
                .contains("1 reference tensors not compared on purpose: a module this model does not have")
                .contains("1 produced tensors not in the bundle (ignored): extra.debug");
    }

    /** A reference tensor nobody declared as skipped and nobody produced: a layer that stopped being traced. */
    @Test
    void aMissingTensorFailsEvenWhenEveryComparedRowPasses() {
        ComparisonReport r = Comparison.of(bundle).compare(faithful());
        assertThat(r.rows()).allMatch(ComparisonReport.Row::passed);
        assertThat(r.missing()).containsExactly("unused.out");
        assertThat(r.passed()).isFalse();
        assertThat(r.format(false)).contains("5 tensors compared, 0 over tolerance, 1 missing: FAIL")
                .contains("FAIL: 1 reference tensors were not produced by the Java side: unused.out");
    }

    @Test
    void firstFailureIsMarkedInExecutionOrder() {
        Trace t = Trace.all();
        // Recorded out of order on purpose: the table follows the bundle's order, not the map's.
        t.record("conv_out.out", ref.get("conv_out.out").mul(3));
        t.record("conv_in.out", ref.get("conv_in.out"));
        t.record("norm.out", ref.get("norm.out").add(0.01f));
        t.record("mid.out", ref.get("mid.out").add(0.5f));
        ComparisonReport r = Comparison.of(bundle).compare(t);
        assertThat(r.passed()).isFalse();
        assertThat(r.failures()).isEqualTo(3);
        assertThat(r.firstFailure()).get().extracting(ComparisonReport.Row::name).isEqualTo("norm.out");
        String table = r.format(true);
        List<String> marked = table.lines().filter(l -> l.contains("<== FIRST FAILURE")).toList();
        assertThat(marked).hasSize(1);
        assertThat(marked.get(0)).contains("norm.out").contains("FAIL");
        assertThat(table.lines().filter(l -> l.matches("\\s+\\d+\\s+conv_out\\.out\\s.*")).findFirst().orElseThrow())
                .contains("FAIL").doesNotContain("FIRST");
        // a failed run's header names its first failure, not the row "closest to its tolerance"
        assertThat(table).contains("first over its tolerance: norm.out").doesNotContain("closest to its tolerance");
        assertThat(r.missing()).containsExactly("act.out", "unused.out");
    }

    @Test
    void informationalListsStayShort() {
        Trace t = Trace.all();
        ref.forEach(t::record);
        for (int i = 0; i < 16; i++) {
            t.record("up_blocks." + i + ".attentions.0.transformer_blocks.0.attn1.processor.video_attention_weights.out",
                    ref.get("mid.out"));
        }
        String table = Comparison.of(bundle).compare(t).format(false);
        String line = table.lines().filter(l -> l.contains("(ignored)")).findFirst().orElseThrow();
        assertThat(line).startsWith("16 produced tensors not in the bundle (ignored): up_blocks.0.").contains("more");
        assertThat(table.lines().mapToInt(String::length).max().orElse(0)).isLessThanOrEqualTo(240);
    }

    @Test
    void shortFormatHidesPassingRowsButKeepsContext() {
        Map<String, INDArray> acts = new LinkedHashMap<>();
        ref.forEach(acts::put);
        acts.put("mid.out", ref.get("mid.out").neg());
        acts.remove("unused.out");
        String table = Comparison.of(bundle).compare(acts).format(false);
        assertThat(table).contains("mid.out").contains("<== FIRST FAILURE")
                .contains("conv_in.out") // context before the failure
                .contains("conv_out.out"); // last row
        ComparisonReport passing = Comparison.of(bundle).notProduced("not in this model", "unused.out")
                .compare(faithful());
        assertThat(passing.format(false)).contains("passing rows (--all-rows shows them)").contains("conv_out.out")
                .doesNotContain("conv_in.out")
                .contains("closest to its tolerance: mid.out, err/max|ref|"); // the only row with an error
    }

    @Test
    void toleranceFunctionAppliesPerTensorWithItsReason() {
        Map<String, INDArray> acts = Map.of("mid.out", ref.get("mid.out").add(1e-3f));
        Tolerance loose = new Tolerance(1e-2, "mid block sums 4096 terms in a different order");
        ComparisonReport r = Comparison.of(bundle)
                .tolerance(n -> n.equals("mid.out") ? loose : null)
                .notProduced("only mid.out is under test here", "*")
                .compare(acts);
        assertThat(r.passed()).isTrue();
        assertThat(r.rows().get(0).tolerance()).isEqualTo(loose);
        assertThat(r.format()).contains("mid block sums 4096 terms in a different order (1 rows)");
        assertThat(Comparison.of(bundle).notProduced("only mid.out is under test here", "*").compare(acts).passed())
                .isFalse();
    }

    @Test
    void metricsAreExact() {
        INDArray r = Nd4j.createFromArray(1f, -2f, 4f);
        INDArray a = Nd4j.createFromArray(1f, -2.5f, 4f);
        ComparisonReport.Row row = Comparison.measure("x", null, a, r, Tolerance.FP32);
        assertThat(row.maxAbsErr()).isEqualTo(0.5);
        assertThat(row.maxAbsRef()).isEqualTo(4);
        assertThat(row.relToMax()).isEqualTo(0.125);
        assertThat(row.cosine()).isCloseTo((1 + 5 + 16) / Math.sqrt(23.25 * 21), within(1e-12));
        assertThat(row.passed()).isFalse();
        assertThat(Comparison.measure("x", null, r, r, Tolerance.exact("copy")).passed()).isTrue();
    }

    @Test
    void shapeMismatchAndNonFiniteFail() {
        ComparisonReport.Row shape = Comparison.measure("x", null, Nd4j.zeros(DataType.FLOAT, 2, 2),
                Nd4j.zeros(DataType.FLOAT, 4), Tolerance.FP32);
        assertThat(shape.passed()).isFalse();
        assertThat(shape.note()).isEqualTo("shape [2, 2] vs reference [4]");
        ComparisonReport.Row nan = Comparison.measure("x", null, Nd4j.createFromArray(1f, Float.NaN),
                Nd4j.createFromArray(1f, 2f), new Tolerance(1, "anything finite"));
        assertThat(nan.passed()).isFalse();
        assertThat(nan.note()).contains("1 non-finite");
        ComparisonReport.Row sameInf = Comparison.measure("x", null, Nd4j.createFromArray(1f, Float.NEGATIVE_INFINITY),
                Nd4j.createFromArray(1f, Float.NEGATIVE_INFINITY), Tolerance.exact("masked scores"));
        assertThat(sameInf.passed()).isTrue();
        ComparisonReport.Row zeroRef = Comparison.measure("x", null, Nd4j.createFromArray(0f, 1e-9f),
                Nd4j.createFromArray(0f, 0f), new Tolerance(1e-3, "x"));
        assertThat(zeroRef.passed()).as("any error against an all-zero reference").isFalse();
    }

    @Test
    void outputsAreComparedWithIo() {
        ComparisonReport r = Comparison.of(bundle).notProduced("outputs only", "*").compare(Map.of(),
                Map.of("out", ref.get("conv_out.out"), "not_there", Nd4j.zeros(1)));
        assertThat(r.rows()).extracting(ComparisonReport.Row::name).containsExactly("io:out");
        assertThat(r.passed()).isTrue();
        assertThat(r.ignored()).containsExactly("io:not_there");
    }

    @Test
    void repeatedModuleCallsMatchTheDumpConvention() throws IOException {
        Map<String, INDArray> refs = new LinkedHashMap<>();
        refs.put("blk.out", Nd4j.createFromArray(1f, 2f));
        refs.put("blk@1.out", Nd4j.createFromArray(3f, 4f));
        GoldenBundle b = GoldenBundle.open(TestBundles.write(dir.resolve("rep"), "toy", refs,
                List.of("blk.out", "blk@1.out"), Map.of(), Map.of()));
        Trace t = Trace.all();
        t.record("blk.out", Nd4j.createFromArray(1f, 2f));
        t.record("blk.out", Nd4j.createFromArray(3f, 4f));
        ComparisonReport r = Comparison.of(b).compare(t);
        assertThat(r.passed()).isTrue();
        assertThat(r.rows()).hasSize(2);
        b.close();
    }

    @Test
    void nothingComparedIsNotAPass() {
        ComparisonReport r = Comparison.of(bundle).compare(Map.of("other", Nd4j.zeros(1)));
        assertThat(r.passed()).isFalse();
        assertThat(r.format()).contains("no tensor was compared");
    }
}
