package io.github.v2a4j.golden;

/**
 * How far a tensor may be from its reference: max |actual - ref| / max |ref| ≤ {@code maxRelToMax}, and, where a
 * bound on the whole tensor is stated, cosine(actual, ref) ≥ {@code minCosine}. Every tolerance
 * says why it is what it is; the report prints the reason next to the rows it applies to.
 */
public record Tolerance(double maxRelToMax, double minCosine, String reason) {

    /** Only the max |err| / max |ref| bound. */
    public Tolerance(double maxRelToMax, String reason) {
        this(maxRelToMax, Double.NEGATIVE_INFINITY, reason);
    }

    /** fp32 on CPU, same maths as PyTorch: only summation order and libm differ. */
    public static final Tolerance FP32 = new Tolerance(1e-5, "fp32 CPU vs PyTorch fp32: rounding only");

    public Tolerance {
        if (!(maxRelToMax >= 0)) throw new IllegalArgumentException("tolerance must be >= 0, got " + maxRelToMax);
        if (Double.isNaN(minCosine) || minCosine > 1) throw new IllegalArgumentException("minimum cosine " + minCosine);
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException("a tolerance needs a reason");
    }

    /**
     * How far a chaotic stage may drift: {@value #NOISE_FACTOR} × the reference's own distance between its fp32 run
     * and an fp64 run of the same stage on the same input (a bundle's {@code reference_noise}), and at least
     * {@code floor}. An implementation that computes the stage in double lands about one such distance from the fp32
     * reference; the factor leaves the same room again for its own inputs, which differ from the reference's by
     * fp32 rounding and pass through the same amplification.
     *
     * @param floor the least tolerance the row needs anyway: fp32 rounding, or one integer step for integer samples
     */
    public static Tolerance fromReferenceNoise(double fp32VsFp64, Tolerance floor) {
        double t = NOISE_FACTOR * fp32VsFp64;
        if (t <= floor.maxRelToMax()) return floor;
        return new Tolerance(t, String.format(java.util.Locale.ROOT,
                "%.0f × the reference's own fp32-vs-fp64 distance of this stage on this input (%.2e)", NOISE_FACTOR,
                fp32VsFp64));
    }

    /** See {@link #fromReferenceNoise}. */
    public static final double NOISE_FACTOR = 2.0;

    /** An exact match (integer results, copies). */
    public static Tolerance exact(String reason) {
        return new Tolerance(0, reason);
    }
}
