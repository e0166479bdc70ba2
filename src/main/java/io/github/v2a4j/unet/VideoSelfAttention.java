package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.NN;
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
    private final INDArray toQ, toK, toV, toOutW, toOutB;
    private final INDArray videoQW, videoQB, videoKW, videoKB, videoVW, videoVB, videoOutW, videoOutB;

    VideoSelfAttention(Params p, String path, int channels, int heads, int videoDim) {
        this.path = path;
        this.heads = heads;
        if (channels % heads != 0) {
            throw new IllegalArgumentException(path + ": " + channels + " channels not divisible by " + heads + " heads");
        }
        toQ = p.get("to_q.weight", channels, channels);
        toK = p.get("to_k.weight", channels, channels);
        toV = p.get("to_v.weight", channels, channels);
        toOutW = p.get("to_out.0.weight", channels, channels);
        toOutB = p.get("to_out.0.bias", channels);
        Params v = p.at("processor");
        videoQW = v.get("video_q.weight", channels, channels);
        videoQB = v.get("video_q.bias", channels);
        videoKW = v.get("video_k.weight", channels, videoDim);
        videoKB = v.get("video_k.bias", channels);
        videoVW = v.get("video_v.weight", channels, videoDim);
        videoVB = v.get("video_v.bias", channels);
        videoOutW = v.get("video_out.weight", channels, channels);
        videoOutB = v.get("video_out.bias", channels);
    }

    /** n = LN1(x) {@code [B,HW,C]} (not modified) → {@code [B,HW,C]}. */
    INDArray forward(INDArray n, Conditioning cond, Trace trace) {
        INDArray q = NN.linear(n, toQ, null);
        INDArray k = NN.linear(n, toK, null);
        INDArray v = NN.linear(n, toV, null);
        INDArray o = Attention.sdpa(q, k, v, heads, heads, false);
        Ops.free(q, k, v);
        INDArray h1 = NN.linear(o, toOutW, toOutB);
        Ops.free(o);
        trace.record(path + ".to_out.0.out", h1);

        INDArray vq = NN.linear(h1, videoQW, videoQB);
        INDArray[] kv = cond.keysValues(path, () -> videoKeysValues(cond.video));
        String probs = path + ".processor.video_attention_weights.out";
        if (trace.wants(probs)) trace.record(probs, videoAttentionProbs(vq, kv[0]));
        INDArray ov = Attention.sdpa(vq, kv[0], kv[1], heads, heads, false);
        Ops.free(vq);
        INDArray out = NN.linear(ov, videoOutW, videoOutB);
        Ops.free(ov);
        trace.record(path + ".processor.video_out.out", out);
        // hidden_states + video_out(...): same sum either way round
        out.addi(h1);
        Ops.free(h1);
        trace.record(path + ".out", out);
        return out;
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
        INDArray k = NN.linear(video, videoKW, videoKB);
        INDArray v = NN.linear(video, videoVW, videoVB);
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
