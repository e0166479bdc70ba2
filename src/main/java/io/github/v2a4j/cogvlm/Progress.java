package io.github.v2a4j.cogvlm;

/**
 * Per-layer progress of an encoder pass (a real video pass runs for half an hour on a CPU): {@code step(unit, done,
 * total)} after each vision layer ({@code "vision layer 3/63"}), the adapter ({@code "adapter"}) and each decoder
 * layer ({@code "decoder layer 7/31"}). Called on the computing thread; keep it cheap. An exception it throws (a
 * cancellation) ends the pass at that layer boundary.
 */
@FunctionalInterface
public interface Progress {

    Progress NONE = (unit, done, total) -> {};

    void step(String unit, int done, int total);

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

        void tick(String unit) {
            sink.step(unit, ++done, total);
        }
    }
}
