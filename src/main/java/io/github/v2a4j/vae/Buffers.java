package io.github.v2a4j.vae;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Early release of dead activations. At 512×1184 one activation with 128–256 channels is 300–600 MB; freeing each as
 * soon as it is dead (instead of waiting for the garbage collector to notice a small Java object) keeps the decoder's
 * peak near two or three such buffers.
 */
final class Buffers {
    private Buffers() {}

    /** Frees {@code x}'s buffer now if ND4J allows it (an array we allocated and that is not a view); else does nothing. */
    static void release(INDArray x) {
        if (x != null && x.closeable()) x.close();
    }
}
