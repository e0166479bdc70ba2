package io.github.v2a4j.validate;

import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.GenerationResult;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.pipeline.GenerationOptions;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.golden.BundleException;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.PrefixedSource;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The whole pipeline on an end-to-end bundle (reference-tests/dump_e2e.py: the ORIGINAL K4 {@code __call__} with tiny
 * components and given latents), with the reference's inputs: video, token ids, latents and Griffin-Lim phases.
 *
 * <p>Two runs: the pipeline from the video (conditioning, 51 UNet evaluations, latents, VAE input, image), and the audio
 * stage from the reference's own uint8 image (mel, Griffin-Lim, PCM) — so a one-level rounding flip in the image does
 * not hide or fake an audio error.
 */
public final class EndToEndValidator implements Validator {

    @Override
    public String component() {
        return "pipeline";
    }

    /** The tensors after Griffin-Lim, whose tolerance comes from the bundle's recorded reference noise. */
    static final List<String> CHAOTIC = List.of("audio_from_waveform.in.samples", "audio_from_waveform.out",
            "apply_filters.out", Comparison.IO_PREFIX + "pcm_target");

    /**
     * Tolerances of the end-to-end rows; every other tensor is {@link Tolerance#FP32}. Griffin-Lim's 32 fp32
     * iterations feed FFT rounding back into the phase, so the rows after it get
     * {@link Tolerance#fromReferenceNoise} of the distance the dump measured between the reference's own fp32 and fp64
     * runs of that stage on this bundle's input, at least one int16 step for the integer samples.
     */
    static Tolerance tolerance(GoldenBundle bundle, String name) {
        if (name.equals("io:image")) {
            return new Tolerance(1.0 / 255, "uint8: a value within fp32 rounding of a .5 boundary may flip one level");
        }
        if (name.equals("spectrogram_from_image.out")) return new Tolerance(1e-6, "same uint8 image → same mel");
        if (CHAOTIC.contains(name)) {
            double noise = bundle.referenceNoise(name).orElseThrow(() -> new BundleException(bundle.dir()
                    + ": manifest has no reference_noise for " + name + " (regenerate the bundle with dump_e2e.py)"));
            Tolerance floor = Tolerance.FP32;
            if (!name.equals("audio_from_waveform.in.samples")) {
                INDArray ref = name.startsWith(Comparison.IO_PREFIX)
                        ? bundle.io().loadFloat(name.substring(Comparison.IO_PREFIX.length())) : bundle.activation(name);
                floor = new Tolerance(1.0 / ref.amaxNumber().doubleValue(),
                        "int16: a sample within rounding of a step boundary may land one step off");
            }
            return Tolerance.fromReferenceNoise(noise, floor);
        }
        return null;
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        return compare(bundle, Run.of(bundle));
    }

    /** The comparison of a finished run on {@code bundle}, with the audio stage run again from the reference image. */
    static ComparisonReport compare(GoldenBundle bundle, Run run) {
        Map<String, INDArray> outputs = new LinkedHashMap<>();
        outputs.put("image", imageHwc(run.result.spectrogram()));
        Trace audio = Trace.matching(List.of("spectrogram_from_image.out", "audio_from_waveform.*", "apply_filters.out"));
        SpectrogramConverter.Audio a = run.pipeline.audioFromSpectrogram(referenceImage(bundle), run.options, audio);
        outputs.put("pcm_target", Nd4j.createFromArray(a.pcm()));
        Map<String, INDArray> activations = new LinkedHashMap<>(run.trace.recorded());
        activations.putAll(audio.recorded());
        Map<String, Tolerance> tolerances = new LinkedHashMap<>();
        for (String name : CHAOTIC) tolerances.put(name, tolerance(bundle, name));
        return Comparison.of(bundle).tolerance(name -> tolerances.containsKey(name) ? tolerances.get(name)
                : tolerance(bundle, name)).compare(activations, outputs);
    }

    /** One pipeline run on the bundle's inputs, with the bundle's pipeline arguments and spectrogram parameters. */
    public static final class Run {
        public final Video2AudioPipeline pipeline;
        public final GenerationOptions options;
        public final INDArray clip;
        public final Trace trace;
        public final GenerationResult result;

        private Run(Video2AudioPipeline pipeline, GenerationOptions options, INDArray clip, Trace trace,
                    GenerationResult result) {
            this.pipeline = pipeline;
            this.options = options;
            this.clip = clip;
            this.trace = trace;
            this.result = result;
        }

