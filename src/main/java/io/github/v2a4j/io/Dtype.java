package io.github.v2a4j.io;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The safetensors dtypes v2a4j reads and writes, with their little-endian element size. */
public enum Dtype {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int size;

    Dtype(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public boolean isInteger() {
        return this == I64 || this == I32 || this == I16 || this == I8 || this == U8 || this == BOOL;
    }

    public boolean isFloat() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The dtype spelled as in a safetensors header, or null when v2a4j does not know it. */
    public static Dtype parse(String s) {
        for (Dtype d : values()) if (d.name().equals(s)) return d;
        return null;
    }

    public static String supported() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /**
     * Converts {@code n} elements at the buffer's position (little-endian order already set) into
     * {@code out[off..off+n)}, advancing the buffer. I64/F64 lose precision above 2^24 like any float cast; BOOL is
     * 0 or 1 (any non-zero byte is true).
     */
    public void toFloat(ByteBuffer b, float[] out, int off, int n) {
        int p = b.position();
        switch (this) {
            case F32 -> b.asFloatBuffer().get(out, off, n);
            case F64 -> { for (int i = 0; i < n; i++) out[off + i] = (float) b.getDouble(p + 8 * i); }
            case BF16 -> { for (int i = 0; i < n; i++) out[off + i] = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xffff) << 16); }
            case F16 -> { for (int i = 0; i < n; i++) out[off + i] = halfToFloat(b.getShort(p + 2 * i)); }
            case I64 -> { for (int i = 0; i < n; i++) out[off + i] = (float) b.getLong(p + 8 * i); }
            case I32 -> { for (int i = 0; i < n; i++) out[off + i] = (float) b.getInt(p + 4 * i); }
            case I16 -> { for (int i = 0; i < n; i++) out[off + i] = b.getShort(p + 2 * i); }
            case I8 -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i); }
            case U8 -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i) & 0xff; }
            case BOOL -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i) != 0 ? 1f : 0f; }
        }
        b.position(p + n * size);
    }

    /**
     * Writes {@code in[off..off+n)} in this dtype at the buffer's position (little-endian order already set),
     * advancing it. F32 is exact; BF16 rounds to nearest even, as torch's {@code .to(torch.bfloat16)}.
     */
    public void fromFloat(float[] in, int off, int n, ByteBuffer out) {
        switch (this) {
            case F32 -> {
                out.asFloatBuffer().put(in, off, n);
                out.position(out.position() + 4 * n);
            }
            case BF16 -> { for (int i = 0; i < n; i++) out.putShort(floatToBf16(in[off + i])); }
            default -> throw new IllegalArgumentException("cannot write " + this + " from floats (F32 or BF16 only)");
        }
    }

    /** Round to nearest even, as torch's {@code .to(torch.bfloat16)}; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** Integer dtypes into {@code out[off..off+n)}; BOOL is 0 or 1. */
    void toLong(ByteBuffer b, long[] out, int off, int n) {
        int p = b.position();
        switch (this) {
            case I64 -> { for (int i = 0; i < n; i++) out[off + i] = b.getLong(p + 8 * i); }
            case I32 -> { for (int i = 0; i < n; i++) out[off + i] = b.getInt(p + 4 * i); }
            case I16 -> { for (int i = 0; i < n; i++) out[off + i] = b.getShort(p + 2 * i); }
            case I8 -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i); }
            case U8 -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i) & 0xff; }
            case BOOL -> { for (int i = 0; i < n; i++) out[off + i] = b.get(p + i) != 0 ? 1 : 0; }
            default -> throw new IllegalStateException(this + " is not an integer dtype");
        }
        b.position(p + n * size);
    }

    /** IEEE binary16 to float (Java 17 has no Float.float16ToFloat). Exact: every half is a float. */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f; // zero or subnormal
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
