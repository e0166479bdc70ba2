package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BuffersTest {

    private static final long MB = 1L << 20;

    @Test
    void releasedArraysBeyondTheBudgetAreFreedNotPooled() {
        // arrays made outside the pool (as dup() and ND4J ops make them) and released into it, with no take in
        // between: the pool keeps what its budget allows and frees the rest
        try (Buffers.Pool pool = Buffers.open(3 * MB)) {
            List<INDArray> made = new ArrayList<>();
            for (int i = 0; i < 10; i++) made.add(Nd4j.createUninitialized(DataType.FLOAT, MB / 4));
            made.forEach(Buffers::release);
            assertThat(pool.pooledBytes()).isEqualTo(3 * MB);
            assertThat(made.stream().filter(a -> a.data().wasClosed()).count()).isEqualTo(7);
        }
    }

    @Test
    void aMissFreesPooledBuffersLargestFirstOnlyUntilTheNewOneFits() {
        try (Buffers.Pool pool = Buffers.open(4 * MB)) {
            INDArray a = Buffers.take(DataType.BYTE, 2 * MB);
            INDArray b = Buffers.take(DataType.BYTE, MB);
            INDArray c = Buffers.take(DataType.BYTE, MB / 2);
            Buffers.release(a, b, c);
            assertThat(pool.pooledBytes()).isEqualTo(3 * MB + MB / 2);
            long fresh = Buffers.ALLOCATED.get();
            INDArray d = Buffers.take(DataType.BYTE, 3 * MB); // nothing pooled holds it: 3.5 + 3 MB > 4 MB
            assertThat(Buffers.ALLOCATED.get() - fresh).isEqualTo(3 * MB);
            // 2 MB goes (1.5 + 3 > 4), then 1 MB (0.5 + 3 <= 4): the 0.5 MB buffer stays for its next request
            assertThat(a.data().wasClosed()).isTrue();
            assertThat(b.data().wasClosed()).isTrue();
            assertThat(c.data().wasClosed()).isFalse();
            assertThat(pool.pooledBytes()).isEqualTo(MB / 2);
            Buffers.release(d);
        }
    }

    @Test
    void takeExactReusesOnlyABufferOfExactlyThatLength() {
        try (Buffers.Pool pool = Buffers.open(8 * MB)) {
            INDArray a = Buffers.takeExact(DataType.BYTE, MB);
            Buffers.release(a);
            INDArray longer = Buffers.takeExact(DataType.BYTE, MB / 2); // take() would hand out a view of a
            assertThat(longer.data().addressPointer().address()).isNotEqualTo(a.data().addressPointer().address());
            assertThat(longer.isView()).isFalse();
            INDArray same = Buffers.takeExact(DataType.BYTE, MB);
            assertThat(same.data().addressPointer().address()).isEqualTo(a.data().addressPointer().address());
            Buffers.release(same);
            Buffers.release(longer);
        }
    }

    @Test
    void aStreamedLayerPacksIntoTheMemoryThePreviousLayerReleased() {
        // two layers of one shape, one after the other, as CogVLM2 streams its layers: the second one's packed
        // weight reuses the first one's buffer, and its products are still its own
        java.util.Random r = new java.util.Random(3);
        INDArray x = NNTest.rand(r, 1.0, 64, 256);
        try (Buffers.Pool pool = Buffers.open()) {
            INDArray w1 = NNTest.rand(r, 1.0, 512, 256);
            Linear first = new Linear("l1", w1, null, Precision.FP32);
            INDArray y1 = first.apply(x);
            assertThat(first.packedBytes()).isGreaterThan(0);
            first.release();
            long reused = Buffers.REUSED.get();
            INDArray w2 = NNTest.rand(r, 1.0, 512, 256);
            Linear second = new Linear("l2", w2, null, Precision.FP32);
            INDArray y2 = second.apply(x);
            assertThat(Buffers.REUSED.get()).isGreaterThan(reused);
            assertThat(y2.sub(x.mmul(w2.transpose())).amaxNumber().doubleValue()).isLessThan(1e-4);
            assertThat(y1.sub(x.mmul(w1.transpose())).amaxNumber().doubleValue()).isLessThan(1e-4);
            second.release();
        }
    }

    @Test
    void aPooledArrayIsHandedOutAgain() {
        try (Buffers.Pool pool = Buffers.open(3 * MB)) {
            INDArray a = Buffers.take(MB / 4);
            Buffers.release(a);
            assertThat(pool.pooledBytes()).isEqualTo(MB);
            INDArray b = Buffers.take(512, 512);
            assertThat(b.data().addressPointer().address()).isEqualTo(a.data().addressPointer().address());
            assertThat(pool.pooledBytes()).isZero();
        }
    }

    @Test
    void budgetZeroKeepsEverythingUntilTheNextMiss() {
        try (Buffers.Pool pool = Buffers.open(0)) {
            for (int i = 0; i < 4; i++) Buffers.release(Nd4j.createUninitialized(DataType.FLOAT, MB / 4));
            assertThat(pool.pooledBytes()).isEqualTo(4 * MB);
            Buffers.take(MB); // nothing pooled holds 4 MB: a miss frees the pool first
            assertThat(pool.pooledBytes()).isZero();
        }
    }
}
