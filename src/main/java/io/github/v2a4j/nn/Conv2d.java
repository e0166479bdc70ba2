package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A 2-D convolution (PyTorch {@code nn.Conv2d}, weight {@code [out, in, kh, kw]}, zero padding, stride s) on oneDNN.
 *
 * <p>Activations are channels-last {@code [B, H, W, C]}: oneDNN's convolutions read and write that layout directly,
 * where NCHW costs a reorder of input and output around every call. The weight is packed once, on first use, in
 * the layout and operand type the kernel wants. In bf16 the input is rounded right before the convolution;
 * accumulation and output stay fp32.
 */
public final class Conv2d {
    private final String name;
    private final INDArray weight;
    private final INDArray bias;
    private final Precision precision;
    private final int stride;
    private final int pad;
    private final long cin;
    private final long cout;
    private final long kh;
    private final long kw;
    private final java.util.List<INDArray> packs = new java.util.ArrayList<>(2);
    private final java.util.List<dnnl_memory_desc> layouts = new java.util.ArrayList<>(2);

    public Conv2d(String name, INDArray weight, INDArray bias, int stride, int pad, Precision precision) {
        if (weight.rank() != 4) {
            throw new IllegalArgumentException(name + ": a convolution weight is [out, in, kh, kw], got "
                    + java.util.Arrays.toString(weight.shape()));
        }
        this.name = name;
        this.weight = weight;
        this.bias = bias == null ? null
                : NN.contiguous(bias.dataType() == DataType.FLOAT ? bias : bias.castTo(DataType.FLOAT));
        this.precision = precision;
        this.stride = stride;
        this.pad = pad;
        this.cout = weight.size(0);
        this.cin = weight.size(1);
        this.kh = weight.size(2);
        this.kw = weight.size(3);
    }

    public long outChannels() {
        return cout;
    }

    public long inChannels() {
        return cin;
    }

    /** Zero padding on every side. */
    public int padding() {
        return pad;
    }

    /** Output rows/columns for an input of {@code n}. */
    public long outSize(long n, long k) {
        return (n + 2L * pad - k) / stride + 1;
    }

    /** x {@code [B, H, W, Cin]} → a new (pooled) {@code [B, H', W', Cout]}. */
    public INDArray apply(INDArray x) {
        INDArray y = Buffers.take(x.size(0), outSize(x.size(1), kh), outSize(x.size(2), kw), cout);
        apply(x, y, Gemm.Epilogue.NONE);
        return y;
    }

    /** Writes {@code epilogue(conv(x) + b)} into {@code y}; both channels-last, any strides (bands of rows are views). */
    public void apply(INDArray x, INDArray y, Gemm.Epilogue ep) {
        if (x.rank() != 4 || x.size(3) != cin || y.size(3) != cout || y.size(0) != x.size(0)
                || y.size(1) != outSize(x.size(1), kh) || y.size(2) != outSize(x.size(2), kw)) {
            throw new IllegalArgumentException(name + ": input " + java.util.Arrays.toString(x.shape()) + " / output "
                    + java.util.Arrays.toString(y.shape()) + " do not fit a " + java.util.Arrays.toString(weight.shape())
                    + " convolution (channels-last)");
        }
        INDArray src = x;
        boolean rounded = precision == Precision.BF16 && x.dataType() != DataType.BFLOAT16;
        if (rounded) {
            src = Buffers.take(DataType.BFLOAT16, x.shape());
            Dnnl.reorder(x, src);
        }
        try {
            run(src, y, ep);
        } finally {
            if (rounded) Buffers.release(src);
        }
    }

    /** Channels-last {@code [B, H, W, C]} viewed with the logical dims oneDNN wants: {@code (B, C, H, W)}. */
    private static long[] nchwDims(INDArray a) {
        return new long[] {a.size(0), a.size(3), a.size(1), a.size(2)};
    }

    private static long[] nchwStrides(INDArray a) {
        return new long[] {a.stride(0), a.stride(3), a.stride(1), a.stride(2)};
    }

