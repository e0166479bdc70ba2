package io.github.v2a4j.golden;

/**
 * How far a tensor may be from its reference: max |actual - ref| / max |ref| ≤ {@code maxRelToMax}. Every tolerance
 * says why it is what it is; the report prints the reason next to the rows it applies to.
 */
public record Tolerance(double maxRelToMax, String reason) {

    /** fp32 on CPU, same maths as PyTorch: only summation order and libm differ. */
    public static final Tolerance FP32 = new Tolerance(1e-5, "fp32 CPU vs PyTorch fp32: rounding only");

    public Tolerance {
        if (!(maxRelToMax >= 0)) throw new IllegalArgumentException("tolerance must be >= 0, got " + maxRelToMax);
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException("a tolerance needs a reason");
    }

    /** An exact match (integer results, copies). */
    public static Tolerance exact(String reason) {
        return new Tolerance(0, reason);
    }
}
