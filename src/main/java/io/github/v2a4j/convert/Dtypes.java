package io.github.v2a4j.convert;

import java.nio.ByteBuffer;

/** safetensors dtype sizes and the streaming float conversions of the converter (little-endian buffers). */
final class Dtypes {

    private Dtypes() {}

    /** Bytes per element, or -1 for a dtype safetensors does not define. */
    static int size(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    static boolean isConvertibleFloat(String dtype) {
        return dtype.equals("F32") || dtype.equals("BF16") || dtype.equals("F16") || dtype.equals("F64");
    }

    /** Reads one element of {@code from} at the buffer's position as a float (exact for BF16/F16, rounded for F64). */
    static float read(ByteBuffer in, String from) {
        return switch (from) {
            case "F32" -> in.getFloat();
            case "BF16" -> Float.intBitsToFloat((in.getShort() & 0xffff) << 16);
            case "F16" -> halfToFloat(in.getShort());
            case "F64" -> (float) in.getDouble();
            default -> throw new IllegalArgumentException("not a float dtype: " + from);
        };
    }

    static void write(ByteBuffer out, String to, float v) {
        switch (to) {
            case "F32" -> out.putFloat(v);
            case "BF16" -> out.putShort(floatToBf16(v));
            default -> throw new IllegalArgumentException("cannot write dtype " + to);
        }
    }

    /** Converts all remaining elements of {@code in}; the two hot cases get their own loops. */
    static void convert(ByteBuffer in, String from, ByteBuffer out, String to) {
        if (from.equals("BF16") && to.equals("F32")) {
            while (in.hasRemaining()) out.putInt((in.getShort() & 0xffff) << 16);
        } else if (from.equals("F32") && to.equals("BF16")) {
            while (in.hasRemaining()) out.putShort(floatToBf16(in.getFloat()));
        } else {
            while (in.hasRemaining()) write(out, to, read(in, from));
        }
    }

    /** Round to nearest even, as torch's {@code .to(torch.bfloat16)}; NaN stays a (quiet) NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** IEEE half → float, exact (subnormals, infinities and NaN included). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float v = mant / 16777216f; // 2^-24
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
