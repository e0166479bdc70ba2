package io.github.v2a4j.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.cogvlm.LlamaTokenizer;
import io.github.v2a4j.convert.ConfigSymbols;
import io.github.v2a4j.convert.ExpectedTensors;
import io.github.v2a4j.convert.ModelConverter;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsFile;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.GenerationResult;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Synthetic checkpoints in the published folder layouts go through {@code convert} and open as a pipeline that
 * generates: the converter's manifests, the models' own checks and the pipeline agree on every tensor.
 */
class UpstreamCheckpointsTest {

    @TempDir
    Path tmp;

    @Test
    void vaeEncoderHasDiffusersNamesAndCounts() {
        Map<String, long[]> enc = UpstreamCheckpoints.vaeEncoderShapes(JsonParser.parseString("""
                {"block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "in_channels": 3,
                 "latent_channels": 4}""").getAsJsonObject());
        // diffusers 0.31 AutoencoderKL at the SD-1.x config, run in the reference environment: 108 tensors of
        // encoder.* and quant_conv.*, 34 163 664 parameters (83 653 863 in all, 49 490 199 of them the decoder's)
        assertThat(enc).hasSize(108);
        long params = 0;
        for (long[] s : enc.values()) {
            long n = 1;
            for (long d : s) n *= d;
            params += n;
        }
        assertThat(params).isEqualTo(34_163_664L);
        assertThat(enc.get("encoder.down_blocks.1.resnets.0.conv_shortcut.weight")).containsExactly(256, 128, 1, 1);
        assertThat(enc.get("encoder.down_blocks.2.downsamplers.0.conv.weight")).containsExactly(512, 512, 3, 3);
        assertThat(enc.get("encoder.conv_out.weight")).containsExactly(8, 512, 3, 3);
        assertThat(enc.get("quant_conv.weight")).containsExactly(8, 8, 1, 1);
    }

    /** Data bytes of each CogVLM2 shard at a shape, from the shard plan alone (nothing written). */
    static long[] shardBytes(List<Map<String, long[]>> shards) {
        long[] b = new long[shards.size()];
        for (int i = 0; i < b.length; i++) {
            for (long[] s : shards.get(i).values()) {
                long n = 2;
                for (long d : s) n *= d;
                b[i] += n;
            }
        }
        return b;
    }

    static List<Map<String, long[]>> shards(UpstreamCheckpoints.Shape shape) {
        JsonObject c = UpstreamCheckpoints.cogvlmConfig(shape);
        Map<String, Long> symbols = ConfigSymbols.cogvlm(c, Path.of("config.json"));
        return UpstreamCheckpoints.cogvlmShards(ExpectedTensors.cogvlm(symbols).shapes(symbols));
    }

    @Test
    void publishedCogvlmLayout() {
        var shape = UpstreamCheckpoints.Shape.all(UpstreamCheckpoints.Scale.REAL);
        JsonObject c = UpstreamCheckpoints.cogvlmConfig(shape);
        assertThat(c.get("num_hidden_layers").getAsInt()).isEqualTo(32);
        assertThat(c.getAsJsonObject("vision_config").get("num_hidden_layers").getAsInt()).isEqualTo(63);
        assertThat(c.get("bos_token_id").getAsInt()).isEqualTo(128000);
        assertThat(c.get("torch_dtype").getAsString()).isEqualTo("bfloat16");

        List<Map<String, long[]>> shards = shards(shape);
        // the published index: 1029 tensors in six shards of 74, 91, 89, 438, 336 and 1 (lm_head alone),
        // metadata.total_size 25 015 065 088; save_pretrained's shards stay under its 5 GB max_shard_size
        assertThat(shards).extracting(Map::size).containsExactly(74, 91, 89, 438, 336, 1);
        assertThat(shards.get(5)).containsOnlyKeys("lm_head.weight");
        assertThat(shards.get(0)).containsKeys("model.embed_tokens.weight", "model.layers.8.mlp.language_mlp.down_proj.weight");
        assertThat(shards.get(3)).containsKeys("model.vision.boi", "model.vision.patch_embedding.proj.weight");
        long[] bytes = shardBytes(shards);
        assertThat(LongStream.of(bytes).sum()).isEqualTo(25_015_065_088L);
        assertThat(LongStream.of(bytes).max().orElseThrow()).isLessThanOrEqualTo(5_000_000_000L);
        // + K4: the UNet's 1 036 931 780 and the VAE's 83 653 863 parameters in F32
        assertThat(UpstreamCheckpoints.dataBytes(shape)).isEqualTo(25_015_065_088L + 4 * (1_036_931_780L + 83_653_863L));
    }

