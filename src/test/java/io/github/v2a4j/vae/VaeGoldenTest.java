package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.golden.TestBundles;
import io.github.v2a4j.validate.VaeValidator;
import io.github.v2a4j.io.MapSource;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decoder and postprocess against the golden bundle {@code vae-tiny} made by the upstream diffusers 0.31 code
 * (reference-tests/dump_vae.py; block_out (8, 16, 16, 16), 4 groups, latent 4×4×6 → 32×48).
 *
 * <p>Tolerances (fp32 CPU, stated in the bundle's tolerance_hints): each module given its GOLDEN input within
 * 1e-5 of max|ref| (different summation orders in conv/GEMM/GroupNorm only); the whole chain from the latents within
 * 1e-4 of max|ref| per tensor (30 layers of such differences); {@code image_np} 1e-6 absolute and the uint8 image
 * exact given the golden sample.
 */
class VaeGoldenTest {
    static final Path BUNDLE = TestBundles.committed("vae-tiny");
    static final double MODULE_TOL = 1e-5;
    static final double CHAIN_TOL = 1e-4;

    static GoldenBundle bundle;
    static VaeConfig config;
    static Map<String, INDArray> weights = new LinkedHashMap<>();
    static Map<String, INDArray> io = new LinkedHashMap<>();

    @BeforeAll
    static void load() {
        bundle = GoldenBundle.open(BUNDLE);
        config = VaeConfig.parse(bundle.config().toString());
        for (String n : bundle.weights().names()) weights.put(n, bundle.weights().loadFloat(n));
        for (String n : bundle.io().names()) io.put(n, bundle.io().loadFloat(n));
    }

    @AfterAll
    static void close() {
        if (bundle != null) bundle.close();
    }

    static INDArray golden(String name) {
        if (!bundle.hasActivation(name)) throw new AssertionError("bundle has no tensor " + name);
        return bundle.activation(name);
    }

    /** max|got − ref| / max|ref|. */
    static double relErr(INDArray got, INDArray ref) {
        assertThat(got.shape()).as("shape").containsExactly(ref.shape());
        double maxRef = ref.castTo(DataType.DOUBLE).amaxNumber().doubleValue();
        double maxDiff = got.castTo(DataType.DOUBLE).sub(ref.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    /** Compares every recorded tensor that the bundle has; returns name → relative error. */
    static Map<String, Double> compare(Trace trace) {
        Map<String, Double> errs = new LinkedHashMap<>();
        trace.recorded().forEach((name, t) -> {
            if (bundle.hasActivation(name)) errs.put(name, relErr(t, bundle.activation(name)));
        });
        return errs;
    }

    static String worst(Map<String, Double> errs) {
        return errs.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey() + " " + String.format("%.2e", e.getValue())).orElse("none");
    }

    @Test
    void wholeDecoderFromTheLatentsMatchesEveryRecordedModule() {
        VaeDecoder vae = new VaeDecoder(config, new MapSource(weights));
        Trace trace = Trace.all();
        INDArray sample = vae.decode(io.get("latents"), trace);
        Map<String, Double> errs = compare(trace);
        System.out.println("vae-tiny chain: " + errs.size() + " tensors compared, worst " + worst(errs)
                + ", sample " + String.format("%.2e", relErr(sample, io.get("sample"))));

        // every module output of the bundle (inputs are aliases of earlier outputs) was produced by the Java side
        List<String> notProduced = new ArrayList<>();
        for (String name : bundle.order()) {
            if (!name.contains(".in.") && !trace.recorded().containsKey(name)) notProduced.add(name);
        }
        assertThat(notProduced).isEmpty();
        assertThat(errs).allSatisfy((name, err) -> assertThat(err).as(name).isLessThan(CHAIN_TOL));
        assertThat(relErr(sample, io.get("sample"))).isLessThan(CHAIN_TOL);
    }

    /**
     * The banded convolutions and the buffer reuse the real size uses, forced onto the tiny case (bands of a few
     * rows, every array pooled): a buffer handed out while still in use would show here.
     */
    @Test
    void wholeDecoderInBandsOfFewRowsWithEveryBufferPooled() {
        BandedConv.bandBytes = 2048;
        Buffers.minPooled = 0;
        long reusedBefore = Buffers.REUSED.get();
        try {
            Trace trace = Trace.all();
            INDArray sample = new VaeDecoder(config, new MapSource(weights)).decode(io.get("latents"), trace);
            Map<String, Double> errs = compare(trace);
            long reused = Buffers.REUSED.get() - reusedBefore;
            System.out.println("vae-tiny chain in 2 KB bands, " + reused + " buffers reused: worst " + worst(errs));
            assertThat(reused).as("buffers handed out again").isGreaterThan(10);
            assertThat(errs).allSatisfy((name, err) -> assertThat(err).as(name).isLessThan(CHAIN_TOL));
            assertThat(relErr(sample, io.get("sample"))).isLessThan(CHAIN_TOL);
        } finally {
            BandedConv.bandBytes = BandedConv.DEFAULT_BAND_BYTES;
            Buffers.minPooled = Buffers.DEFAULT_MIN_POOLED;
        }
    }

    /**
     * The decoder keeps its activation buffers between decodes (the tiles of a long clip, a service's next clip): a
     * second decode of the same size takes every buffer from them, allocating nothing, and gives the same image.
     */
    @Test
    void aSecondDecodeReusesEveryBufferAndGivesTheSameImage() {
        Buffers.minPooled = 0;
        try {
            VaeDecoder vae = new VaeDecoder(config, new MapSource(weights));
            INDArray first = vae.decode(io.get("latents"), Trace.OFF);
            long allocated = Buffers.ALLOCATED.get();
            INDArray second = vae.decode(io.get("latents"), Trace.OFF);
            assertThat(Buffers.ALLOCATED.get() - allocated).as("bytes allocated by the second decode").isZero();
            assertThat(second).isEqualTo(first);
            assertThat(relErr(second, io.get("sample"))).isLessThan(CHAIN_TOL);
            vae.releaseBuffers();
        } finally {
            Buffers.minPooled = Buffers.DEFAULT_MIN_POOLED;
        }
    }

    /** Each module on its golden input, so an error cannot hide behind (or be blamed on) an earlier one. */
    @Test
    void everyModuleGivenItsGoldenInput() {
        Binder w = Binder.load(new DecoderCheckpoint(new MapSource(weights)), "VAE decoder");
        int groups = config.normNumGroups();
        int[] ch = config.blockOutChannels();
        int top = ch[ch.length - 1];
        Map<String, BiFunction<INDArray, Trace, INDArray>> modules = new LinkedHashMap<>();
        modules.put("decoder.mid_block", new VaeMidBlock(w.at("decoder.mid_block"), top, groups, true)::forward);
        for (int r = 0; r < 2; r++) {
            String p = "decoder.mid_block.resnets." + r;
            modules.put(p, new VaeResnetBlock(w.at(p), top, top, groups)::forward);
        }
        modules.put("decoder.mid_block.attentions.0",
                new VaeAttention(w.at("decoder.mid_block.attentions.0"), top, groups)::forward);
        int prev = top;
        for (int i = 0; i < ch.length; i++) {
            int out = ch[ch.length - 1 - i];
            String b = "decoder.up_blocks." + i;
            modules.put(b, new UpDecoderBlock(w.at(b), prev, out, config.layersPerBlock() + 1, groups,
                    i < ch.length - 1)::forward);
            for (int r = 0; r <= config.layersPerBlock(); r++) {
                modules.put(b + ".resnets." + r, new VaeResnetBlock(w.at(b + ".resnets." + r), r == 0 ? prev : out,
                        out, groups)::forward);
            }
            if (i < ch.length - 1) modules.put(b + ".upsamplers.0", new Upsample(w.at(b + ".upsamplers.0"), out)::forward);
            prev = out;
        }
        w.verifyRequested();

        Map<String, Double> all = new LinkedHashMap<>();
        modules.forEach((path, forward) -> {
            Trace trace = Trace.all();
            INDArray out = Layout.toChannelsFirst(forward.apply(Layout.toChannelsLast(golden(path + ".in.0")), trace));
            Map<String, Double> errs = compare(trace);
            // a module's own output and the leaves (conv, norm, linear) it computed from the golden input
            assertThat(errs).containsKey(path + ".out");
            assertThat(relErr(out, golden(path + ".out"))).isLessThan(MODULE_TOL);
            errs.forEach((name, err) -> all.merge(path + " | " + name, err, Math::max));
        });
        System.out.println("vae-tiny per module (golden inputs): " + modules.size() + " modules, " + all.size()
                + " tensors, worst " + worst(all));
        assertThat(all).allSatisfy((name, err) -> assertThat(err).as(name).isLessThan(MODULE_TOL));
    }

    /** The golden weights under the legacy attention names (query/key/value/proj_attn, conv-style 4-D): same image. */
    @Test
    void legacyAttentionNamesGiveTheSameSample() {
        Map<String, String> legacy = Map.of("to_q", "query", "to_k", "key", "to_v", "value", "to_out.0", "proj_attn");
        String a = "decoder.mid_block.attentions.0.";
        Map<String, INDArray> renamed = new LinkedHashMap<>();
        weights.forEach((name, t) -> {
            String out = name;
            INDArray tensor = t;
            for (Map.Entry<String, String> e : legacy.entrySet()) {
                if (name.startsWith(a + e.getKey() + ".")) {
                    out = a + e.getValue() + name.substring((a + e.getKey()).length());
                    if (name.endsWith(".weight")) tensor = t.reshape(t.size(0), t.size(1), 1, 1);
                }
            }
            renamed.put(out, tensor);
        });
        assertThat(renamed).containsKeys(a + "query.weight", a + "proj_attn.bias").doesNotContainKey(a + "to_q.weight");
        INDArray current = new VaeDecoder(config, new MapSource(weights)).decode(io.get("latents"), Trace.OFF);
        INDArray old = new VaeDecoder(config, new MapSource(renamed)).decode(io.get("latents"), Trace.OFF);
        assertThat(old).isEqualTo(current);
        assertThat(relErr(old, io.get("sample"))).isLessThan(CHAIN_TOL);
    }

    @Test
    void validatorPassesOnTheBundle() {
        ComparisonReport report = new VaeValidator().validate(bundle);
        System.out.println(report.format());
        assertThat(report.missing()).isEmpty();
        assertThat(report.rows()).hasSizeGreaterThan(100);
        assertThat(report.passed()).isTrue();
    }

    @Test
    void postprocessGivenTheGoldenSampleIsExact() {
        INDArray sample = io.get("sample");
        float[] hwc = VaeImageProcessor.denormalizeToHwc(sample);
        float[] wantNp = io.get("image_np").castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertThat(hwc).hasSize(wantNp.length);
        double maxAbs = 0;
        for (int i = 0; i < hwc.length; i++) maxAbs = Math.max(maxAbs, Math.abs(hwc[i] - wantNp[i]));
        assertThat(maxAbs).as("image_np max abs").isLessThanOrEqualTo(1e-6);

        VaeImageProcessor.Rgb rgb = VaeImageProcessor.postprocess(sample);
        INDArray want = io.get("image");
        assertThat(want.shape()).containsExactly(1, rgb.height(), rgb.width(), 3);
        int[] wantU8 = want.castTo(DataType.INT).dup('c').data().asInt();
        int differing = 0;
        for (int i = 0; i < wantU8.length; i++) if ((rgb.hwc()[i] & 0xff) != wantU8[i]) differing++;
        assertThat(differing).as("uint8 values differing from the golden image").isZero();
    }

    @Test
    void imageFromOwnDecodeIsWithinOneLevel() {
        INDArray sample = new VaeDecoder(config, new MapSource(weights)).decode(io.get("latents"), Trace.OFF);
        VaeImageProcessor.Rgb rgb = VaeImageProcessor.postprocess(sample);
        int[] wantU8 = io.get("image").castTo(DataType.INT).dup('c').data().asInt();
        int off = 0, maxDiff = 0;
        for (int i = 0; i < wantU8.length; i++) {
            int d = Math.abs((rgb.hwc()[i] & 0xff) - wantU8[i]);
            if (d != 0) off++;
            maxDiff = Math.max(maxDiff, d);
        }
        System.out.println("vae-tiny uint8 image from own decode: " + off + " of " + wantU8.length
                + " values differ (max " + maxDiff + ")");
        assertThat(maxDiff).isLessThanOrEqualTo(1);
    }
}
