package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The chunked attention against the plain formula (its slow twin), over the cases the models use. */
class AttentionTest {

    /** The plain formula, materialising all scores: the slow twin that tests the chunked path at small sizes. */
    static INDArray sdpaPlain(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        long b = q.size(0);
        int lq = (int) q.size(1);
        int lk = (int) k.size(1);
        int d = (int) (q.size(2) / heads);
        Attention.checkShapes(q, k, v, heads, kvHeads, d);
        int group = heads / kvHeads;
        INDArray out = Nd4j.create(DataType.FLOAT, b, lq, (long) heads * d);
        for (long bi = 0; bi < b; bi++) {
            for (int h = 0; h < heads; h++) {
                int g = h / group;
                INDArray qs = q.get(NDArrayIndex.point(bi), NDArrayIndex.all(), NDArrayIndex.interval(h * d, (h + 1) * d));
                INDArray ks = k.get(NDArrayIndex.point(bi), NDArrayIndex.all(), NDArrayIndex.interval(g * d, (g + 1) * d));
                INDArray vs = v.get(NDArrayIndex.point(bi), NDArrayIndex.all(), NDArrayIndex.interval(g * d, (g + 1) * d));
                INDArray s = qs.dup('c').mmul(ks.dup('c').transpose()).muli(1.0 / Math.sqrt(d));
                for (int i = 0; i < lq; i++) {
                    for (int j = 0; j < lk; j++) {
                        if (causal && j > i + lk - lq) s.putScalar(i, j, Double.NEGATIVE_INFINITY);
                    }
                }
                INDArray max = s.max(1).reshape(lq, 1);
                INDArray e = org.nd4j.linalg.ops.transforms.Transforms.exp(s.subColumnVector(max), true);
                e.diviColumnVector(e.sum(1).reshape(lq, 1));
                out.get(NDArrayIndex.point(bi), NDArrayIndex.all(), NDArrayIndex.interval(h * d, (h + 1) * d))
                        .assign(e.mmul(vs.dup('c')));
            }
        }
        return out;
    }

    private static double maxAbs(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void chunkedEqualsPlainWithPartialLastChunk() {
        Random r = new Random(7);
        INDArray q = NNTest.rand(r, 1, 2, 37, 16);
        INDArray k = NNTest.rand(r, 1, 2, 23, 16);
        INDArray v = NNTest.rand(r, 1, 2, 23, 16);
        INDArray plain = sdpaPlain(q, k, v, 4, 4, false);
        for (int chunk : new int[] {0, 1, 8, 10, 37}) {
            assertThat(maxAbs(Attention.sdpa(q, k, v, 4, 4, false, Precision.FP32, chunk), plain)).isLessThan(1e-6);
        }
    }

    @Test
    void causalGroupedQueryAttentionEqualsPlain() {
        Random r = new Random(8);
        INDArray q = NNTest.rand(r, 1, 1, 19, 32);   // 8 heads of 4
        INDArray k = NNTest.rand(r, 1, 1, 19, 8);    // 2 kv heads
        INDArray v = NNTest.rand(r, 1, 1, 19, 8);
        INDArray plain = sdpaPlain(q, k, v, 8, 2, true);
        for (int chunk : new int[] {0, 4, 7}) {
            assertThat(maxAbs(Attention.sdpa(q, k, v, 8, 2, true, Precision.FP32, chunk), plain)).isLessThan(1e-6);
        }
        // the first query sees only the first key: its output is that key's value row
        assertThat(maxAbs(plain.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)),
                v.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)))).isLessThan(1e-6);
    }

    @Test
    void plainFormulaMatchesHandComputedSoftmax() {
        // one head, one query, two keys: weights softmax([q·k0, q·k1]/√2)
        INDArray q = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][][] {{{1, 0}}});
        INDArray k = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][][] {{{1, 0}, {0, 1}}});
        INDArray v = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][][] {{{10, 0}, {0, 10}}});
        double w0 = Math.exp(1 / Math.sqrt(2)) / (Math.exp(1 / Math.sqrt(2)) + 1);
        INDArray o = Attention.sdpa(q, k, v, 1, 1, false);
        assertThat(o.getDouble(0, 0, 0)).isCloseTo(10 * w0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(o.getDouble(0, 0, 1)).isCloseTo(10 * (1 - w0), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void batchOfTwoCausalWithMoreKeysThanQueries() {
        Random r = new Random(9);
        INDArray q = NNTest.rand(r, 1, 2, 11, 16);
        INDArray k = NNTest.rand(r, 1, 2, 17, 8);
        INDArray v = NNTest.rand(r, 1, 2, 17, 8);
        INDArray plain = sdpaPlain(q, k, v, 4, 2, true);
        for (int chunk : new int[] {0, 3, 5}) {
            assertThat(maxAbs(Attention.sdpa(q, k, v, 4, 2, true, Precision.FP32, chunk), plain)).isLessThan(1e-6);
        }
    }

    @Test
    void bf16StaysWithinTheRoundingOfItsOperands() {
        Random r = new Random(10);
        INDArray q = NNTest.rand(r, 1, 2, 40, 32);
        INDArray k = NNTest.rand(r, 1, 2, 30, 32);
        INDArray v = NNTest.rand(r, 1, 2, 30, 32);
        INDArray plain = sdpaPlain(q, k, v, 4, 4, false);
        double err = maxAbs(Attention.sdpa(q, k, v, 4, 4, false, Precision.BF16, 7), plain);
        // q, k, v and the probabilities each carry a relative rounding of at most 2^-9
        assertThat(err).isGreaterThan(1e-6).isLessThan(4 * Math.pow(2, -9) * plain.amaxNumber().doubleValue());
    }

    @Test
    void readsQueriesKeysAndValuesAsColumnSlicesOfOneProjection() {
        // q, k, v as the thirds of a fused projection: strided views with offsets into one buffer
        Random r = new Random(11);
        INDArray mixed = NNTest.rand(r, 1, 3, 9, 48);
        INDArray q = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 16));
        INDArray k = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(16, 32));
        INDArray v = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(32, 48));
        INDArray plain = sdpaPlain(q.dup('c'), k.dup('c'), v.dup('c'), 4, 4, false);
        assertThat(maxAbs(Attention.sdpa(q, k, v, 4, 4, false, Precision.FP32, 4), plain)).isLessThan(1e-6);
    }
}
