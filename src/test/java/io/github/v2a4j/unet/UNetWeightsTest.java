package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticWeights;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Config parsing, strict weight checking and shapes on a micro UNet with synthetic weights. */
class UNetWeightsTest {

    static UNetConfig micro() {
        return UNetConfig.fromJson(JsonParser.parseString("""
                {"in_channels": 4, "out_channels": 4, "block_out_channels": [16, 32],
                 "layers_per_block": 1, "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": 2,
                 "cross_attention_dim": 12, "norm_num_groups": 4, "video_embed_dim": 24, "text_embed_dim": 20,
                 "use_linear_projection": true, "sample_size": 64}
                """).getAsJsonObject());
    }

    static Map<String, INDArray> syntheticWeights(UNetConfig c) {
        SyntheticWeights w = new SyntheticWeights(7);
        Map<String, INDArray> out = new LinkedHashMap<>();
        UNet.parameterShapes(c).forEach((name, shape) -> out.put(name, w.tensor(name, shape)));
        return out;
    }

    @Test
    void configTakesOnlyTheKeysTheK4SubclassForwards() {
        UNetConfig c = micro();
        assertThat(c.attentionHeads()).containsExactly(2, 2);
        assertThat(c.crossAttentionDim()).isEqualTo(12);
        assertThat(c.timeEmbedDim()).isEqualTo(64);
        // use_linear_projection is dropped by the K4 subclass: proj_in stays a 1×1 conv
        assertThat(syntheticWeights(c).get("down_blocks.0.attentions.0.proj_in.weight").shape())
                .containsExactly(16, 16, 1, 1);
    }

    @Test
    void realSizeHasTheSpecsParameterCount() {
        // SD-1.5 859 520 964 + video 127 066 880 + text 50 343 936 = 1 036 931 780; counted on shapes only
        Map<String, long[]> shapes = UNet.parameterShapes(UNetConfig.k4());
        long total = 0;
        for (long[] s : shapes.values()) {
            long n = 1;
            for (long d : s) n *= d;
            total += n;
        }
        assertThat(total).isEqualTo(1_036_931_780L);
        assertThat(shapes).containsKey("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.video_k.weight");
        assertThat(shapes.get("up_blocks.3.attentions.2.transformer_blocks.0.attn2.processor.text_projection.weight"))
                .containsExactly(768, 4096);
    }

    @Test
    void verifyListsMissingMisShapedAndUnexpectedTensorsAtOnce() {
        UNetConfig c = micro();
        Map<String, INDArray> w = syntheticWeights(c);
        UNet.load(c, new MapSource(w));   // complete: no error

        w.remove("mid_block.resnets.1.conv2.bias");
        w.put("up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.video_k.weight", Nd4j.zeros(16, 25));
        w.put("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.extra.weight", Nd4j.zeros(3));
        assertThatThrownBy(() -> UNet.load(c, new MapSource(w)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("UNet weights in-memory tensors do not match the model:")
                .hasMessageContaining("1 missing (mid_block.resnets.1.conv2.bias [32]")
                .hasMessageContaining("up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.video_k.weight is [16, 25], expected [16, 24]")
                .hasMessageContaining("1 unexpected (down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.extra.weight");
    }

    @Test
    void forwardKeepsShapeAtOddSizesAndDoesNotTouchItsInputs() {
        UNetConfig c = micro();
        UNet unet = UNet.load(c, new MapSource(syntheticWeights(c)));
        INDArray sample = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 4, 5, 7);
        INDArray text = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 6, 20);
        INDArray video = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 24);
        INDArray before = sample.dup();
        Trace trace = Trace.all();
        INDArray eps = unet.forward(sample, 981, text, video, trace);
        assertThat(eps.shape()).containsExactly(2, 4, 5, 7);
        assertThat(sample).isEqualTo(before);
        assertThat(trace.recorded()).containsKeys("down_blocks.0.resnets.0.out",
                "down_blocks.0.attentions.0.transformer_blocks.0.attn1.out", "down_blocks.0.attentions.0.out.0",
                "up_blocks.0.upsamplers.0.out",
                "conv_out.out");
        assertThat(trace.recorded().get("up_blocks.0.upsamplers.0.out").shape()).containsExactly(2, 32, 5, 7);
    }
}
