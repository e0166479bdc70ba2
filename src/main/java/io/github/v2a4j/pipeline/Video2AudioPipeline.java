package io.github.v2a4j.pipeline;

import io.github.v2a4j.audio.GriffinLim;
import io.github.v2a4j.audio.InverseMelScale;
import io.github.v2a4j.audio.Pcm;
import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.audio.SpectrogramImage;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.cogvlm.LlamaTokenizer;
import io.github.v2a4j.diffusion.DenoiseLoop;
import io.github.v2a4j.diffusion.Guidance;
import io.github.v2a4j.diffusion.PndmScheduler;
import io.github.v2a4j.io.CacheDir;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.io.WeightsCheck;
import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.FiniteGuard;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.CfgDenoiser;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import io.github.v2a4j.vae.VaeImageProcessor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Kandinsky-4 Video2AudioPipeline ({@code video2audio_pipe.py} {@code __call__} followed by {@code utils.py}
 * {@code image_to_audio}), where the models meet:
 *
 * <ol>
 *   <li>CogVLM2: the prompt and the negative prompt → {@code (100, hidden)} each; the clip and the same clip in black
 *       → {@code (T, hidden)} each (the black one from the on-disk cache after the first run);
 *   <li>latents {@code (1, 4, 512/f, W/f)} with {@code W = ((duration·100)//32)·32} and f the VAE scale factor;
 *   <li>PNDM with classifier-free guidance, batch [uncond, cond] = [negative prompt + black video, prompt + video];
 *   <li>VAE decode and postprocess to a uint8 RGB spectrogram image;
 *   <li>riffusion image → mel → inverse mel → Griffin-Lim → int16 → filters → target level.
 * </ol>
 *
 * <p>Tensors the golden end-to-end bundle records are reported to the trace under the reference's names
 * ({@code _encode_conditions.out.0}, {@code unet.out.0}, {@code scheduler.step.out.0}, …).
 */
public final class Video2AudioPipeline implements AutoCloseable {

    /** The spectrogram image height: riffusion's 512 mel bands. */
    public static final int SPECTROGRAM_HEIGHT = 512;

    private final CogVlmEncoder encoder;
    private final LlamaTokenizer tokenizer;
    private final UNet unet;
    private final PndmScheduler.Config schedulerConfig;
    private final VaeDecoder vae;
    private final SpectrogramParams spectrogramParams;
    private final List<AutoCloseable> resources;

    public Video2AudioPipeline(CogVlmEncoder encoder, LlamaTokenizer tokenizer, UNet unet,
                               PndmScheduler.Config schedulerConfig, VaeDecoder vae, SpectrogramParams spectrogramParams,
                               List<AutoCloseable> resources) {
        long hidden = encoder.config().hiddenSize();
        if (unet.config().videoEmbedDim() != hidden || unet.config().textEmbedDim() != hidden) {
            throw new IllegalArgumentException("the UNet expects " + unet.config().videoEmbedDim() + "/"
                    + unet.config().textEmbedDim() + "-wide video/text embeddings but CogVLM2 gives " + hidden);
        }
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.unet = unet;
        this.schedulerConfig = schedulerConfig;
        this.vae = vae;
        this.spectrogramParams = spectrogramParams;
        this.resources = resources;
    }

    /** {@link #open(Path, Path)} with the cache folder {@link CacheDir#choose} picks. */
    public static Video2AudioPipeline open(Path modelDir) {
        return open(modelDir, null);
    }

    /**
     * Opens a v2a4j model directory as {@code v2a convert} writes it: {@code cogvlm/} (config.json, safetensors,
     * tokenizer.json), {@code unet/}, {@code vae/}, {@code scheduler/scheduler_config.json}. Weights are mapped, not
     * read. Every tensor name, shape and dtype is checked first, and all problems are reported in one error; then
     * every weight is checked for NaN and Inf ({@link WeightsCheck}: once per version of each file, remembered in
     * the cache folder).
     *
     * @param cacheDir where the black-video embedding and the weight-check stamps are kept (null: {@link
     *                 CacheDir#choose})
     */
    public static Video2AudioPipeline open(Path modelDir, Path cacheDir) {
        if (!Files.isDirectory(modelDir)) throw new IllegalArgumentException(modelDir + ": no such model directory");
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Path cog = requireDir(modelDir.resolve("cogvlm"));
            CogVlmConfig cogConfig = CogVlmConfig.read(require(cog.resolve("config.json")));
            TensorSource cogWeights = Safetensors.open(cog);
            opened.add(cogWeights);
            CogVlmEncoder.verifyCheckpoint(cogConfig, cogWeights, cog.toString());
            LlamaTokenizer tokenizer = LlamaTokenizer.load(require(cog.resolve("tokenizer.json")));
            opened.add(tokenizer);

            Path unetDir = requireDir(modelDir.resolve("unet"));
            TensorSource unetWeights = Safetensors.open(unetDir);
            opened.add(unetWeights);
            UNet unet = UNet.load(UNetConfig.read(require(unetDir.resolve("config.json"))), unetWeights, "");

            Path vaeDir = requireDir(modelDir.resolve("vae"));
            TensorSource vaeWeights = Safetensors.open(vaeDir);
            opened.add(vaeWeights);
            VaeDecoder vae = new VaeDecoder(VaeConfig.read(require(vaeDir.resolve("config.json"))), vaeWeights);

            PndmScheduler.Config scheduler =
                    PndmScheduler.Config.read(require(modelDir.resolve("scheduler/scheduler_config.json")));

            Path cache = CacheDir.choose(cacheDir, modelDir);
            Path stamps = cache.resolve(CacheDir.WEIGHT_STAMPS);
            WeightsCheck.fingerprint(unetDir, stamps);
            WeightsCheck.fingerprint(vaeDir, stamps);
            CogVlmEncoder encoder = new CogVlmEncoder(cogConfig, cogWeights, cache,
                    WeightsCheck.fingerprint(cog, stamps), 8);
            return new Video2AudioPipeline(encoder, tokenizer, unet, scheduler, vae, SpectrogramParams.defaults(),
                    opened);
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static Path requireDir(Path p) {
        if (!Files.isDirectory(p)) throw new IllegalArgumentException("model directory is incomplete: " + p + " is missing");
        return p;
    }

    /** A config or tokenizer file; anything but a regular file (a folder, a named pipe) would fail late or block. */
    private static Path require(Path p) {
        if (!Files.exists(p)) throw new IllegalArgumentException("model directory is incomplete: " + p + " is missing");
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": not a regular file");
        return p;
    }

    public CogVlmEncoder encoder() {
        return encoder;
    }

    /** K4: {@code width = ((duration_sec*100)//32)*32} spectrogram columns (10 ms each). */
    public static int spectrogramWidth(int durationSec) {
        return ((durationSec * 100) / 32) * 32;
    }

    /** The initial-latent shape for a clip of {@code durationSec} seconds. */
    public long[] latentShape(int durationSec) {
        int f = vae.config().scaleFactor();
        return new long[] {1, unet.config().inChannels(), SPECTROGRAM_HEIGHT / f, spectrogramWidth(durationSec) / f};
    }

    /** Tokenizes the prompts and runs {@link #generate(INDArray, int, int[], int[], GenerationOptions, PipelineListener, Trace)}. */
    public GenerationResult generate(INDArray clip, int durationSec, GenerationOptions options,
                                     PipelineListener listener, Trace trace) {
        if (tokenizer == null) throw new IllegalStateException("this pipeline has no tokenizer: pass token ids");
        return generate(clip, durationSec, tokenizer.encode(options.prompt()),
                tokenizer.encode(options.negativePrompt()), options, listener, trace);
    }

    /**
     * One generation from a clip {@code (3, T, H, W)} uint8 and token ids (without BOS).
     *
     * @param durationSec the clip's duration as {@code load_video} computes it (sets the spectrogram width)
     */
    public GenerationResult generate(INDArray clip, int durationSec, int[] promptIds, int[] negativeIds,
                                     GenerationOptions options, PipelineListener listener, Trace trace) {
        if (durationSec < 1) throw new IllegalArgumentException("video shorter than 1 s: nothing to generate");
        // the model's own bounds, before the first encoder pass
        String stepsProblem = new PndmScheduler(schedulerConfig).stepsProblem(options.steps());
        if (stepsProblem != null) throw new IllegalArgumentException(stepsProblem);
        if (clip.rank() != 4 || clip.size(0) != 3) {
            throw new IllegalArgumentException("clip must be (3, T, H, W), got " + java.util.Arrays.toString(clip.shape()));
        }
        Map<Stage, Duration> timings = new EnumMap<>(Stage.class);
        int frames = (int) clip.size(1);
        int height = (int) clip.size(2);
        int width = (int) clip.size(3);

        // both prompts in one decoder pass: each layer's weights are loaded (and, for bf16, converted) once
        // every model pass runs under a FiniteGuard: a NaN stops the run at the block that made it
        List<INDArray> texts = timed(Stage.ENCODE_PROMPT, listener, timings, () -> FiniteGuard.run("CogVLM2",
                "the prompts' token ids", () -> encoder.textEmbeddings(List.of(promptIds, negativeIds))));
        INDArray prompt = texts.get(0);
        INDArray negative = texts.get(1);
        INDArray video = timed(Stage.ENCODE_VIDEO, listener, timings, () -> FiniteGuard.run("CogVLM2",
                "the video's frames", () -> encoder.videoEmbedding(clip, Trace.OFF)));
        INDArray black = timed(Stage.ENCODE_BLACK_VIDEO, listener, timings, () -> FiniteGuard.run("CogVLM2",
                "the black frames", () -> encoder.unconditionalVideoEmbedding(frames, height, width)));
        INDArray text = Nd4j.stack(0, negative, prompt);     // (2, 100, hidden): [uncond, cond]
        INDArray videoEmbeds = Nd4j.stack(0, black, video);  // (2, T, hidden)
        trace.record("_encode_conditions.out.0", text);
        trace.record("_encode_conditions.out.1", videoEmbeds);

        INDArray latents = options.latents() != null ? options.latents()
                : DenoiseLoop.randomLatents(options.seed(), latentShape(durationSec));
        requireFinite(latents, "the initial latents");
        long[] expected = latentShape(durationSec);
        if (!java.util.Arrays.equals(latents.shape(), expected)) {
            throw new IllegalArgumentException("latents must be " + java.util.Arrays.toString(expected) + " for a "
                    + durationSec + " s clip, got " + java.util.Arrays.toString(latents.shape()));
        }
        INDArray finalLatents = timed(Stage.DENOISE, listener, timings,
                () -> denoise(latents, text, videoEmbeds, options, listener, trace));
        Attention.releaseBuffers();

        BufferedImage image = timed(Stage.VAE_DECODE, listener, timings, () -> {
            trace.record("vae.decode.in.z", finalLatents.div(vae.config().scalingFactor()));
            INDArray decoded = FiniteGuard.run("VAE decoder", "the denoised latents",
                    () -> vae.decode(finalLatents, Trace.OFF));
            return VaeImageProcessor.postprocess(decoded).toBufferedImage();
        });
        Attention.releaseBuffers();

        Audio audio = timed(Stage.AUDIO, listener, timings, () -> audioFromSpectrogram(image, options, trace));
        return new GenerationResult(image, audio.waveform(), audio.pcm(), spectrogramParams.sampleRate(), timings);
    }

    /** Griffin-Lim's waveform and the levelled 16-bit samples made from it. */
    public record Audio(float[] waveform, short[] pcm) {}

    /**
     * K4 {@code image_to_audio}: riffusion {@code audio_from_spectrogram_image} (image → mel → inverse mel →
     * Griffin-Lim → int16 → {@code apply_filters}) then {@code set_to_target_level}.
     */
    public Audio audioFromSpectrogram(BufferedImage image, GenerationOptions options, Trace trace) {
        float[] wave = waveform(image, options, trace);
        for (int i = 0; i < wave.length; i++) {
            if (!Float.isFinite(wave[i])) throw new FiniteGuard.NonFiniteException("Griffin-Lim gave " + wave[i]
                    + " at sample " + i + " of " + wave.length + "; its input came from the spectrogram image");
        }
        short[] raw = Pcm.fromWaveform(wave);
        trace.record("audio_from_waveform.out", Nd4j.createFromArray(raw));
        short[] filtered = Pcm.applyFilters(raw);
        trace.record("apply_filters.out", Nd4j.createFromArray(filtered));
        return new Audio(wave, Pcm.setToTargetLevel(filtered, options.targetDbfs()));
    }

    /** The reference's denoising loop, reporting the UNet output and the latents of every evaluation. */
    private INDArray denoise(INDArray latents, INDArray text, INDArray videoEmbeds, GenerationOptions o,
                             PipelineListener listener, Trace trace) {
        PndmScheduler scheduler = new PndmScheduler(schedulerConfig);
        scheduler.setTimesteps(o.steps());
        int[] timesteps = scheduler.timesteps();
        CfgDenoiser model = new CfgDenoiser(unet, text, videoEmbeds);
        INDArray x = latents.mul(scheduler.initNoiseSigma());
        listener.started(Stage.DENOISE, timesteps.length);
        for (int i = 0; i < timesteps.length; i++) {
            INDArray xi = x;
            int t = timesteps[i];
            String where = "the latents of step " + (i + 1) + " of " + timesteps.length + " at timestep " + t;
            INDArray[] eps = FiniteGuard.run("UNet", where, () -> model.predictBoth(xi, t, o.oneBatch(), trace));
            if (trace.wants("unet.out.0")) trace.record("unet.out.0", Nd4j.concat(0, eps[0], eps[1]));
            x = scheduler.step(Guidance.combine(eps[0], eps[1], o.guidance()), timesteps[i], x);
            requireFinite(x, "the latents after step " + (i + 1) + " of " + timesteps.length + " (timestep " + t
                    + ", guidance " + o.guidance() + ")");
            trace.record("scheduler.step.out.0", x);
            listener.progress(Stage.DENOISE, i + 1, timesteps.length);
            // ND4J frees native buffers only when their Java objects are collected; a collection per step keeps
            // the dead UNet activations from piling up over 51 evaluations.
            System.gc();
        }
        return x;
    }

    /** riffusion {@code audio_from_spectrogram_image}: image → mel → inverse mel → Griffin-Lim (mono). */
    private float[] waveform(BufferedImage image, GenerationOptions o, Trace trace) {
        SpectrogramParams p = spectrogramParams;
        if (image.getHeight() != p.numFrequencies()) {
            throw new IllegalArgumentException("spectrogram height " + image.getHeight() + " != " + p.numFrequencies()
                    + " mel bands");
        }
        int frames = image.getWidth();
        float[] mel = SpectrogramImage.toSpectrogram(image, p)[0];
        trace.record("spectrogram_from_image.out", Nd4j.createFromArray(mel).reshape(1, p.numFrequencies(), frames));
        float[] spec = InverseMelScale.of(p).apply(mel, frames);
        GriffinLim gl = new GriffinLim(p);
        float[][] phases = o.griffinLimPhases() != null ? gl.packPhases(o.griffinLimPhases(), frames)
                : gl.randomPhases(frames, o.seed());
        float[] wave = gl.run(spec, frames, phases, null);
        trace.record("audio_from_waveform.in.samples", Nd4j.createFromArray(wave).reshape(1, wave.length));
        return wave;
    }

    /** Stops with one line naming {@code what} when {@code x} holds NaN or Inf. */
    private static void requireFinite(INDArray x, String what) {
        long bad = FiniteGuard.firstNonFinite(x);
        if (bad >= 0) {
            throw new FiniteGuard.NonFiniteException(what + ": NaN or Inf at element " + bad + " of " + x.length());
        }
    }

    /** Exposed for the commands that convert spectrograms alone. */
    public SpectrogramConverter spectrogramConverter() {
        return new SpectrogramConverter(spectrogramParams);
    }

    private interface Work<T> {
        T run();
    }

    private static <T> T timed(Stage stage, PipelineListener listener, Map<Stage, Duration> timings, Work<T> work) {
        long t0 = System.nanoTime();
        if (stage != Stage.DENOISE) listener.started(stage, 1);
        T out = work.run();
        Duration d = Duration.ofNanos(System.nanoTime() - t0);
        timings.put(stage, d);
        listener.finished(stage, d);
        return out;
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> list) {
        for (AutoCloseable c : list) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing mapped files cannot fail in a way a caller could act on
            }
        }
    }
}
