package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code attn1} with K4's VideoAttnProcessor2_0: standard self-attention {@code h1} over the tokens,
 * then a second attention whose query is {@code video_q(h1)} (the self-attention OUTPUT, not the normed input) and
 * whose keys/values are the projected video frames plus a sinusoidal frame-position embedding; returns
 * {@code h1 + video_out(o)} (the block adds the residual).
 */
final class VideoSelfAttention {
    final String path;
    private final int heads;
    private final Precision precision;
    private final Linear toQ, toK, toV, toOut, videoQ, videoK, videoV, videoOut;

    VideoSelfAttention(Binder p, int channels, int heads, int videoDim) {
        this.path = p.path();
        this.heads = heads;
        this.precision = p.precision();
        if (channels % heads != 0) {
            throw new IllegalArgumentException(path + ": " + channels + " channels not divisible by " + heads + " heads");
        }
        toQ = p.dense("to_q", channels, channels, false);
        toK = p.dense("to_k", channels, channels, false);
        toV = p.dense("to_v", channels, channels, false);
        toOut = p.dense("to_out.0", channels, channels, true);
        Binder v = p.at("processor");
        videoQ = v.dense("video_q", channels, channels, true);
        videoK = v.dense("video_k", channels, videoDim, true);
        videoV = v.dense("video_v", channels, videoDim, true);
        videoOut = v.dense("video_out", channels, channels, true);
    }

    /** n = LN1(x) {@code [B,HW,C]} (not modified); adds the branch output to {@code residual}. */
    void forward(INDArray n, Conditioning cond, INDArray residual, Trace trace) {
        INDArray q = toQ.apply(n);
        INDArray k = toK.apply(n);
        INDArray v = toV.apply(n);
        INDArray o = Attention.sdpa(q, k, v, heads, heads, false, precision);
        Buffers.release(q, k, v);
        INDArray h1 = toOut.apply(o);
        Buffers.release(o);
        trace.record(path + ".to_out.0.out", h1);

        INDArray vq = videoQ.apply(h1);
        INDArray[] kv = cond.keysValues(path, () -> videoKeysValues(cond.video));
        String probs = path + ".processor.video_attention_weights.out";
        if (trace.wants(probs)) trace.record(probs, videoAttentionProbs(vq, kv[0]));
        INDArray ov = Attention.sdpa(vq, kv[0], kv[1], heads, heads, false, precision);
        Buffers.release(vq);
        INDArray out = videoOut.apply(ov);
        Buffers.release(ov);
        trace.record(path + ".processor.video_out.out", out);
        // hidden_states + video_out(...): same sum either way round
        out.addi(h1);
        Buffers.release(h1);
        trace.record(path + ".out", out);
        residual.addi(out);
        Buffers.release(out);
    }

    /**
     * The video attention's weights averaged over heads, {@code [B, HW, T]}: how much each latent position (frequency
     * row × time column) draws on each frame. Only computed when a trace asks for it (inspection, heatmaps); the
     * forward pass itself never materialises them.
     */
    private INDArray videoAttentionProbs(INDArray vq, INDArray videoK) {
        long b = vq.size(0), hw = vq.size(1), c = vq.size(2), t = videoK.size(1);
        long d = c / heads;
        INDArray q = vq.reshape('c', b, hw, heads, d).permute(0, 2, 1, 3).dup('c');
        INDArray k = videoK.reshape('c', b, t, heads, d).permute(0, 2, 1, 3).dup('c');
        INDArray scores = Nd4j.matmul(q, k, null, false, true, false).muli(1.0 / Math.sqrt(d)); // [B, H, HW, T]
        Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax(scores, scores, 3));
        return scores.mean(1);
    }

    /** video_k / video_v of the frame embeddings {@code [B,T,videoDim]}, each plus the position embedding per head. */
    private INDArray[] videoKeysValues(INDArray video) {
        INDArray k = videoK.apply(video);
        INDArray v = videoV.apply(video);
        long b = k.size(0), t = k.size(1), c = k.size(2);
        INDArray pos = framePositions((int) t, (int) (c / heads), heads);
        k.reshape('c', b, t * c).addiRowVector(pos.reshape('c', 1, t * c));
        v.reshape('c', b, t * c).addiRowVector(pos.reshape('c', 1, t * c));
        return new INDArray[]{k, v};
    }

    /**
     * K4's get_posemb(arange(T), d) repeated for every head: {@code [T, heads·d]} with
     * {@code P[p, j] = sin(p·w_j)}, {@code P[p, d/2 + j] = cos(p·w_j)}, {@code w_j = exp(−j·ln(10000)/(d/2 − 1))}
     * (note d/2 − 1, unlike the timestep embedding), in fp32 as torch computes it.
     */
    static INDArray framePositions(int frames, int d, int heads) {
        int half = d / 2;
        if (half < 2) throw new IllegalArgumentException("video attention head dim " + d + " is too small");
        float negStep = (float) -(Math.log(10000) / (half - 1));
        float[] w = new float[half];
        for (int j = 0; j < half; j++) w[j] = (float) Math.exp((float) j * negStep);
        float[] p = new float[frames * heads * d];
        for (int f = 0; f < frames; f++) {
            for (int j = 0; j < half; j++) {
                float arg = (float) f * w[j];
                float s = (float) Math.sin(arg), co = (float) Math.cos(arg);
                for (int h = 0; h < heads; h++) {
                    int base = (f * heads + h) * d;
                    p[base + j] = s;
                    p[base + half + j] = co;
                }
            }
        }
        return Nd4j.create(p, new long[]{frames, (long) heads * d}, 'c');
    }
}
