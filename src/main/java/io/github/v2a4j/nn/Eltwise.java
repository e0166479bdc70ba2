package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Elementwise activations on oneDNN (vectorised and threaded), in place on dense fp32 arrays. */
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
