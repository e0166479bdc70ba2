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
