package io.github.v2a4j.cogvlm;

/**
 * Per-layer progress of an encoder pass (a real video pass runs for a long time on a CPU): {@code step(done, total)}
 * after each vision layer, the adapter and each decoder layer. Called on the computing thread; keep it cheap.
 */
@FunctionalInterface
public interface Progress {

    Progress NONE = (done, total) -> {};

    void step(int done, int total);

    /** A counter over {@code total} steps reporting to {@code sink}. */
    static Counter counter(Progress sink, int total) {
        return new Counter(sink, total);
    }

    final class Counter {
        private final Progress sink;
        private final int total;
        private int done;

        Counter(Progress sink, int total) {
            this.sink = sink;
            this.total = total;
        }

        void tick() {
            sink.step(++done, total);
        }
    }
}