    private void run(INDArray src, INDArray dst, Gemm.Epilogue ep) {
        DataType t = precision.operands();
        String key = Dnnl.key("conv", t, weight.shape(), stride, pad, bias != null, src.shape(), src.stride(),
                dst.shape(), dst.stride(), ep.key());
        Dnnl.Prim p = Dnnl.cached(key, () -> build(src, dst, ep, t));
        Pointer[] data = new Pointer[p.args.length];
        data[0] = Dnnl.address(src);
        data[1] = Dnnl.address(packedFor(p.queryArg(DNNL_ARG_WEIGHTS)));
        data[2] = Dnnl.address(dst);
        int i = 3;
        if (bias != null) data[i++] = Dnnl.address(bias);
        if (ep.multiplier() != null) data[i] = Dnnl.address(ep.multiplier());
        p.run(data);
    }

    private Dnnl.Prim build(INDArray src, INDArray dst, Gemm.Epilogue ep, DataType t) {
        dnnl_memory_desc s = Dnnl.desc(nchwDims(src), src.dataType(), nchwStrides(src));
        dnnl_memory_desc d = Dnnl.desc(nchwDims(dst), DataType.FLOAT, nchwStrides(dst));
        dnnl_memory_desc w = Dnnl.anyLayout(weight.shape(), t);
        dnnl_memory_desc b = bias == null ? null : Dnnl.desc(new long[] {cout}, DataType.FLOAT, new long[] {1});
        dnnl_memory_desc m = ep.multiplier() == null ? null
                : Dnnl.desc(nchwDims(ep.multiplier()), DataType.FLOAT, nchwStrides(ep.multiplier()));
        int n = 3 + (b == null ? 0 : 1) + (m == null ? 0 : 1);
        int[] args = new int[n];
        args[0] = DNNL_ARG_SRC;
        args[1] = DNNL_ARG_WEIGHTS;
        args[2] = DNNL_ARG_DST;
        int i = 3;
        if (b != null) args[i++] = DNNL_ARG_BIAS;
        int postIndex = (ep.scale() != 1f ? 1 : 0) + (ep.activation() != dnnl_alg_kind_undef ? 1 : 0)
                + (ep.accumulate() ? 1 : 0);
        if (m != null) args[i] = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (postIndex + 1) | DNNL_ARG_SRC_1;
        try {
            return Dnnl.build("convolution", attr -> {
                dnnl_primitive_desc pd = new dnnl_primitive_desc();
                Dnnl.check(dnnl_convolution_forward_primitive_desc_create(pd, Dnnl.engine(), dnnl_forward_inference,
                        dnnl_convolution_direct, s, w, b, d, new long[] {stride, stride}, new long[] {0, 0},
                        new long[] {pad, pad}, new long[] {pad, pad}, attr), "describe a convolution");
                return pd;
            }, attr -> Gemm.configure(attr, ep, m), args);
        } finally {
            dnnl_memory_desc_destroy(s);
            dnnl_memory_desc_destroy(d);
            dnnl_memory_desc_destroy(w);
            if (b != null) dnnl_memory_desc_destroy(b);
            if (m != null) dnnl_memory_desc_destroy(m);
        }
    }

    private synchronized INDArray packedFor(dnnl_memory_desc layout) {
        for (int i = 0; i < packs.size(); i++) {
            if (dnnl_memory_desc_equal(layouts.get(i), layout) == 1) return packs.get(i);
        }
        INDArray w = NN.contiguous(weight);
        dnnl_memory_desc from = Dnnl.desc(weight.shape(), weight.dataType(), w.stride());
        try {
            INDArray fresh = Dnnl.pack(w, from, layout);
            dnnl_memory_desc kept = new dnnl_memory_desc();
            Dnnl.check(dnnl_memory_desc_clone(kept, layout), "keep a weight layout");
            packs.add(fresh);
            layouts.add(kept);
            return fresh;
        } finally {
            dnnl_memory_desc_destroy(from);
        }
    }

    /** Frees the packed copies (they are made again on the next call). */
    public synchronized void release() {
        packs.forEach(Buffers::release); // pooled for the next layer of a streamed model, else freed
        layouts.forEach(org.bytedeco.dnnl.global.dnnl::dnnl_memory_desc_destroy);
        packs.clear();
        layouts.clear();
    }
}
