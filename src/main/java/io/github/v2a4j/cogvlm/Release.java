package io.github.v2a4j.cogvlm;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gives big intermediates' native memory back at once. ND4J frees a buffer only after the garbage collector has
 * collected its (tiny) Java object, which with a nearly empty heap can take many layers: at real size one decoder
 * layer allocates ~1.5 GB of temporaries. Views and already released arrays are skipped (ND4J refuses to close them;
 * their owner is freed instead or left to the collector).
 */
final class Release {
    private Release() {}

    static void free(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a != null && a.closeable()) a.close();
        }
    }
}
