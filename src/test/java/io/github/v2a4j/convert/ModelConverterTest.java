package io.github.v2a4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsFile;
import io.github.v2a4j.io.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The converter on synthetic checkpoints with the real tensor names and sharding at tiny sizes. Shapes are checked
 * against the manifests' symbolic dims evaluated from each tiny config.json (the manifests' published numeric shapes
 * are tested separately in {@link ExpectedTensorsTest}).
 */
class ModelConverterTest {

    @TempDir
    Path tmp;

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    Path k4() throws IOException {
        Path k = tmp.resolve("k4");
        TinyCheckpoints.kandinsky(k, false);
        return k;
    }

    Path cog() throws IOException {
        Path c = tmp.resolve("cog");
        TinyCheckpoints.cogvlm(c);
        return c;
    }

    /** All tensors of a converted component: name → (dtype, shape, values as float). */
    static Map<String, Object[]> readAll(Path dir) throws IOException {
        Map<String, Object[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                try (SafetensorsFile st = SafetensorsFile.open(f)) {
                    for (String n : st.names()) {
                        TensorInfo t = st.info(n);
                        out.put(n, new Object[] {t.dtype(), t.shape(), st.getFloat(n)});
                    }
                }
            }
        }
        return out;
    }

    List<String> siblings() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void convertsChecksDropsAndVerifies() throws Exception {
        Path k4 = k4();
        Path cog = cog();
        Path out = tmp.resolve("model");
        // left over by a killed run (PID above Linux's pid_max limit of 2^22, so never alive)
        Path stale = Files.createDirectories(tmp.resolve(".model.partial-999999999/unet"));
        Files.writeString(stale.resolve("half.safetensors"), "x");
        // small shards so that every component is split and gets an index
        var res = ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32, 40_000), QUIET);
        assertThat(res).extracting(ModelConverter.ComponentResult::name).containsExactly("unet", "vae", "cogvlm");
        assertThat(res).extracting(ModelConverter.ComponentResult::written).containsExactly(846, 140, 1019);
        assertThat(res).extracting(ModelConverter.ComponentResult::dropped).containsExactly(0, 4, 10);

        for (String f : List.of("unet/config.json", "vae/config.json", "scheduler/scheduler_config.json",
                "cogvlm/config.json", "cogvlm/tokenizer.json", "cogvlm/tokenizer_config.json", "manifest.json",
                "cogvlm/model.safetensors.index.json", "unet/model.safetensors.index.json")) {
            assertThat(out.resolve(f)).as(f).isRegularFile();
        }
        assertThat(Files.readString(out.resolve("cogvlm/config.json"))).isEqualTo(TinyCheckpoints.COG_CONFIG);

        Map<String, Object[]> cogT = readAll(out.resolve("cogvlm"));
        assertThat(cogT).hasSize(1019)
                .doesNotContainKeys("lm_head.weight", "model.norm.weight", "model.layers.31.input_layernorm.weight",
                        "model.layers.31.mlp.language_mlp.down_proj.weight")
                .containsKeys("model.layers.30.mlp.language_mlp.down_proj.weight",
                        "model.vision.transformer.layers.31.mlp.fc1.weight", "model.vision.boi");
        assertThat(cogT.keySet().stream().filter(n -> n.startsWith("model.layers.31."))).isEmpty();
        Map<String, Object[]> vaeT = readAll(out.resolve("vae"));
        assertThat(vaeT).hasSize(140).containsKey("post_quant_conv.weight");
        assertThat(vaeT.keySet().stream().filter(n -> n.startsWith("encoder.") || n.startsWith("quant_conv."))).isEmpty();
        Map<String, Object[]> unetT = readAll(out.resolve("unet"));
        assertThat(unetT).hasSize(846);

        // values: bf16 / f16 / f32 sources all become exact f32 copies; shapes kept
        List<TinyCheckpoints.T> expected = new ArrayList<>();
        expected.addAll(TinyCheckpoints.tensors(ExpectedTensors.load(ExpectedTensors.COGVLM),
                ConfigSymbols.cogvlm(TinyCheckpoints.GSON.fromJson(TinyCheckpoints.COG_CONFIG, JsonObject.class), cog),
                "BF16", 0));
        int checked = 0;
        for (TinyCheckpoints.T t : expected) {
            Object[] got = cogT.get(t.name());
            if (got == null) continue;
            assertThat(got[0]).isEqualTo("F32");
            assertThat((long[]) got[1]).containsExactly(t.shape());
            float[] v = (float[]) got[2];
            for (int k = 0; k < v.length; k++) assertThat(v[k]).isEqualTo(TinyCheckpoints.value(t.id(), k));
            checked++;
        }
        assertThat(checked).isEqualTo(1019);
        Object[] conv = vaeT.get("decoder.conv_out.weight"); // F16 source
        assertThat(conv[0]).isEqualTo("F32");
        assertThat((long[]) conv[1]).containsExactly(3, 2, 3, 3);

        assertThat(ModelConverter.verify(out)).isGreaterThan(10);
        assertThat(siblings()).containsExactly("cog", "k4", "model");
    }

    @Test
    void allProblemsInOneErrorAndNothingWritten() throws Exception {
        Path k4 = k4();
        Path cog = cog();
        // cogvlm: drop one tensor from shard 2 (and its index entry) → missing
        List<TinyCheckpoints.T> all = TinyCheckpoints.tensors(ExpectedTensors.load(ExpectedTensors.COGVLM),
                ConfigSymbols.cogvlm(TinyCheckpoints.GSON.fromJson(TinyCheckpoints.COG_CONFIG, JsonObject.class), cog),
                "BF16", 0);
        List<TinyCheckpoints.T> rest = new ArrayList<>(all.stream().filter(t -> !t.name().equals("lm_head.weight")).toList());
        rest.removeIf(t -> t.name().equals("model.layers.3.self_attn.language_expert_dense.weight"));
        List<List<TinyCheckpoints.T>> shards = List.of(rest.subList(0, 500), rest.subList(500, rest.size()));
        try (Stream<Path> s = Files.list(cog)) {
            for (Path p : s.filter(p -> p.toString().contains("safetensors")).toList()) Files.delete(p);
        }
        TinyCheckpoints.writeSharded(cog, "model", shards); // lm_head also absent: dropped anyway, not an error
        // unet: one unexpected tensor; vae: one mis-shaped tensor
        List<TinyCheckpoints.T> extra = List.of(new TinyCheckpoints.T("down_blocks.0.attentions.0.extra.weight", "F32",
                new long[] {2}, 9));
        TinyCheckpoints.writeFile(k4.resolve("unet/diffusion_pytorch_model-00003-of-00002.safetensors"), extra);
        String idx = Files.readString(k4.resolve("unet/diffusion_pytorch_model.safetensors.index.json"));
        Files.writeString(k4.resolve("unet/diffusion_pytorch_model.safetensors.index.json"), idx.replace("\"weight_map\":{",
                "\"weight_map\":{\"down_blocks.0.attentions.0.extra.weight\":\"diffusion_pytorch_model-00003-of-00002.safetensors\","));
        List<TinyCheckpoints.T> vt = new ArrayList<>();
        try (SafetensorsFile vae = SafetensorsFile.open(k4.resolve("vae/diffusion_pytorch_model.safetensors"))) {
            int id = 0;
            for (String n : vae.names()) {
                long[] s = n.equals("decoder.conv_in.weight") ? new long[] {8, 4, 1, 1} : vae.info(n).shape();
                vt.add(new TinyCheckpoints.T(n, "F16", s, id++));
            }
        }
        TinyCheckpoints.writeFile(k4.resolve("vae/diffusion_pytorch_model.safetensors"), vt);

        Path out = tmp.resolve("model");
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class)
                .hasMessageContaining("3 problems, nothing written")
                .hasMessageContaining("cogvlm (" + cog + "): 1 missing: model.layers.3.self_attn.language_expert_dense.weight")
                .hasMessageContaining("unet (" + k4.resolve("unet") + "): 1 unexpected: down_blocks.0.attentions.0.extra.weight")
                .hasMessageContaining("vae (" + k4.resolve("vae") + "): 1 mis-shaped: decoder.conv_in.weight [8, 4, 1, 1] expected [8, 4, 3, 3]")
                .hasMessageNotContaining("lm_head")
                .hasMessageNotContaining("\n");
        assertThat(siblings()).containsExactly("cog", "k4");
    }

    @Test
    void aNonFiniteSourceTensorIsNamedAndNothingIsWritten() throws Exception {
        Path k4 = k4();
        Path cog = cog();
        Path file;
        try (Stream<Path> s = Files.list(k4.resolve("unet"))) {
            file = s.filter(p -> p.toString().endsWith(".safetensors"))
                    .filter(p -> List.of(io.github.v2a4j.faults.Corrupt.tensors(p)).contains("conv_in.weight"))
                    .findFirst().orElseThrow();
        }
        String dtype = io.github.v2a4j.faults.Corrupt.header(file).getAsJsonObject("conv_in.weight").get("dtype")
                .getAsString();
        assertThat(dtype).isEqualTo("F32"); // the tiny UNet's dtype, so that a float write lands on one element
        io.github.v2a4j.faults.Corrupt.setFloat(file, "conv_in.weight", 5, Float.POSITIVE_INFINITY);
        Path out = tmp.resolve("out");
        List<String> before = siblings();
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class)
                .hasMessageContaining(file + ": tensor 'conv_in.weight' holds +Inf at element 5 of")
                .hasMessageContaining("nothing written");
        assertThat(siblings()).isEqualTo(before);
    }

    @Test
    void bf16AndKeepDtypes() throws Exception {
        Path k4 = k4();
        Path cog = cog();
        Path bf = tmp.resolve("bf");
        ModelConverter.convert(new ModelConverter.Options(k4, cog, bf, ModelConverter.OutDtype.BF16), QUIET);
        Map<String, Object[]> u = readAll(bf.resolve("unet"));
        assertThat(u.values()).allSatisfy(t -> assertThat(t[0]).isEqualTo("BF16"));
        float[] v = (float[]) u.get("conv_in.weight")[2];
        assertThat(v[3]).isEqualTo(TinyCheckpoints.value(1000, 3)); // exact in bf16
        Path keep = tmp.resolve("keep");
        ModelConverter.convert(new ModelConverter.Options(k4, cog, keep, ModelConverter.OutDtype.KEEP), QUIET);
        assertThat(readAll(keep.resolve("vae")).values()).allSatisfy(t -> assertThat(t[0]).isEqualTo("F16"));
        assertThat(readAll(keep.resolve("cogvlm")).values()).allSatisfy(t -> assertThat(t[0]).isEqualTo("BF16"));
        // keep = byte copies: the single-file vae weights hash like a fresh write of the same tensors
        assertThat(ModelConverter.verify(keep)).isGreaterThan(5);
    }

    @Test
    void legacyVaeAttentionNamesAreRenamed() throws Exception {
        Path k4 = tmp.resolve("k4");
        TinyCheckpoints.kandinsky(k4, true);
        Path out = tmp.resolve("model");
        ModelConverter.convert(new ModelConverter.Options(k4, cog(), out, ModelConverter.OutDtype.F32), QUIET);
        Map<String, Object[]> vae = readAll(out.resolve("vae"));
        assertThat(vae).containsKeys("decoder.mid_block.attentions.0.to_q.weight",
                "decoder.mid_block.attentions.0.to_out.0.bias");
        assertThat(vae.keySet().stream().filter(n -> n.contains(".query.") || n.contains("proj_attn"))).isEmpty();
        assertThat((long[]) vae.get("decoder.mid_block.attentions.0.to_k.weight")[1]).containsExactly(8, 8);
    }

    @Test
    void verifyFindsCorruptionMissingAndExtraFiles() throws Exception {
        Path out = tmp.resolve("model");
        ModelConverter.convert(new ModelConverter.Options(k4(), cog(), out, ModelConverter.OutDtype.F32), QUIET);
        Path w = out.resolve("vae/model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
            f.seek(f.length() - 3);
            int b = f.read();
            f.seek(f.length() - 3);
            f.write(b ^ 1);
        }
        Files.delete(out.resolve("cogvlm/tokenizer.json"));
        Files.writeString(out.resolve("unet/notes.txt"), "x");
        assertThatThrownBy(() -> ModelConverter.verify(out))
                .isInstanceOf(ConvertException.class)
                .hasMessageContaining("verification failed (3 problems)")
                .hasMessageContaining("vae/model.safetensors sha256 differs")
                .hasMessageContaining("cogvlm/tokenizer.json missing")
                .hasMessageContaining("unet/notes.txt not in the manifest");
        assertThatThrownBy(() -> ModelConverter.verify(tmp))
                .isInstanceOf(ConvertException.class).hasMessageContaining("no manifest.json");
    }

    @Test
    void badInputsAreOneLineErrorsAndLeaveNothing() throws Exception {
        Path k4 = k4();
        Path cog = cog();
        Path out = tmp.resolve("model");
        // output exists and is not empty
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("exists and is not empty");
        assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("mine");
        Files.delete(out.resolve("keep.txt"));
        // garbage shard
        Path shard = cog.resolve("model-00002-of-00006.safetensors");
        byte[] orig = Files.readAllBytes(shard);
        Files.write(shard, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("model-00002-of-00006.safetensors")
                .hasMessageContaining("header length");
        // truncated shard: header promises more data than the file holds
        Files.write(shard, java.util.Arrays.copyOf(orig, orig.length - 10));
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("model-00002-of-00006.safetensors")
                .hasMessageContaining("outside the data area");
        Files.write(shard, orig);
        // missing shard listed in the index
        Files.move(shard, tmp.resolve("moved"));
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("shard file 'model-00002-of-00006.safetensors'").hasMessageContaining("does not exist");
        Files.move(tmp.resolve("moved"), shard);
        // missing folder / config / tokenizer
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, tmp.resolve("nope"), out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("nope/config.json: missing");
        Files.delete(cog.resolve("tokenizer.json"));
        assertThatThrownBy(() -> ModelConverter.convert(new ModelConverter.Options(k4, cog, out, ModelConverter.OutDtype.F32), QUIET))
                .isInstanceOf(ConvertException.class).hasMessageContaining("tokenizer.json: missing");
        // no partial directory anywhere; the empty output dir is still there
        assertThat(siblings()).containsExactly("cog", "k4", "model");
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void outputOpensWithTheProjectsSafetensorsReader() throws Exception {
        Path out = tmp.resolve("model");
        ModelConverter.convert(new ModelConverter.Options(k4(), cog(), out, ModelConverter.OutDtype.F32, 40_000), QUIET);
        try (Safetensors cogvlm = Safetensors.open(out.resolve("cogvlm"));
             Safetensors vae = Safetensors.open(out.resolve("vae"))) {
            assertThat(cogvlm.names()).hasSize(1019).doesNotContain("lm_head.weight");
            String n = "model.layers.30.self_attn.language_expert_query_key_value.weight";
            assertThat(cogvlm.info(n).dtype()).isEqualTo("F32");
            assertThat(cogvlm.info(n).shape()).containsExactly(16, 8);
            float[] v = cogvlm.getFloat(n);
            int id = ExpectedTensors.load(ExpectedTensors.COGVLM).entries().stream().map(ExpectedTensors.Entry::name)
                    .toList().indexOf(n);
            for (int k = 0; k < v.length; k++) assertThat(v[k]).isEqualTo(TinyCheckpoints.value(id, k));
            assertThat(vae.names()).hasSize(140);
        }
    }
}
