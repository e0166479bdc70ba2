package io.github.v2a4j.nn;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_memory_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A linear layer {@code y = x·Wᵀ + b} (PyTorch {@code nn.Linear}, weight {@code [out, in]}) on oneDNN.
 *
 * <p>The weight is packed once, on first use, into the blocked layout the GEMM kernel reads fastest, in the operand
 * type of the layer's {@link Precision}; the checkpoint tensor (fp32 or bf16, usually memory-mapped) is only read
 * then. In bf16 the input rows are rounded to bf16 right before the product; accumulation and output stay fp32.
 */
public final class Linear {
    private final String name;
    private final INDArray weight;
    private final INDArray bias;
    private final Precision precision;
    private final long in;
    private final long out;
    private final java.util.List<INDArray> packs = new java.util.ArrayList<>(2);
    private final java.util.List<dnnl_memory_desc> layouts = new java.util.ArrayList<>(2);

    /**
     * @param name   the weight's upstream name (for errors)
     * @param weight {@code [out, in]}, fp32 or bf16, not modified
     * @param bias   {@code [out]} fp32, or null
     */
    public Linear(String name, INDArray weight, INDArray bias, Precision precision) {
        if (weight.rank() != 2) throw new IllegalArgumentException(name + ": a linear weight is [out, in], got "
                + java.util.Arrays.toString(weight.shape()));
        this.name = name;
        this.weight = weight;
        this.bias = bias == null ? null : NN.contiguous(bias.dataType() == DataType.FLOAT ? bias : bias.castTo(DataType.FLOAT));
        this.precision = precision;
        this.out = weight.size(0);
        this.in = weight.size(1);
    }

    public long in() {
        return in;
    }

    public long out() {
        return out;
    }

    public Precision precision() {
        return precision;
    }

    /** The checkpoint weight {@code [out, in]} (read-only). */
    public INDArray weight() {
        return weight;
    }

    /** The bias, or null. */
    public INDArray bias() {
        return bias;
    }

    /**
     * The layer made of output rows {@code from..to} of this one (a view of the weight and bias, packed on its own
     * first use): GEGLU's two halves from one checkpoint tensor.
     */
    public Linear rows(long from, long to) {
        INDArray w = weight.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray b = bias == null ? null : bias.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to));
        return new Linear(name + "[" + from + ":" + to + "]", w, b, precision);
    }

    /** {@code x [..., in]} → a new {@code [..., out]} fp32 array. */
    public INDArray apply(INDArray x) {
        long[] shape = x.shape().clone();
        shape[shape.length - 1] = out;
        INDArray y = Buffers.take(shape);
        apply(x, y, Gemm.Epilogue.NONE);
        return y;
    }

    /** Writes {@code epilogue(x·Wᵀ + b)} into {@code y [..., out]} (dense). */
    public void apply(INDArray x, INDArray y, Gemm.Epilogue epilogue) {
        if (x.size(x.rank() - 1) != in || y.size(y.rank() - 1) != out || x.length() / in != y.length() / out) {
            throw new IllegalArgumentException(name + ": input " + java.util.Arrays.toString(x.shape()) + " / output "
                    + java.util.Arrays.toString(y.shape()) + " do not fit a [" + out + ", " + in + "] weight");
        }
        long rows = x.length() / in;
        INDArray x2 = NN.contiguous(x).reshape('c', rows, in);
        INDArray y2 = y.reshape('c', rows, out);
        INDArray operand = x2;
        boolean rounded = precision == Precision.BF16 && x2.dataType() != DataType.BFLOAT16;
        if (rounded) {
            operand = Buffers.take(DataType.BFLOAT16, rows, in);
            Dnnl.reorder(x2, operand);
        }
        Gemm.Epilogue ep = epilogue;
        if (ep.multiplier() != null) ep = ep.times(ep.multiplier().reshape('c', rows, out));
        try {
            run(operand, y2, ep);
        } finally {
            if (rounded) Buffers.release(operand);
        }
    }

    private void run(INDArray src, INDArray dst, Gemm.Epilogue ep) {
        DataType t = precision.operands();
        long[] biasDims = bias == null ? null : new long[] {1, out};
        // the primitive depends on shapes and types only: every layer of this shape shares it
        String key = Dnnl.key("linear", t, in, out, bias != null, src.shape(), src.stride(), dst.stride(), ep.key());
        Dnnl.Prim p = Dnnl.cached(key, () -> {
            dnnl_memory_desc srcMd = Dnnl.desc(src);
            dnnl_memory_desc any = Dnnl.anyLayout(new long[] {in, out}, t);
            try {
                return Gemm.build(srcMd, any, dst, biasDims, ep);
            } finally {
                dnnl_memory_desc_destroy(srcMd);
                dnnl_memory_desc_destroy(any);
            }
        });
        Gemm.run(p, src, packedFor(p.queryArg(DNNL_ARG_WEIGHTS)), dst, bias, ep);
    }

    /**
     * The weight in {@code layout}, packed on first request. A layer sees one or two row counts (batch 1 and 2, or
     * the prompt and video passes), and the kernels almost always want the same blocking for all of them; a second
     * layout gets its own copy.
     */
    private synchronized INDArray packedFor(dnnl_memory_desc layout) {
        for (int i = 0; i < packs.size(); i++) {
            if (dnnl_memory_desc_equal(layouts.get(i), layout) == 1) return packs.get(i);
        }
        // the checkpoint's [out, in] read as the GEMM's [in, out]: a transposed view, no copy
        dnnl_memory_desc from = Dnnl.desc(new long[] {in, out}, weight.dataType(), new long[] {1, in});
        try {
            INDArray fresh = Dnnl.pack(NN.contiguous(weight), from, layout);
            dnnl_memory_desc kept = new dnnl_memory_desc();
            Dnnl.check(dnnl_memory_desc_clone(kept, layout), "keep a weight layout");
            packs.add(fresh);
            layouts.add(kept);
            return fresh;
        } finally {
            dnnl_memory_desc_destroy(from);
        }
    }

    /** Bytes held by the packed weight (0 before the first call). */
    public synchronized long packedBytes() {
        long n = 0;
        for (INDArray p : packs) n += p.length();
        return n;
    }

    /** Frees the packed copies (they are made again on the next call). */
    public synchronized void release() {
        packs.forEach(Buffers::release); // pooled for the next layer of a streamed model, else freed
        layouts.forEach(org.bytedeco.dnnl.global.dnnl::dnnl_memory_desc_destroy);
        packs.clear();
        layouts.clear();
    }
}
