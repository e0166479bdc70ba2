package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.Gson;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.diffusion.PndmScheduler;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.io.PrefixedSource;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The whole pipeline against the ORIGINAL K4 {@code Video2AudioPipeline.__call__} and its image→audio path, run with
 * tiny components by reference-tests/dump_e2e.py: 4 CogVLM2 passes, 51 UNet evaluations with CFG, PNDM, VAE,
 * postprocess, inverse mel, Griffin-Lim, PCM and levels. Inputs (video, token ids, latents, Griffin-Lim initial
 * phases) are the reference's own.
 */
class EndToEndGoldenTest {
    static final Path BUNDLE = Path.of("reference-tests/bundles/e2e-tiny");

    static GoldenBundle bundle;
    static GenerationResult result;
    static Trace trace;
    static INDArray clip;
    static Video2AudioPipeline pipeline;
    static GenerationOptions options;

    @BeforeAll
    static void run() {
        bundle = GoldenBundle.open(BUNDLE);
        Gson gson = new Gson();
        var config = bundle.config();
        var weights = bundle.weights();
        CogVlmEncoder encoder = new CogVlmEncoder(CogVlmConfig.parse(gson.toJson(config.get("cogvlm"))),
                new PrefixedSource(weights, "multimodal."), null, "", 8);
        UNet unet = UNet.load(UNetConfig.fromJson(config.getAsJsonObject("unet")), weights, "unet.");
        VaeDecoder vae = new VaeDecoder(VaeConfig.parse(gson.toJson(config.get("vae"))),
                new PrefixedSource(weights, "vae."));
        PndmScheduler.Config scheduler = PndmScheduler.Config.fromJson(config.getAsJsonObject("scheduler"));
        pipeline = new Video2AudioPipeline(encoder, null, unet, scheduler, vae,
                SpectrogramParams.defaults(), List.of());

        // K4 load_video(video, fps=8, num_frames=3): duration 1 s, 8 frames kept, frames 0, 3, 7 sampled.
        INDArray video = bundle.io().loadFloat("video"); // (N, H, W, 3)
        int total = 8;
        int[] idx = VideoReader.linspaceIndices(total, 3);
        clip = Nd4j.create(DataType.UINT8, 3, idx.length, video.size(1), video.size(2));
        for (int t = 0; t < idx.length; t++) {
            INDArray frame = video.get(NDArrayIndex.point(idx[t])).permute(2, 0, 1); // (3, H, W)
            clip.get(NDArrayIndex.all(), NDArrayIndex.point(t)).assign(frame.castTo(DataType.UINT8));
        }
        options = GenerationOptions.defaults()
                .withLatents(bundle.io().loadFloat("latents"))
                .withGriffinLimPhases(bundle.io().getFloat("griffinlim.init_phase"));
        trace = Trace.matching(List.of("_encode_conditions.*", "unet*.out.0", "scheduler.step*.out.0",
                "vae.decode.in.z"));
        result = pipeline.generate(clip, 1, toInts(bundle.io().loadLong("prompt_ids")),
                toInts(bundle.io().loadLong("negative_prompt_ids")), options, PipelineListener.NONE, trace);
    }

    @AfterAll
    static void close() {
        bundle.close();
    }

    static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.toIntExact(v[i]);
        return out;
    }

    @Test
    void clipIsSampledAsLoadVideoDoes() {
        INDArray ref = bundle.activation("extract_video_embedding.in.images");
        assertThat(clip.castTo(DataType.FLOAT)).isEqualTo(ref.castTo(DataType.FLOAT).reshape(clip.shape()));
    }

    @Test
    void conditioningDenoisingAndVaeInputMatchTheReference() {
        ComparisonReport report = Comparison.of(bundle).compare(trace.recorded(), Map.of());
        System.out.println(report.format());
        // embeddings, the UNet outputs the bundle keeps (calls 0, 1, 50), 51 steps, VAE input
        assertThat(report.rows()).hasSize(2 + 3 + 51 + 1);
        assertThat(report.passed()).as(report.format()).isTrue();
    }

    /**
     * The uint8 image may differ by one level where the float image lies within fp32 rounding of a .5 boundary
     * (np.round of x·255): with ~1e-6 relative error on 147 456 values, tens of such pixels are expected. Every other
     * pixel must be identical.
     */
    @Test
    void spectrogramImageDiffersOnlyByRoundingFlips() {
        byte[] ref = bundle.io().loadBytes("image"); // (512, W, 3) HWC
        BufferedImage img = result.spectrogram();
        int w = img.getWidth();
        assertThat(img.getHeight()).isEqualTo(512);
        assertThat(w * 512 * 3).isEqualTo(ref.length);
        int differ = 0;
        int worst = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int base = (y * w + x) * 3;
                int[] got = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                for (int c = 0; c < 3; c++) {
                    int d = Math.abs(got[c] - (ref[base + c] & 0xff));
                    if (d != 0) differ++;
                    worst = Math.max(worst, d);
                }
            }
        System.out.println("e2e: " + differ + " of " + ref.length + " image values differ, by at most " + worst);
        assertThat(worst).isLessThanOrEqualTo(1);
        assertThat(differ).isLessThan(ref.length / 1000);
    }

    /** The audio stage fed the reference's own image: mel exact, Griffin-Lim and PCM within the stated bounds. */
    @Test
    void audioFromTheReferenceImageMatches() {
        byte[] ref = bundle.io().loadBytes("image");
        int w = ref.length / (512 * 3);
        BufferedImage img = new BufferedImage(w, 512, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 512; y++)
            for (int x = 0; x < w; x++) {
                int b = (y * w + x) * 3;
                img.setRGB(x, y, ((ref[b] & 0xff) << 16) | ((ref[b + 1] & 0xff) << 8) | (ref[b + 2] & 0xff));
            }
        Trace audioTrace = Trace.matching(List.of("spectrogram_from_image.out", "audio_from_waveform.*",
                "apply_filters.out"));
        Video2AudioPipeline.Audio audio = pipeline.audioFromSpectrogram(img, options, audioTrace);
        ComparisonReport report = Comparison.of(bundle).tolerance(EndToEndGoldenTest::audioTolerance)
                .compare(audioTrace.recorded(), Map.of());
        System.out.println(report.format());
        assertThat(report.rows()).hasSize(4);
        assertThat(report.passed()).as(report.format()).isTrue();

        long[] target = bundle.io().loadLong("pcm_target");
        short[] got = audio.pcm();
        assertThat(got).hasSize(target.length);
        int worst = 0;
        for (int i = 0; i < target.length; i++) worst = Math.max(worst, Math.abs(got[i] - (int) target[i]));
        System.out.println("e2e: levelled PCM max |diff| = " + worst + " LSB");
        assertThat(worst).isLessThanOrEqualTo(PCM_LSB);
    }

    /** 1e-4 of full scale (32767), the waveform bound, rounded up. */
    static final int PCM_LSB = 4;

    static Tolerance audioTolerance(String name) {
        if (name.equals("spectrogram_from_image.out")) return new Tolerance(1e-6, "same uint8 image → same mel");
        // Measured 3.5e-5: 32 Griffin-Lim iterations of fp32 FFTs (JTransforms here, pocketfft in torch) feed
        // their rounding back into the phase; int16 samples inherit the bound (1e-4 of 32767 ≈ 3 LSB).
        return new Tolerance(1e-4, "32 fp32 Griffin-Lim iterations feed FFT rounding back into the phase");
    }
}
