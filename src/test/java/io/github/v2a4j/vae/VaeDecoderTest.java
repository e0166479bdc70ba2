package io.github.v2a4j.vae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticWeights;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Structure and weight-loading checks on a tiny synthetic decoder (numerics are checked by the golden test). */
class VaeDecoderTest {

    static final VaeConfig TINY = new VaeConfig(4, 3, new int[] {8, 16}, 1, 4, 0.18215, null,
            List.of("UpDecoderBlock2D", "UpDecoderBlock2D"), "silu", true, true);

    /** Synthetic weights of the tiny decoder's layout. */
    static Map<String, INDArray> weights(long seed) {
        SyntheticWeights w = new SyntheticWeights(seed);
        Map<String, INDArray> out = new LinkedHashMap<>();
        VaeDecoder.parameterShapes(TINY).forEach((name, shape) -> out.put(name, w.tensor(name, shape)));
        return out;
    }

    private static INDArray latents() {
        Nd4j.getRandom().setSeed(3);
        return Nd4j.randn(DataType.FLOAT, 1, 4, 3, 5);
    }

    @Test
    void decodesToEightTimesTheLatentSizeWithoutTouchingTheInput() {
        VaeDecoder vae = new VaeDecoder(TINY, new MapSource(weights(1)));
        INDArray z = latents();
        INDArray before = z.dup();
        Trace trace = Trace.all();
        INDArray image = vae.decode(z, trace);
        assertThat(image.shape()).containsExactly(1, 3, 6, 10);
        assertThat(z).isEqualTo(before);
        assertThat(trace.recorded().keySet()).contains("post_quant_conv.out", "decoder.mid_block.attentions.0.out",
                "decoder.up_blocks.0.resnets.1.out", "decoder.up_blocks.0.upsamplers.0.out", "decoder.conv_out.out");
        assertThat(trace.recorded().get("decoder.out")).isEqualTo(image);
    }

    @Test
    void legacyAttentionNamesAndConvStyleWeightsGiveTheSameImage() {
        Map<String, INDArray> current = weights(2);
        Map<String, INDArray> legacy = new LinkedHashMap<>();
        String a = "decoder.mid_block.attentions.0.";
        Map<String, String> rename = Map.of("to_q", "query", "to_k", "key", "to_v", "value", "to_out.0", "proj_attn");
        current.forEach((name, t) -> {
            for (Map.Entry<String, String> r : rename.entrySet()) {
                if (name.startsWith(a + r.getKey() + ".")) {
                    String leaf = name.substring((a + r.getKey() + ".").length());
                    INDArray legacyT = leaf.equals("weight") ? t.reshape(t.size(0), t.size(1), 1, 1) : t;
                    legacy.put(a + r.getValue() + "." + leaf, legacyT);
                    return;
                }
            }
            legacy.put(name, t);
        });
        assertThat(legacy).containsKey(a + "proj_attn.weight").doesNotContainKey(a + "to_q.weight");
        INDArray want = new VaeDecoder(TINY, new MapSource(current)).decode(latents(), Trace.OFF);
        INDArray got = new VaeDecoder(TINY, new MapSource(legacy)).decode(latents(), Trace.OFF);
        assertThat(got).isEqualTo(want);
    }

    @Test
    void ignoresEncoderTensorsOfAFullAutoencoderFile() {
        Map<String, INDArray> w = new LinkedHashMap<>(weights(4));
        w.put("encoder.conv_in.weight", Nd4j.zeros(DataType.FLOAT, 8, 3, 3, 3));
        w.put("quant_conv.weight", Nd4j.zeros(DataType.FLOAT, 8, 8, 1, 1));
        new VaeDecoder(TINY, new MapSource(w));
    }

    @Test
    void reportsEveryMissingMisShapedAndUnexpectedDecoderTensorInOneError() {
        Map<String, INDArray> w = new LinkedHashMap<>(weights(5));
        w.remove("decoder.conv_in.bias");
        w.remove("decoder.up_blocks.1.resnets.0.conv_shortcut.weight");
        w.put("decoder.conv_out.weight", Nd4j.zeros(DataType.FLOAT, 3, 8, 1, 1));
        w.put("decoder.up_blocks.0.attentions.0.to_q.weight", Nd4j.zeros(DataType.FLOAT, 2, 2));
        assertThatThrownBy(() -> new VaeDecoder(TINY, new MapSource(w)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 missing")
                .hasMessageContaining("decoder.conv_in.bias [16]")
                .hasMessageContaining("decoder.up_blocks.1.resnets.0.conv_shortcut.weight [8, 16, 1, 1]")
                .hasMessageContaining("decoder.conv_out.weight is [3, 8, 1, 1], expected [3, 8, 3, 3]")
                .hasMessageContaining("1 unexpected (decoder.up_blocks.0.attentions.0.to_q.weight)");
    }

    @Test
    void rejectsLegacyAndCurrentNamesOfTheSameTensor() {
        Map<String, INDArray> w = new LinkedHashMap<>(weights(6));
        w.put("decoder.mid_block.attentions.0.query.bias", Nd4j.zeros(DataType.FLOAT, 16));
        assertThatThrownBy(() -> new VaeDecoder(TINY, new MapSource(w)))
                .hasMessageContaining("both decoder.mid_block.attentions.0.query.bias and decoder.mid_block.attentions.0.to_q.bias");
    }

    @Test
    void readsDiffusersConfig() {
        VaeConfig c = VaeConfig.parse("""
                {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
                 "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
                 "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
                 "out_channels": 3, "sample_size": 512, "scaling_factor": 0.18215,
                 "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}""");
        assertThat(c.blockOutChannels()).containsExactly(128, 256, 512, 512);
        assertThat(c.layersPerBlock()).isEqualTo(2);
        assertThat(c.scalingFactor()).isEqualTo(0.18215);
        assertThat(c.midBlockAddAttention()).isTrue();
        assertThat(c.usePostQuantConv()).isTrue();
        assertThat(c.scaleFactor()).isEqualTo(8);
        long params = 0;
        for (long[] s : VaeDecoder.parameterShapes(c).values()) {
            long n = 1;
            for (long d : s) n *= d;
            params += n;
        }
        assertThat(params).isEqualTo(49_490_199L); // the published SD-1.x VAE decoder with post_quant_conv
    }
}
