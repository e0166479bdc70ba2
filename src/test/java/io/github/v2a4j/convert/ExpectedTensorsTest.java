package io.github.v2a4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The committed manifests against the spec's published sizes. */
class ExpectedTensorsTest {

    /** config.json values of the published models. */
    static final String COG = """
            {"hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_multi_query_heads": 8,
             "vocab_size": 128256, "vision_config": {"hidden_size": 1792, "intermediate_size": 15360,
             "in_channels": 3, "patch_size": 14, "num_positions": 257}}""";
    static final String UNET = """
            {"block_out_channels": [320, 640, 1280, 1280], "in_channels": 4, "out_channels": 4, "cross_attention_dim": 768}""";
    static final String VAE = """
            {"block_out_channels": [128, 256, 512, 512], "latent_channels": 4, "out_channels": 3, "layers_per_block": 2}""";

    static final Path CONFIG = Path.of("config.json");

    static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    static long params(ExpectedTensors ex, Map<String, Long> sym) {
        long total = 0;
        for (ExpectedTensors.Entry e : ex.entries()) {
            long[] s = ExpectedTensors.shape(e, sym);
            assertThat(s).as(e.name()).containsExactly(e.publishedShape());
            long n = 1;
            for (long d : s) n *= d;
            total += n;
        }
        return total;
    }

    @Test
    void cogvlmManifestHasThe1029RealTensors() {
        ExpectedTensors ex = ExpectedTensors.load(ExpectedTensors.COGVLM);
        Map<String, Long> sym = ConfigSymbols.cogvlm(json(COG), Path.of("config.json"));
        assertThat(sym).containsAllEntriesOf(ex.publishedSymbols());
        assertThat(ex.entries()).hasSize(1029);
        assertThat(ex.entries().stream().filter(e -> !e.keep()).map(ExpectedTensors.Entry::name))
                .hasSize(10).contains("lm_head.weight", "model.norm.weight", "model.layers.31.self_attn.rotary_emb.inv_freq");
        // 12 507 532 544 params × 2 bytes = the real index's total_size 25 015 065 088 (all bf16)
        assertThat(params(ex, sym)).isEqualTo(12_507_532_544L);
    }

    @Test
    void unetManifestMatchesSd15PlusK4Processors() {
        ExpectedTensors ex = ExpectedTensors.load(ExpectedTensors.UNET);
        Map<String, Long> sym = ConfigSymbols.unet(json(UNET), 4096, CONFIG);
        assertThat(sym).containsAllEntriesOf(ex.publishedSymbols());
        assertThat(params(ex, sym)).isEqualTo(1_036_931_780L); // SD-1.5 859 520 964 + video processors 127 066 880 + text projections 50 343 936
        // absent keys take the SD-1.5 values
        assertThat(ConfigSymbols.unet(json("{}"), 4096, CONFIG)).isEqualTo(sym);
    }

    @Test
    void vaeManifestIsTheDecoder() {
        ExpectedTensors ex = ExpectedTensors.load(ExpectedTensors.VAE);
        Map<String, Long> sym = ConfigSymbols.vae(json(VAE), CONFIG);
        assertThat(sym).containsAllEntriesOf(ex.publishedSymbols());
        assertThat(params(ex, sym)).isEqualTo(49_490_199L); // the decoder of diffusers' AutoencoderKL, incl. post_quant_conv
        assertThat(ex.dropPrefixes()).containsExactly("encoder.", "quant_conv.");
        assertThat(ModelConverter.vaeName("decoder.mid_block.attentions.0.proj_attn.weight"))
                .isEqualTo("decoder.mid_block.attentions.0.to_out.0.weight");
    }

    @Test
    void cogvlmAtFewerLayers() {
        JsonObject c = json(COG);
        c.addProperty("num_hidden_layers", 3);
        c.getAsJsonObject("vision_config").addProperty("num_hidden_layers", 2);
        Map<String, Long> sym = ConfigSymbols.cogvlm(c, CONFIG);
        ExpectedTensors ex = ExpectedTensors.cogvlm(sym);
        // per decoder layer 8 tensors, per vision layer 12, and 17 outside the layers (1029 = 32·8 + 63·12 + 17)
        assertThat(ex.entries()).hasSize(3 * 8 + 2 * 12 + 17);
        assertThat(ex.entries()).noneMatch(e -> e.name().startsWith("model.layers.3."))
                .noneMatch(e -> e.name().startsWith("model.vision.transformer.layers.2."));
        // the last decoder layer is dropped, as layer 31 of the published model (K4 reads the layer before it)
        assertThat(ex.entries().stream().filter(e -> !e.keep()).map(ExpectedTensors.Entry::name))
                .hasSize(10).contains("model.layers.2.input_layernorm.weight", "lm_head.weight", "model.norm.weight");
        assertThat(ex.entries()).filteredOn(e -> e.name().startsWith("model.layers.1.")).allMatch(ExpectedTensors.Entry::keep);
        // the published counts give the manifest itself
        assertThat(ExpectedTensors.cogvlm(ConfigSymbols.cogvlm(json(COG), CONFIG)).entries())
                .extracting(e -> e.name() + " " + e.keep())
                .isEqualTo(ExpectedTensors.load(ExpectedTensors.COGVLM).entries().stream()
                        .map(e -> e.name() + " " + e.keep()).toList());
    }

    @Test
    void cogvlmLayerCountsOutsideThePublishedRangeAreRefused() {
        JsonObject more = json(COG);
        more.addProperty("num_hidden_layers", 33);
        assertThatThrownBy(() -> ConfigSymbols.cogvlm(more, CONFIG)).isInstanceOf(ConvertException.class)
                .hasMessageContaining("config.json: num_hidden_layers is 33, the published model has 32");
        JsonObject one = json(COG);
        one.addProperty("num_hidden_layers", 1); // K4 reads the second-to-last layer: one layer leaves none to run
        assertThatThrownBy(() -> ConfigSymbols.cogvlm(one, CONFIG)).hasMessageContaining("num_hidden_layers is 1");
        JsonObject vision = json(COG);
        vision.getAsJsonObject("vision_config").addProperty("num_hidden_layers", 64);
        assertThatThrownBy(() -> ConfigSymbols.cogvlm(vision, CONFIG))
                .hasMessageContaining("num_hidden_layers is 64, the published model has 63");
    }

    @Test
    void expressions() {
        Map<String, Long> s = Map.of("a", 3L, "b", 5L);
        assertThat(ExpectedTensors.eval("a+b", s)).isEqualTo(8);
        assertThat(ExpectedTensors.eval("8*a", s)).isEqualTo(24);
        assertThat(ExpectedTensors.eval("2*a+b*b+1", s)).isEqualTo(32);
    }
}
