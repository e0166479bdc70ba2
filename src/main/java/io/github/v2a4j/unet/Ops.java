package io.github.v2a4j.unet;

import io.github.v2a4j.nn.NN;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * UNet-specific layer helpers on top of {@link io.github.v2a4j.nn.NN}: 1×1 convolutions as GEMMs that fuse the
 * NCHW ↔ token permutes of Transformer2DModel, and the per-channel timestep bias. All return new arrays and leave
 * their inputs alone unless named {@code ...InPlace}.
 */
final class Ops {
    private Ops() {}

    /**
     * {@code proj_in} then {@code permute(0,2,3,1).reshape(B, HW, C)}: x {@code [B,Ci,H,W]}, w {@code [Co,Ci,1,1]} →
     * tokens {@code [B,HW,Co]}. Per image one GEMM {@code Xᵀ·Wᵀ}, so the permute costs nothing.
     */
    static INDArray conv1x1ToTokens(INDArray x, INDArray w, INDArray b) {
        x = NN.contiguous(x);
        long batch = x.size(0), ci = x.size(1), hw = x.size(2) * x.size(3);
        long co = w.size(0);
        INDArray w2 = w.reshape('c', co, ci);
        INDArray x3 = x.reshape('c', batch, ci, hw);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, batch, hw, co);
        for (long i = 0; i < batch; i++) {
            Nd4j.gemm(x3.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()), w2,
                    out.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()), true, true, 1.0, 0.0);
        }
        if (b != null) out.reshape('c', batch * hw, co).addiRowVector(b);
        return out;
    }

    /**
     * The inverse permute then {@code proj_out}: tokens {@code [B,HW,Ci]}, w {@code [Co,Ci,1,1]} → {@code [B,Co,H,W]},
     * per image one GEMM {@code W·Tᵀ}.
     */
    static INDArray tokensToConv1x1(INDArray t, INDArray w, INDArray b, long h, long wd) {
        t = NN.contiguous(t);
        long batch = t.size(0), hw = t.size(1), ci = t.size(2);
        long co = w.size(0);
        INDArray w2 = w.reshape('c', co, ci);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, batch, co, h, wd);
        INDArray o3 = out.reshape('c', batch, co, hw);
        for (long i = 0; i < batch; i++) {
            INDArray oi = o3.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
            Nd4j.gemm(w2, t.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()), oi,
                    false, true, 1.0, 0.0);
            if (b != null) oi.addiColumnVector(b.reshape(co, 1));
        }
        return out;
    }

    /**
     * A 1×1 convolution NCHW → NCHW as one GEMM per image ({@code W·X}): oneDNN's 1×1 convolution is several times
     * slower than the GEMM on NCHW data.
     */
    static INDArray conv1x1(INDArray x, INDArray w, INDArray b) {
        x = NN.contiguous(x);
        long batch = x.size(0), ci = x.size(1), h = x.size(2), wd = x.size(3);
        long co = w.size(0);
        INDArray w2 = w.reshape('c', co, ci);
        INDArray x3 = x.reshape('c', batch, ci, h * wd);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, batch, co, h, wd);
        INDArray o3 = out.reshape('c', batch, co, h * wd);
        for (long i = 0; i < batch; i++) {
            INDArray oi = o3.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
            Nd4j.gemm(w2, x3.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()), oi,
                    false, false, 1.0, 0.0);
            if (b != null) oi.addiColumnVector(b.reshape(co, 1));
        }
        return out;
    }

    /**
     * Releases the native memory of dead temporaries now. ND4J frees an array's buffer only when the Java object is
     * garbage-collected, and the Java heap of a UNet run is tiny, so without this the dead activations of a forward
     * pile up (measured: 7.5 GB above the weights at real size) and every new one pays first-touch page faults.
     * A view is freed only when it covers its whole buffer (as the reshaped results of {@code NN.linear} and
     * {@code Attention.sdpa} do); partial views and nulls are skipped. Never pass a weight or an array someone
     * still uses.
     */
    static void free(INDArray... xs) {
        for (INDArray x : xs) {
            if (x == null) continue;
            DataBuffer d = x.data();
            if (d.wasClosed() || !d.closeable() || d.isConstant() || d.isAttached()) continue;
            if (x.isView() && !(x.offset() == 0 && x.length() == d.length())) continue;
            d.close();
        }
    }

    /** {@code h[b, c, :, :] += t[b, c]}: the time embedding added to every pixel of a channel. */
    static void addChannelBiasInPlace(INDArray h, INDArray t) {
        long rows = h.size(0) * h.size(1);
        h.reshape('c', rows, h.length() / rows).addiColumnVector(t.reshape('c', rows, 1));
    }
}
