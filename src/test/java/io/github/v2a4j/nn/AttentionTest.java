package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The chunked attention against the plain formula (its slow twin), over the cases the models use. */
class AttentionTest {

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
            assertThat(maxAbs(Attention.sdpa(q, k, v, 4, 4, false, chunk), plain)).isLessThan(1e-6);
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
            assertThat(maxAbs(Attention.sdpa(q, k, v, 8, 2, true, chunk), plain)).isLessThan(1e-6);
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

    /** The plain formula, materialising all scores: the slow twin that tests the chunked path at small sizes. */
    static INDArray sdpaPlain(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        long b = q.size(0);
        int lq = (int) q.size(1);
        int lk = (int) k.size(1);
        int d = (int) (q.size(2) / heads);
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
}