        public static Run of(GoldenBundle bundle) {
            return of(bundle, PipelineListener.NONE);
        }

        public static Run of(GoldenBundle bundle, PipelineListener listener) {
            Gson gson = new Gson();
            JsonObject config = bundle.config();
            var weights = bundle.weights();
            CogVlmEncoder encoder = new CogVlmEncoder(CogVlmConfig.parse(gson.toJson(config.get("cogvlm"))),
                    new PrefixedSource(weights, "multimodal."), null, "", Defaults.FRAME_CHUNK);
            UNet unet = UNet.load(UNetConfig.fromJson(config.getAsJsonObject("unet")),
                    new PrefixedSource(weights, "unet."));
            VaeDecoder vae = new VaeDecoder(VaeConfig.parse(gson.toJson(config.get("vae"))),
                    new PrefixedSource(weights, "vae."));
            JsonObject args = config.getAsJsonObject("pipeline");
            SpectrogramParams spectrogram = SpectrogramParams.fromJson(config.getAsJsonObject("spectrogram_params"));
            Video2AudioPipeline pipeline = new Video2AudioPipeline(encoder, null, unet,
                    config.getAsJsonObject("scheduler"), vae, args.get("height").getAsInt(), spectrogram, List.of());

            JsonObject load = args.getAsJsonObject("load_video");
            INDArray video = bundle.io().loadFloat("video");
            double fps = load.get("fps").getAsDouble();
            int duration = VideoReader.durationSec((int) video.size(0), fps, load.get("max_duration_sec").getAsInt());
            if (duration != args.get("duration_sec").getAsInt()) {
                throw new BundleException(bundle.dir() + ": load_video gives " + duration + " s, the bundle's call "
                        + "used duration_sec " + args.get("duration_sec"));
            }
            INDArray clip = clip(video, VideoReader.linspaceIndices(VideoReader.keptFrames(duration, fps),
                    load.get("num_frames").getAsInt()));
            GenerationOptions options = GenerationOptions.defaults()
                    .withSteps(args.get("num_inference_steps").getAsInt())
                    .withGuidance(args.get("guidance_scale").getAsFloat())
                    .withTargetDbfs(args.getAsJsonObject("image_to_audio").get("target_dBFS").getAsDouble())
                    .withLatents(bundle.io().loadFloat("latents"))
                    .withGriffinLimPhases(bundle.io().getFloat("griffinlim.init_phase"));
            Trace trace = Trace.matching(List.of("extract_*", "_encode_conditions.*", "unet*", "scheduler.step*",
                    "vae.decode.in.z"));
            GenerationResult result = pipeline.generate(clip, duration, ints(bundle.io().loadLong("prompt_ids")),
                    ints(bundle.io().loadLong("negative_prompt_ids")), options, listener, () -> false, trace);
            return new Run(pipeline, options, clip, trace, result);
        }
    }

    /** The sampled frames of a decoded video {@code (N, H, W, 3)}, as the clip {@code (3, T, H, W)} uint8. */
    static INDArray clip(INDArray video, int[] frames) {
        INDArray out = Nd4j.create(DataType.UINT8, 3, frames.length, video.size(1), video.size(2));
        for (int t = 0; t < frames.length; t++) {
            INDArray frame = video.get(NDArrayIndex.point(frames[t])).permute(2, 0, 1);
            out.get(NDArrayIndex.all(), NDArrayIndex.point(t)).assign(frame.castTo(DataType.UINT8));
        }
        return out;
    }

    static BufferedImage referenceImage(GoldenBundle bundle) {
        INDArray ref = bundle.io().mapped("image"); // (H, W, 3) uint8
        int h = (int) ref.size(0);
        int w = (int) ref.size(1);
        byte[] hwc = bundle.io().loadBytes("image");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int b = (y * w + x) * 3;
                img.setRGB(x, y, ((hwc[b] & 0xff) << 16) | ((hwc[b + 1] & 0xff) << 8) | (hwc[b + 2] & 0xff));
            }
        return img;
    }

    static INDArray imageHwc(BufferedImage img) {
        int h = img.getHeight();
        int w = img.getWidth();
        float[] v = new float[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int b = (y * w + x) * 3;
                v[b] = (rgb >> 16) & 0xff;
                v[b + 1] = (rgb >> 8) & 0xff;
                v[b + 2] = rgb & 0xff;
            }
        return Nd4j.create(v, new long[] {h, w, 3}, 'c');
    }

    static int[] ints(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.toIntExact(v[i]);
        return out;
    }
}
