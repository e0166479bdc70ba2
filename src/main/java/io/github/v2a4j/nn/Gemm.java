package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Matrix products on oneDNN: {@code C = epilogue(A·B + bias)} over (batched) strided operands, fp32 or bf16 inputs,
 * fp32 accumulation and output. Transposes and head splits are strides, not copies: {@code x.permute(...)} views
 * go straight in.
 *
 * <p>The epilogue is fused into the GEMM's output pass (oneDNN post-ops), so a scale, an activation or a residual sum
 * never takes a second trip through memory.
 */
public final class Gemm {
    private Gemm() {}

    /** What happens to {@code A·B + bias} before it is written. Immutable; combine with the {@code with…} methods. */
    public record Epilogue(float scale, int activation, boolean accumulate, INDArray multiplier) {
        /** Nothing: {@code C = A·B + bias}. */
        public static final Epilogue NONE = new Epilogue(1f, dnnl_alg_kind_undef, false, null);

        /** Multiplies the product by {@code s} (the attention's 1/√d). */
        public Epilogue scaled(float s) {
            return new Epilogue(s, activation, accumulate, multiplier);
        }

        /** Applies exact (erf) GELU. */
        public Epilogue gelu() {
            return new Epilogue(scale, dnnl_eltwise_gelu_erf, accumulate, multiplier);
        }

        /** Applies SiLU {@code x·σ(x)}. */
        public Epilogue silu() {
            return new Epilogue(scale, dnnl_eltwise_swish, accumulate, multiplier);
        }

        /** Adds the result to what C holds ({@code C += …}): a residual connection in the same pass. */
        public Epilogue accumulating() {
            return new Epilogue(scale, activation, true, multiplier);
        }

        /** Multiplies the (activated) result elementwise by {@code m}, shaped like C (GEGLU's value half). */
        public Epilogue times(INDArray m) {
            return new Epilogue(scale, activation, accumulate, m);
        }

        String key() {
            return scale + "/" + activation + "/" + accumulate + "/"
                    + (multiplier == null ? "-" : java.util.Arrays.toString(multiplier.stride()));
        }
    }

    /**
     * {@code c = epilogue(a·b + bias)}: a {@code [..., M, K]}, b {@code [..., K, N]}, c {@code [..., M, N]} fp32 (any
     * strides; batch dims equal or 1 in a/b for broadcasting), bias {@code [N]} fp32 or null. a and b may be fp32 or
     * bf16 (both the same); accumulation is fp32.
     */
    public static void matmul(INDArray a, INDArray b, INDArray c, INDArray bias, Epilogue ep) {
        int r = c.rank();
        if (a.rank() != r || b.rank() != r || a.size(r - 1) != b.size(r - 2) || a.size(r - 2) != c.size(r - 2)
                || b.size(r - 1) != c.size(r - 1) || c.dataType() != DataType.FLOAT || a.dataType() != b.dataType()) {
            throw new IllegalArgumentException("matmul: " + a.dataType() + java.util.Arrays.toString(a.shape()) + " · "
                    + b.dataType() + java.util.Arrays.toString(b.shape()) + " → " + c.dataType()
                    + java.util.Arrays.toString(c.shape()));
        }
        long[] biasDims = null;
        if (bias != null) {
            biasDims = new long[r];
            java.util.Arrays.fill(biasDims, 1);
            biasDims[r - 1] = c.size(r - 1);
        }
        long[] finalBiasDims = biasDims;
        String key = Dnnl.key("matmul", a.dataType(), a.shape(), a.stride(), b.shape(), b.stride(), c.shape(),
                c.stride(), bias != null, ep.key());
        Dnnl.Prim p = Dnnl.cached(key, () -> build(a, b, c, finalBiasDims, ep));
        run(p, a, b, c, bias, ep);
    }

    /** Runs a primitive built by {@link #build} (or with the same argument list) on these operands. */
    static void run(Dnnl.Prim p, INDArray a, INDArray b, INDArray c, INDArray bias, Epilogue ep) {
        Pointer[] data = new Pointer[p.args.length];
        data[0] = Dnnl.address(a);
        data[1] = Dnnl.address(b);
        data[2] = Dnnl.address(c);
        int i = 3;
        if (bias != null) data[i++] = Dnnl.address(bias);
        if (ep.multiplier != null) data[i++] = Dnnl.address(ep.multiplier);
        p.run(data);
    }

    static Dnnl.Prim build(INDArray a, INDArray b, INDArray c, long[] biasDims, Epilogue ep) {
        return build(Dnnl.desc(a), Dnnl.desc(b), c, biasDims, ep);
    }

    /** Builds with a given weights descriptor (a packed layout, or "any"). */
    static Dnnl.Prim build(dnnl_memory_desc src, dnnl_memory_desc wei, INDArray c, long[] biasDims, Epilogue ep) {
        dnnl_memory_desc dst = Dnnl.desc(c);
        dnnl_memory_desc bmd = biasDims == null ? null
                : Dnnl.desc(biasDims, DataType.FLOAT, contiguousStrides(biasDims));
        dnnl_memory_desc mmd = ep.multiplier == null ? null : Dnnl.desc(ep.multiplier);
        int n = 3 + (biasDims == null ? 0 : 1) + (mmd == null ? 0 : 1);
        int[] args = new int[n];
        args[0] = DNNL_ARG_SRC;
        args[1] = DNNL_ARG_WEIGHTS;
        args[2] = DNNL_ARG_DST;
        int i = 3;
        if (biasDims != null) args[i++] = DNNL_ARG_BIAS;
        int postIndex = (ep.scale != 1f ? 1 : 0) + (ep.activation != dnnl_alg_kind_undef ? 1 : 0)
                + (ep.accumulate ? 1 : 0);
        if (mmd != null) args[i] = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (postIndex + 1) | DNNL_ARG_SRC_1;
        try {
            return Dnnl.build("matmul", attr -> {
                dnnl_primitive_desc pd = new dnnl_primitive_desc();
                Dnnl.check(dnnl_matmul_primitive_desc_create(pd, Dnnl.engine(), src, wei, bmd, dst, attr),
                        "describe a matmul");
                return pd;
            }, attr -> configure(attr, ep, mmd), args);
        } finally {
            dnnl_memory_desc_destroy(dst);
            if (bmd != null) dnnl_memory_desc_destroy(bmd);
            if (mmd != null) dnnl_memory_desc_destroy(mmd);
        }
    }

    /** Post-ops in the order: scale, activation, residual sum, elementwise multiplier. */
    static void configure(dnnl_primitive_attr attr, Epilogue ep, dnnl_memory_desc multiplier) {
        if (ep == Epilogue.NONE) return;
        Dnnl.postOps(attr, po -> {
            if (ep.scale != 1f) Dnnl.check(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_linear, ep.scale, 0f), "scale");
            if (ep.activation != dnnl_alg_kind_undef) {
                // swish's alpha is the β of x·σ(βx): 1 for SiLU
                float alpha = ep.activation == dnnl_eltwise_swish ? 1f : 0f;
                Dnnl.check(dnnl_post_ops_append_eltwise(po, ep.activation, alpha, 0f), "activation");
            }
            if (ep.accumulate) Dnnl.check(dnnl_post_ops_append_sum(po, 1f, 0, dnnl_data_type_undef), "sum");
            if (multiplier != null) Dnnl.check(dnnl_post_ops_append_binary(po, dnnl_binary_mul, multiplier), "mul");
        });
    }

    static long[] contiguousStrides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }
}
