package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads file ranges into the OS page cache on one background thread, so that a layer streamed from a mapped
 * checkpoint finds its pages resident instead of faulting them in from disk while the kernels wait.
 *
 * <p>Plain positional reads into one small reused buffer: nothing is mapped, so the process's memory does not grow,
 * and the kernel's readahead sees sequential reads. A prefetch is a hint: a failed read (a closed file, an I/O error)
 * is ignored, and the mapped access that follows reports any real problem.
 */
final class Prefetch {
    private Prefetch() {}

    private static final int BUFFER = 4 << 20;

    private static final ExecutorService READER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "v2a-prefetch");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });

    private static final AtomicLong BYTES_READ = new AtomicLong();

    private static final ThreadLocal<ByteBuffer> BUF = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER));

    /** Queues a read of {@code bytes} bytes of {@code ch} from {@code position}. */
    static void range(FileChannel ch, long position, long bytes) {
        READER.execute(() -> read(ch, position, bytes));
    }

    /** Bytes read so far by all prefetches (for tests). */
    static long bytesRead() {
        return BYTES_READ.get();
    }

    /** Waits until every prefetch queued so far has finished (for tests). */
    static void drain() throws InterruptedException, ExecutionException {
        READER.submit(() -> {}).get();
    }

    private static void read(FileChannel ch, long position, long bytes) {
        ByteBuffer b = BUF.get();
        long end = position + bytes;
        try {
            for (long p = position; p < end; ) {
                b.clear().limit((int) Math.min(BUFFER, end - p));
                int n = ch.read(b, p);
                if (n <= 0) return;
                p += n;
                BYTES_READ.addAndGet(n);
            }
        } catch (IOException | RuntimeException e) {
            // a hint only: the access that follows reads the file itself and reports its own errors
        }
    }
}
