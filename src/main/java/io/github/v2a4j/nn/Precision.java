package io.github.v2a4j.nn;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The arithmetic of the matrix products (linear layers, attention, convolutions). Norms, softmax, residual sums and
 * every accumulation stay fp32 in both.
 */
public enum Precision {
    /** fp32 operands. The default: closest to the fp32 reference. */
    FP32(DataType.FLOAT),
    /**
     * bf16 operands (weights converted once, activations rounded right before each product), fp32 accumulation and
     * output: the reference's own arithmetic for CogVLM2 and the UNet, which it runs with {@code torch_dtype=bfloat16}.
     */
    BF16(DataType.BFLOAT16);

    private final DataType operands;

    Precision(DataType operands) {
        this.operands = operands;
    }

    /** The data type of the products' operands. */
    public DataType operands() {
        return operands;
    }

    /** {@code fp32} / {@code bf16}, as the command line spells it. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Precision parse(String s) {
        for (Precision p : values()) {
            if (p.label().equals(s)) return p;
        }
        throw new IllegalArgumentException("precision must be fp32 or bf16, not '" + s + "'");
    }
}
