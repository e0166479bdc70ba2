package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Elementwise activations and the row softmax on oneDNN (vectorised and threaded): activations in place on dense fp32
 * arrays, the softmax from dense fp32 into fp32 (in place allowed) or bf16.
 */
public final class Eltwise {
    private Eltwise() {}

    /** Exact GELU {@code 0.5·x·(1+erf(x/√2))}, in place. */
    public static INDArray geluInPlace(INDArray x) {
        return apply(x, dnnl_eltwise_gelu_erf, 0f);
    }

    /** SiLU {@code x·σ(x)}, in place. */
    public static INDArray siluInPlace(INDArray x) {
        return apply(x, dnnl_eltwise_swish, 1f);
    }

    /**
     * Softmax over the last dim of a dense {@code [rows, n]} fp32 {@code src} into {@code dst} of the same shape,
     * fp32 (may be {@code src} itself) or bf16 (each probability rounded once, from the fp32 result). Max, exponent
     * and sum are fp32 ({@code dnnl_softmax_accurate}).
     */
    public static void softmaxRows(INDArray src, INDArray dst) {
        if (!NN.isDense(src) || !NN.isDense(dst) || src.rank() != 2 || !src.equalShapes(dst)) {
            throw new IllegalArgumentException("softmax: src and dst must be dense [rows, n] arrays of one shape");
        }
        long[] dims = src.shape();
        String key = Dnnl.key("softmax", src.dataType(), dst.dataType(), dims);
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc s = Dnnl.desc(src);
            dnnl_memory_desc d = Dnnl.desc(dst);
            try {
                return Dnnl.build("softmax", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    Dnnl.check(dnnl_softmax_forward_primitive_desc_create(pd, Dnnl.engine(), dnnl_forward_inference,
                            dnnl_softmax_accurate, s, d, 1, attr), "describe a softmax");
                    return pd;
                }, null, DNNL_ARG_SRC, DNNL_ARG_DST);
            } finally {
                dnnl_memory_desc_destroy(s);
                dnnl_memory_desc_destroy(d);
            }
        });
        p.run(Dnnl.address(src), Dnnl.address(dst));
    }

    /**
     * {@code dst[p, c] = src[p, c]·scale[c] + shift[c]}, then SiLU if asked, on dense fp32 {@code [rows, C]} arrays
     * (dst may be src), with fp32 {@code scale} and {@code shift} of length C: one vectorised, threaded pass (a
     * oneDNN binary multiply with the addition and the SiLU as post-ops), two roundings as {@code x·a + b} in fp32.
     */
    public static void scaleShift(INDArray src, INDArray scale, INDArray shift, boolean silu, INDArray dst) {
        if (!NN.isDense(src) || !NN.isDense(dst) || src.rank() != 2 || !src.equalShapes(dst)
                || src.dataType() != DataType.FLOAT || dst.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("scaleShift: src and dst must be dense fp32 [rows, C] arrays of one shape");
        }
        long c = src.size(1);
        if (scale.length() != c || shift.length() != c || !NN.isDense(scale) || !NN.isDense(shift)) {
            throw new IllegalArgumentException("scaleShift: scale and shift must be dense, " + c + " values each");
        }
        long[] dims = src.shape();
        long[] row = {1, c};
        String key = Dnnl.key("scaleshift", dims, silu);
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc d = Dnnl.desc(dims, src.dataType(), new long[] {c, 1});
            dnnl_memory_desc r = Dnnl.desc(row, src.dataType(), new long[] {c, 1});
            try {
                return Dnnl.build("scale and shift", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    Dnnl.check(dnnl_binary_primitive_desc_create(pd, Dnnl.engine(), dnnl_binary_mul, d, r, d, attr),
                            "describe a scale and shift");
                    return pd;
                }, attr -> Dnnl.postOps(attr, po -> {
                    Dnnl.check(dnnl_post_ops_append_binary(po, dnnl_binary_add, r), "shift");
                    if (silu) Dnnl.check(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_swish, 1f, 0f), "SiLU");
                }), DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST, DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1);
            } finally {
                dnnl_memory_desc_destroy(d);
                dnnl_memory_desc_destroy(r);
            }
        });
        p.run(Dnnl.address(src), Dnnl.address(scale), Dnnl.address(dst), Dnnl.address(shift));
    }

    private static INDArray apply(INDArray x, int alg, float alpha) {
        if (!NN.isDense(x)) throw new IllegalArgumentException("eltwise: the array must be dense");
        long[] dims = {x.length()};
        String key = Dnnl.key("eltwise", alg, alpha, x.dataType(), dims);
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc d = Dnnl.desc(dims, x.dataType(), new long[] {1});
            try {
                return Dnnl.build("eltwise", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    Dnnl.check(dnnl_eltwise_forward_primitive_desc_create(pd, Dnnl.engine(), dnnl_forward_inference,
                            alg, d, d, alpha, 0f, attr), "describe an activation");
                    return pd;
                }, null, DNNL_ARG_SRC, DNNL_ARG_DST);
            } finally {
                dnnl_memory_desc_destroy(d);
            }
        });
        p.run(Dnnl.address(x), Dnnl.address(x));
        return x;
    }
}