    @Test
    void fewerLayersKeepEachTensorInItsPublishedShard() {
        List<Map<String, long[]>> shards = shards(new UpstreamCheckpoints.Shape(UpstreamCheckpoints.Scale.REAL, 1, 1));
        assertThat(shards.get(0)).containsKeys("model.embed_tokens.weight", "model.layers.1.input_layernorm.weight")
                .doesNotContainKey("model.layers.2.input_layernorm.weight");
        assertThat(shards.get(1)).isEmpty();
        assertThat(shards.get(2)).isEmpty();
        assertThat(shards.get(3)).containsKeys("model.norm.weight", "model.vision.transformer.layers.0.mlp.fc1.weight")
                .doesNotContainKey("model.vision.transformer.layers.1.mlp.fc1.weight");
        assertThat(shards.get(5)).containsOnlyKeys("lm_head.weight");
        JsonObject c = UpstreamCheckpoints.cogvlmConfig(new UpstreamCheckpoints.Shape(UpstreamCheckpoints.Scale.REAL, 1, 1));
        assertThat(c.get("num_hidden_layers").getAsInt()).isEqualTo(2); // one runs, the last is K4's unused one
        assertThat(c.getAsJsonObject("vision_config").get("num_hidden_layers").getAsInt()).isEqualTo(1);
    }

    @Test
    void realScaleTokenizerKeepsLlama3SpecialIds() throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), UpstreamCheckpoints.tokenizerJson(UpstreamCheckpoints.Scale.REAL));
        try (LlamaTokenizer t = LlamaTokenizer.load(tmp)) {
            assertThat(t.encode("ab<|eot_id|>")).containsExactly('a', 'b', 128009);
            assertThat(t.encode("<|reserved_special_token_0|>")).containsExactly(LlamaTokenizer.VISION_SLOT);
            assertThat(t.decode(new int[] {LlamaTokenizer.BOS, 'x', 128255}))
                    .isEqualTo("<|begin_of_text|>x<|reserved_special_token_250|>");
        }
    }

    @Test
    void tinyUpstreamFoldersConvertOpenAndGenerate() throws Exception {
        Path k4 = tmp.resolve("kandinsky-4-v2a");
        Path cog = tmp.resolve("cogvlm2-video-llama3-chat");
        UpstreamCheckpoints.writeTiny(k4, cog, 3);
        for (String f : new String[] {"unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json"}) {
            assertThat(k4.resolve(f)).as(f).isRegularFile();
        }
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json",
                "model.safetensors.index.json", "model-00001-of-00006.safetensors", "model-00006-of-00006.safetensors"}) {
            assertThat(cog.resolve(f)).as(f).isRegularFile();
        }
        try (Safetensors all = Safetensors.open(cog.resolve("model.safetensors.index.json"));
             SafetensorsFile last = SafetensorsFile.open(cog.resolve("model-00006-of-00006.safetensors"));
             SafetensorsFile vae = SafetensorsFile.open(k4.resolve("vae/diffusion_pytorch_model.safetensors"))) {
            assertThat(all.names()).hasSize(1029);
            assertThat(all.info("model.layers.0.mlp.language_mlp.up_proj.weight").dtype()).isEqualTo("BF16");
            assertThat(last.names()).containsExactly("lm_head.weight");
            // at tiny widths every tensor still lies in its published shard
            assertThat(shards(UpstreamCheckpoints.Shape.all(UpstreamCheckpoints.Scale.TINY))).extracting(Map::size)
                    .containsExactly(74, 91, 89, 438, 336, 1);
            assertThat(vae.names()).contains("encoder.conv_in.weight", "quant_conv.bias", "decoder.conv_out.weight");
        }

        Path model = tmp.resolve("model");
        var results = ModelConverter.convert(new ModelConverter.Options(k4, cog, model, ModelConverter.OutDtype.F32),
                new PrintStream(new ByteArrayOutputStream()));
        assertThat(results).extracting(ModelConverter.ComponentResult::written).containsExactly(846, 140, 1019);
        assertThat(ModelConverter.verify(model)).isEqualTo(9);

        try (Video2AudioPipeline pipeline = Video2AudioPipeline.open(model)) {
            INDArray clip = Nd4j.rand(DataType.FLOAT, 3, 2, 24, 32).muli(255).castTo(DataType.UINT8);
            GenerationResult r = pipeline.generate(clip, 1, GenerationOptions.defaults().withSteps(2),
                    PipelineListener.NONE, () -> false, Trace.OFF);
            System.out.println("tiny upstream generation: " + r.timings());
            assertThat(r.spectrogram().getHeight()).isEqualTo(512);
            assertThat(r.spectrogram().getWidth()).isEqualTo(Video2AudioPipeline.spectrogramWidth(1));
            assertThat(r.waveform()).isNotEmpty();
            for (float v : r.waveform()) assertThat(Float.isFinite(v)).isTrue();
            assertThat(r.pcm()).isNotEmpty();
        }
    }
}
