package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Trace;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The video-attention weights that {@code generate --attention-map} renders, against softmax(q·kᵀ/√d) computed
 * plainly in double from the reference's own {@code video_q} and {@code video_k} outputs (unet-tiny bundle) plus the
 * frame-position code, averaged over heads.
 */
class VideoAttentionWeightsTest {

    @Test
    void weightsAreTheHeadAveragedSoftmaxOfTheReferenceQueriesAndKeys() throws Exception {
        Path dir = io.github.v2a4j.golden.TestBundles.committed("unet-tiny");
        UNetConfig config = UNetConfig.read(dir.resolve("config.json"));
        Map<String, INDArray> weights = TestTensors.read(dir.resolve("weights.safetensors"));
        Map<String, INDArray> io = TestTensors.read(dir.resolve("io.safetensors"));
        Map<String, INDArray> acts = TestTensors.read(dir.resolve("activations.safetensors"));
        String layer = "down_blocks.0.attentions.0.transformer_blocks.0.attn1";
        Trace trace = Trace.matching(List.of(layer + ".processor.video_attention_weights.out"));
        UNet.load(config, new MapSource(weights)).forward(io.get("sample"), io.get("timestep").getFloat(0),
                io.get("encoder_hidden_states"), io.get("image_embeds"), trace);
        INDArray got = trace.recorded().get(layer + ".processor.video_attention_weights.out");

        INDArray q = acts.get(layer + ".processor.video_q.out");   // [B, HW, C]
        INDArray k = acts.get(layer + ".processor.video_k.out");   // [B, T, C], before the position code
        long b = q.size(0), hw = q.size(1), c = q.size(2), t = k.size(1);
        int heads = config.attentionHeads()[0];
        int d = (int) (c / heads);
        INDArray pos = VideoSelfAttention.framePositions((int) t, d, heads);
        assertThat(got.shape()).containsExactly(b, hw, t);
        double worst = 0;
        for (int bi = 0; bi < b; bi++)
            for (int i = 0; i < hw; i++) {
                double[] mean = new double[(int) t];
                for (int h = 0; h < heads; h++) {
                    double[] s = new double[(int) t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            int ch = h * d + e;
                            dot += q.getDouble(bi, i, ch) * (k.getDouble(bi, j, ch) + pos.getDouble(j, ch));
                        }
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j < t; j++) mean[j] += s[j] / sum / heads;
                }
                for (int j = 0; j < t; j++) worst = Math.max(worst, Math.abs(mean[j] - got.getDouble(bi, i, j)));
            }
        assertThat(worst).isLessThan(1e-5); // probabilities in [0,1]; fp32 q/k vs the reference's: rounding only
    }
}
