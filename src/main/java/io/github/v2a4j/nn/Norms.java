package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LayerNorm and GroupNorm on oneDNN: one vectorised, threaded pass for the statistics and one for the output, fp32
 * throughout (the reference's own arithmetic), with SiLU fused into the output pass where the model follows the norm
 * with it.
 */
public final class Norms {
    private Norms() {}

    /** LayerNorm over the last dim of dense {@code x} into {@code y} (same shape; may be x): biased variance, eps inside. */
    public static void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray y) {
        INDArray src = NN.contiguous(x);
        if (!NN.isDense(y) || !java.util.Arrays.equals(src.shape(), y.shape())) {
            throw new IllegalArgumentException("layerNorm: output must be dense and shaped like the input");
        }
        long c = src.size(src.rank() - 1);
        long rows = src.length() / c;
        INDArray s2 = src.reshape('c', rows, c);
        INDArray y2 = y.reshape('c', rows, c);
        INDArray g = floats(gamma);
        INDArray b = beta == null ? null : floats(beta);
        String key = Dnnl.key("layernorm", rows, c, eps, b != null);
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc d = Dnnl.desc(s2);
            try {
                int flags = dnnl_use_scale | (b != null ? dnnl_use_shift : 0);
                int[] args = b != null ? new int[] {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_SCALE, DNNL_ARG_SHIFT}
                        : new int[] {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_SCALE};
                return Dnnl.build("layer norm", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    Dnnl.check(dnnl_layer_normalization_forward_primitive_desc_create_v2(pd, Dnnl.engine(),
                            dnnl_forward_inference, d, d, null, dnnl_f32, (float) eps, flags, attr),
                            "describe a layer norm");
                    return pd;
                }, null, args);
            } finally {
                dnnl_memory_desc_destroy(d);
            }
        });
        if (b != null) {
            p.run(Dnnl.address(s2), Dnnl.address(y2), Dnnl.address(g), Dnnl.address(b));
        } else {
            p.run(Dnnl.address(s2), Dnnl.address(y2), Dnnl.address(g));
        }
    }

    /** {@link #layerNorm(INDArray, INDArray, INDArray, double, INDArray)} into a new (pooled) array. */
    public static INDArray layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps) {
        INDArray y = Buffers.take(x.shape());
        layerNorm(x, gamma, beta, eps, y);
        return y;
    }

    /**
     * GroupNorm of channels-last {@code x [B, H, W, C]} (or tokens {@code [B, L, C]}) into {@code y} (same shape,
     * may be x), affine per channel, optionally followed by SiLU in the same pass.
     */
    public static void groupNorm(INDArray x, int groups, INDArray gamma, INDArray beta, double eps, boolean silu,
                                 INDArray y) {
        INDArray src = NN.contiguous(x);
        long b = src.size(0), c = src.size(src.rank() - 1);
        if (c % groups != 0) throw new IllegalArgumentException("groupNorm: " + c + " channels, " + groups + " groups");
        long spatial = src.length() / (b * c);
        // oneDNN's logical order (N, C, spatial) over the channels-last memory
        long[] dims = {b, c, spatial};
        long[] strides = {spatial * c, 1, c};
        INDArray g = floats(gamma);
        INDArray bt = beta == null ? null : floats(beta);
        String key = Dnnl.key("groupnorm", dims, groups, eps, bt != null, silu);
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc d = Dnnl.desc(dims, DataType.FLOAT, strides);
            try {
                int flags = dnnl_use_scale | (bt != null ? dnnl_use_shift : 0);
                int[] args = bt != null ? new int[] {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_SCALE, DNNL_ARG_SHIFT}
                        : new int[] {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_SCALE};
                return Dnnl.build("group norm", attr -> {
                    dnnl_primitive_desc pd = new dnnl_primitive_desc();
                    Dnnl.check(dnnl_group_normalization_forward_primitive_desc_create(pd, Dnnl.engine(),
                            dnnl_forward_inference, d, d, groups, (float) eps, flags, attr), "describe a group norm");
                    return pd;
                }, !silu ? null : attr -> Dnnl.postOps(attr,
                        po -> Dnnl.check(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_swish, 1f, 0f), "SiLU")), args);
            } finally {
                dnnl_memory_desc_destroy(d);
            }
        });
        if (bt != null) {
            p.run(Dnnl.address(src), Dnnl.address(y), Dnnl.address(g), Dnnl.address(bt));
        } else {
            p.run(Dnnl.address(src), Dnnl.address(y), Dnnl.address(g));
        }
    }

    private static INDArray floats(INDArray v) {
        INDArray d = NN.contiguous(v);
        return d.dataType() == DataType.FLOAT ? d : d.castTo(DataType.FLOAT);
    }
}
