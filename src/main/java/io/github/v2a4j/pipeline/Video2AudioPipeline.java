package io.github.v2a4j.pipeline;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.audio.SpectrogramConverter;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.cogvlm.LlamaTokenizer;
import io.github.v2a4j.diffusion.DenoiseLoop;
import io.github.v2a4j.diffusion.Scheduler;
import io.github.v2a4j.diffusion.Schedulers;
import io.github.v2a4j.io.CacheDir;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.WeightsCheck;
import io.github.v2a4j.io.video.VideoInfo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.FiniteGuard;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import io.github.v2a4j.vae.VaeImageProcessor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Kandinsky-4 Video2AudioPipeline ({@code video2audio_pipe.py} {@code __call__} followed by {@code utils.py}
 * {@code image_to_audio}), where the models meet:
 *
 * <ol>
 *   <li>CogVLM2: the prompt and the negative prompt → {@code (100, hidden)} each; the clip and the same clip in black
 *       → {@code (T, hidden)} each (the black one from the on-disk cache after the first run);
 *   <li>latents {@code (1, 4, height/f, W/f)} with {@code W = ((duration·100)//32)·32} and f the VAE scale factor;
 *   <li>the scheduler's denoising loop with classifier-free guidance, batch [uncond, cond] = [negative prompt + black
 *       video, prompt + video];
 *   <li>VAE decode and postprocess to a uint8 RGB spectrogram image;
 *   <li>riffusion image → mel → inverse mel → Griffin-Lim → int16 → filters → target level.
 * </ol>
 *
 * <p>Open a model once and call it per video, from one thread at a time:
 * {@link #generateVideo} reads a video file and writes it back with the sound track. Tensors the golden end-to-end
 * bundle records are reported to the trace under the reference's names ({@code _encode_conditions.out.0},
 * {@code unet.out.0}, {@code scheduler.step.out.0}, …).
 */
public final class Video2AudioPipeline implements AutoCloseable {

    private final CogVlmEncoder encoder;
    private final LlamaTokenizer tokenizer;
    private final UNet unet;
    private final JsonObject schedulerConfig;
    private final VaeDecoder vae;
    private final int height;
    private final SpectrogramConverter converter;
    private final List<AutoCloseable> resources;

    /**
     * @param schedulerConfig the model's {@code scheduler_config.json}
     * @param height          the spectrogram height ({@code __call__(height=...)}), = the mel bands of
     *                        {@code spectrogram}
     * @param resources       closed with the pipeline (mapped weight files)
     */
    public Video2AudioPipeline(CogVlmEncoder encoder, LlamaTokenizer tokenizer, UNet unet, JsonObject schedulerConfig,
                               VaeDecoder vae, int height, SpectrogramParams spectrogram,
                               List<AutoCloseable> resources) {
        long hidden = encoder.config().hiddenSize();
        if (unet.config().videoEmbedDim() != hidden || unet.config().textEmbedDim() != hidden) {
            throw new IllegalArgumentException("the UNet expects " + unet.config().videoEmbedDim() + "/"
                    + unet.config().textEmbedDim() + "-wide video/text embeddings but CogVLM2 gives " + hidden);
        }
        checkSpectrogram(spectrogram, height);
        if (height % vae.config().scaleFactor() != 0) {
            throw new IllegalArgumentException("spectrogram height " + height + " is not a multiple of the VAE's "
                    + "scale factor " + vae.config().scaleFactor());
        }
        Schedulers.create(schedulerConfig, null); // an unknown or unsupported scheduler fails here, not mid-run
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.unet = unet;
        this.schedulerConfig = schedulerConfig.deepCopy();
        this.vae = vae;
        this.height = height;
        this.converter = new SpectrogramConverter(spectrogram);
        this.resources = resources;
    }

    /**
     * Opens a v2a4j model directory as {@code v2a convert} writes it: {@code cogvlm/} (config.json, safetensors,
     * tokenizer.json), {@code unet/}, {@code vae/}, {@code scheduler/scheduler_config.json}, and optionally
     * {@code pipeline.json} with the spectrogram {@code height} and riffusion's {@code spectrogram_params} (default
     * 512 and riffusion's defaults). The matrix products run in fp32; the cache folder is {@link CacheDir#choose}'s.
     * See {@link #open(Path, Precision, Path)}.
     */
    public static Video2AudioPipeline open(Path modelDir) {
        return open(modelDir, Precision.FP32, null);
    }

    /** {@link #open(Path, Precision, Path)} with the cache folder {@link CacheDir#choose} picks. */
    public static Video2AudioPipeline open(Path modelDir, Precision precision) {
        return open(modelDir, precision, null);
    }

    /**
     * As {@link #open(Path)}, with the matrix products of CogVLM2 and the UNet (linears, attention, convolutions) in
     * {@code precision}: bf16 is the reference's own arithmetic for those two models. The VAE decodes in fp32.
     *
     * <p>Weights are mapped, not read. Every tensor name, shape and dtype is checked first (headers only), and all
     * problems are reported in one error; then every weight is checked for NaN and Inf ({@link WeightsCheck}: once
     * per version of each file, remembered in the cache folder), so a damaged model fails here, not with noise after
     * the whole run.
     *
     * @param cacheDir where the black-video embedding and the weight-check stamps are kept (null: {@link
     *                 CacheDir#choose}); one that cannot be written is skipped with a warning
     */
    public static Video2AudioPipeline open(Path modelDir, Precision precision, Path cacheDir) {
        if (!Files.isDirectory(modelDir)) throw new IllegalArgumentException(modelDir + ": no such model directory");
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Path cog = requireDir(modelDir.resolve("cogvlm"));
            CogVlmConfig cogConfig = CogVlmConfig.read(require(cog.resolve("config.json")));
            TensorSource cogWeights = Safetensors.open(cog);
            opened.add(cogWeights);
            CogVlmEncoder.verifyCheckpoint(cogConfig, cogWeights);
            LlamaTokenizer tokenizer = LlamaTokenizer.load(require(cog.resolve("tokenizer.json")));
            opened.add(tokenizer);

            Path unetDir = requireDir(modelDir.resolve("unet"));
            TensorSource unetWeights = Safetensors.open(unetDir);
            opened.add(unetWeights);
            UNet unet = UNet.load(UNetConfig.read(require(unetDir.resolve("config.json"))), unetWeights, precision);

            Path vaeDir = requireDir(modelDir.resolve("vae"));
            TensorSource vaeWeights = Safetensors.open(vaeDir);
            opened.add(vaeWeights);
            VaeDecoder vae = new VaeDecoder(VaeConfig.read(require(vaeDir.resolve("config.json"))), vaeWeights);

            JsonObject scheduler = Schedulers.readConfig(require(modelDir.resolve("scheduler/scheduler_config.json")));
            Path settings = modelDir.resolve("pipeline.json");
            int height = Defaults.SPECTROGRAM_HEIGHT;
            SpectrogramParams spectrogram = SpectrogramParams.defaults();
            if (Files.exists(settings)) {
                JsonObject o = readJson(require(settings));
                if (o.has("height")) height = o.get("height").getAsInt();
                if (o.has("spectrogram_params")) {
                    spectrogram = SpectrogramParams.fromJson(o.getAsJsonObject("spectrogram_params"));
                }
            }

            Path cache = CacheDir.choose(cacheDir, modelDir);
            Path stamps = cache.resolve(CacheDir.WEIGHT_STAMPS);
            WeightsCheck.fingerprint(unetDir, stamps);
            WeightsCheck.fingerprint(vaeDir, stamps);
            // the black-video embedding depends on the CogVLM2 folder's content: its fingerprint keys the cache
            CogVlmEncoder encoder = new CogVlmEncoder(cogConfig, cogWeights, cache,
                    WeightsCheck.fingerprint(cog, stamps), Defaults.FRAME_CHUNK, precision);
            return new Video2AudioPipeline(encoder, tokenizer, unet, scheduler, vae, height, spectrogram, opened);
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

    private static JsonObject readJson(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public CogVlmEncoder encoder() {
        return encoder;
    }

    /** riffusion's spectrogram parameters this model's audio is made with. */
    public SpectrogramParams spectrogramParams() {
        return converter.params();
    }

    /** K4: {@code width = ((duration_sec*100)//32)*32} spectrogram columns (10 ms each). */
    public static int spectrogramWidth(int durationSec) {
        return ((durationSec * 100) / 32) * 32;
    }

    /** The initial-latent shape for a clip of {@code durationSec} seconds. */
    public long[] latentShape(int durationSec) {
        int f = vae.config().scaleFactor();
        return new long[] {1, unet.config().inChannels(), height / f, spectrogramWidth(durationSec) / f};
    }

    /**
     * The windows the latent of a {@code durationSec}-second video is denoised in: one for up to
     * {@link Defaults#WINDOW_SEC} seconds (the reference's whole clip), else windows of that length's latent width
     * overlapping by at least {@link Defaults#WINDOW_OVERLAP} columns.
     */
    public LatentWindows windows(int durationSec) {
        int window = (int) latentShape(Defaults.WINDOW_SEC)[3];
        return LatentWindows.plan((int) latentShape(durationSec)[3], window, Defaults.WINDOW_OVERLAP);
    }

    /**
     * The frames {@code {first, count}} of {@code video} that window {@code k} is conditioned on: the
     * {@code min(12, duration)} seconds of video from the window's start time ({@code load_video}'s kept frames for
     * that length), moved back to end at the last kept frame where they would run past it. For a single window this
     * is every kept frame, as {@code load_video} takes them.
     */
    public int[] frameSpan(LatentWindows windows, int k, VideoInfo video) {
        int count = VideoReader.keptFrames(Math.min(Defaults.WINDOW_SEC, video.durationSec()), video.fps());
        double startSec = seconds(windows.start(k));
        int first = Math.min((int) Math.floor(startSec * video.fps()), video.totalFrames() - count);
        return new int[] {Math.max(0, first), count};
    }

    /** Where latent column {@code column} begins in the sound, in seconds. */
    private double seconds(int column) {
        // a latent column is scaleFactor spectrogram columns of 10 ms
        return column * (double) vae.config().scaleFactor() / 100;
    }

    /** {@link #generateVideo(VideoJob, GenerationOptions, PipelineListener, BooleanSupplier, Trace)} without a trace. */
    public VideoResult generateVideo(VideoJob job, GenerationOptions options, PipelineListener listener,
                                     BooleanSupplier cancelled) {
        return generateVideo(job, options, listener, cancelled, Trace.OFF);
    }

    /**
     * Video file in, video file out: reads {@code job.input()} as K4's {@code load_video} does (at most the options'
     * max duration; each window of a longer video gets the options' frames from its own stretch, as
     * {@link #frameSpan} says), generates, and writes the output video (muxed as {@code job} says) and the optional
     * WAV and spectrogram PNG. Every output is checked before any work and written all or nothing.
     *
     * @param cancelled checked between stages, between CogVLM2 layers and between denoising steps (and windows);
     *                  when it says true the call ends with {@link CancellationException} and writes nothing
     */
    public VideoResult generateVideo(VideoJob job, GenerationOptions options, PipelineListener listener,
                                     BooleanSupplier cancelled, Trace trace) {
        checkOutputs(job);
        scheduler(options); // the model's own bounds (the step counts its scheduler serves), before the video is read
        Map<Stage, Duration> timings = new EnumMap<>(Stage.class);
        VideoInfo info = timed(Stage.LOAD_VIDEO, listener, timings,
                () -> VideoReader.probe(job.input(), options.maxDurationSec()));
        checkCancelled(cancelled, Stage.LOAD_VIDEO);
        return generateVideo(job, info, options, listener, cancelled, trace, timings);
    }

    /**
     * {@link #generateVideo(VideoJob, GenerationOptions, PipelineListener, BooleanSupplier, Trace)} of a video the
     * caller has probed already ({@link VideoReader#probe} of {@code job.input()} with {@code options}' max duration):
     * the command line probes it before it opens the model, whose first opening reads every weight, so that a bad
     * video costs nothing. The result's timings leave out the probing.
     */
    public VideoResult generateVideo(VideoJob job, VideoInfo info, GenerationOptions options,
                                     PipelineListener listener, BooleanSupplier cancelled, Trace trace) {
        checkOutputs(job);
        if (!info.source().equals(job.input())) {
            throw new IllegalArgumentException("the video was probed from " + info.source() + ", the job asks for "
                    + job.input());
        }
        return generateVideo(job, info, options, listener, cancelled, trace, new EnumMap<>(Stage.class));
    }

    /**
     * Each window's clip is read just before its CogVLM2 pass, so one clip at a time is in memory; with one window
     * that is {@code load_video}'s clip ({@code frameSpan} is then the whole kept stretch).
     */
    private VideoResult generateVideo(VideoJob job, VideoInfo info, GenerationOptions options,
                                      PipelineListener listener, BooleanSupplier cancelled, Trace trace,
                                      Map<Stage, Duration> timings) {
        VideoReader.checkClipSize(info.source(), options.frames(), info.width(), info.height());
        LatentWindows windows = windows(info.durationSec());
        WindowClips clips = k -> {
            int[] span = frameSpan(windows, k, info);
            return VideoReader.sample(info, span[0], span[1], options.frames()).clip();
        };
        GenerationResult r = generate(clips, info.durationSec(), tokenizer().encode(options.prompt()),
                tokenizer().encode(options.negativePrompt()), options, listener, cancelled, trace);
        timings.putAll(r.timings());
        checkCancelled(cancelled, Stage.AUDIO);
        timed(Stage.MUX, listener, timings, () -> {
            try (OutputFiles out = new OutputFiles(job.overwrite())) {
                out.stage(job.output(), tmp -> {
                    if (job.keepVideo()) VideoWriter.muxKeepVideo(job.input(), r.pcm(), r.sampleRate(), tmp);
                    else VideoWriter.muxRetimed(info, r.pcm(), r.sampleRate(), tmp);
                });
                if (job.wav() != null) {
                    out.stage(job.wav(), tmp -> new WavFile(r.sampleRate(), 1, r.pcm()).write(tmp, true));
                }
                if (job.spectrogram() != null) out.stage(job.spectrogram(), tmp -> writePng(r.spectrogram(), tmp));
                out.commit();
            }
            return null;
        });
        return new VideoResult(job.output(), job.wav(), job.spectrogram(), info.durationSec(), r.audioSeconds(),
                r.sampleRate(), timings);
    }

    /** Every output of {@code job} can be written, and no two name the same file. */
    private static void checkOutputs(VideoJob job) {
        List<Path> outputs = new ArrayList<>(List.of(job.output()));
        if (job.wav() != null) outputs.add(job.wav());
        if (job.spectrogram() != null) outputs.add(job.spectrogram());
        for (Path p : outputs) OutputFiles.check(p, job.input(), job.overwrite());
        if (Set.copyOf(outputs.stream().map(p -> p.toAbsolutePath().normalize()).toList()).size() != outputs.size()) {
            throw new IllegalArgumentException("two outputs name the same file: " + outputs);
        }
    }

    /**
     * The scheduler {@code options} ask for, built from this model's config, once it is known to serve
     * {@code options.steps()}: a count it cannot serve fails here in one line, before any expensive work.
     */
    private Scheduler scheduler(GenerationOptions options) {
        Scheduler scheduler = Schedulers.create(schedulerConfig, options.scheduler());
        String problem = scheduler.stepsProblem(options.steps());
        if (problem != null) throw new IllegalArgumentException(problem);
        return scheduler;
    }

    /** Writes {@code image} as PNG to {@code file}. */
    public static void writePng(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) throw new IOException("no PNG writer");
    }

    /** Tokenizes the prompts and runs {@link #generate(INDArray, int, int[], int[], GenerationOptions, PipelineListener, BooleanSupplier, Trace)}. */
    public GenerationResult generate(INDArray clip, int durationSec, GenerationOptions options,
                                     PipelineListener listener, BooleanSupplier cancelled, Trace trace) {
        return generate(clip, durationSec, tokenizer().encode(options.prompt()),
                tokenizer().encode(options.negativePrompt()), options, listener, cancelled, trace);
    }

    private LlamaTokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("this pipeline has no tokenizer: pass token ids");
        return tokenizer;
    }

    /**
     * One generation from a clip {@code (3, T, H, W)} uint8 of at most {@link Defaults#WINDOW_SEC} seconds and token
     * ids (without BOS): the reference's pipeline.
     *
     * @param durationSec the clip's duration as {@code load_video} computes it (sets the spectrogram width)
     * @param cancelled   checked between stages, CogVLM2 layers and denoising steps ({@link CancellationException})
     */
    public GenerationResult generate(INDArray clip, int durationSec, int[] promptIds, int[] negativeIds,
                                     GenerationOptions options, PipelineListener listener, BooleanSupplier cancelled,
                                     Trace trace) {
        if (clip.rank() != 4 || clip.size(0) != 3) {
            throw new IllegalArgumentException("clip must be (3, T, H, W), got " + Arrays.toString(clip.shape()));
        }
        int count = durationSec < 1 ? 1 : windows(durationSec).count();
        if (count != 1) {
            throw new IllegalArgumentException("a " + durationSec + " s video is denoised in " + count
                    + " windows, each with a clip of its own: pass them as WindowClips");
        }
        return generate(k -> clip, durationSec, promptIds, negativeIds, options, listener, cancelled, trace);
    }

    /** The clip each latent window is conditioned on, asked for once per window, in order. */
    @FunctionalInterface
    public interface WindowClips {
        /** Window {@code k}'s clip {@code (3, T, H, W)} uint8; every window's has the same shape. */
        INDArray clip(int k);
    }

    /**
     * One generation of {@code durationSec} seconds of sound: the latent spans the whole duration, is denoised in
     * {@link #windows} (each with its own clip's CogVLM2 embedding; the black clip's, and so its cache entry, is
     * shared), decoded in VAE tiles and turned into audio in one Griffin-Lim run. With one window this is the
     * reference's pipeline exactly.
     *
     * @param clips     the clip of each window ({@link #frameSpan} says which frames a video file gives)
     * @param cancelled checked between stages, CogVLM2 layers, denoising steps and windows
     *                  ({@link CancellationException})
     */
    public GenerationResult generate(WindowClips clips, int durationSec, int[] promptIds, int[] negativeIds,
                                     GenerationOptions options, PipelineListener listener, BooleanSupplier cancelled,
                                     Trace trace) {
        if (durationSec < 1) throw new IllegalArgumentException("video shorter than 1 s: nothing to generate");
        Scheduler scheduler = scheduler(options);
        long[] shape = latentShape(durationSec);
        LatentWindows windows = windows(durationSec);
        INDArray latents = options.latents() != null ? options.latents()
                : DenoiseLoop.randomLatents(options.seed(), shape);
        if (!Arrays.equals(latents.shape(), shape)) {
            throw new IllegalArgumentException("latents must be " + Arrays.toString(shape) + " for a "
                    + durationSec + " s clip, got " + Arrays.toString(latents.shape()));
        }
        FiniteGuard.requireFinite(latents, "the initial latents");
        checkAudioMemory(durationSec, options);
        SpectrogramConverter audioConverter = converter(options);
        Map<Stage, Duration> timings = new EnumMap<>(Stage.class);

        // both prompts in one decoder pass: each layer's weights are loaded (and, for bf16, converted) once
        // every model pass runs under a FiniteGuard: a NaN or Inf stops the run at the block that made it
        List<INDArray> texts = encode(Stage.ENCODE_PROMPT, encoder.textPassSteps(), listener, cancelled, timings,
                () -> FiniteGuard.run(CogVlmEncoder.COMPONENT, "the prompts' token ids",
                        () -> encoder.textEmbeddings(List.of(promptIds, negativeIds))));
        INDArray prompt = texts.get(0);
        INDArray negative = texts.get(1);
        // the reference's order of the four passes: prompt, clip, negative prompt, black clip
        trace.record("extract_text_embedding.out", prompt);
        long[] clipShape = new long[4];
        DataType[] clipType = new DataType[1];
        List<INDArray> videos = encodeWindows(clips, windows, clipShape, clipType, listener, cancelled,
                timings, trace);
        int frames = (int) clipShape[1];
        INDArray black = encode(Stage.ENCODE_BLACK_VIDEO, encoder.videoPassSteps(), listener, cancelled, timings,
                () -> FiniteGuard.run(CogVlmEncoder.COMPONENT, "the black frames",
                        () -> encoder.unconditionalVideoEmbedding(frames, (int) clipShape[2], (int) clipShape[3])));
        trace.record("extract_text_embedding.out", negative);
        if (trace.wants("extract_video_embedding.in.images")) {
            trace.record("extract_video_embedding.in.images", Nd4j.zeros(clipType[0], clipShape));
        }
        trace.record("extract_video_embedding.out", black);
        // Each streamed CogVLM2 layer's weights are file mappings that end only when their buffers are collected; the
        // Java heap barely moves during the passes, so without a collection they stay mapped, and counted in the
        // resident set, through the whole denoising loop (5.7 GB of CogVLM2 pages in a full-size fp32 run). One
        // collection of a nearly empty heap hands them back before the UNet starts.
        System.gc();
        INDArray text = Nd4j.stack(0, negative, prompt);     // (2, 100, hidden): [uncond, cond]
        trace.record("_encode_conditions.out.0", text);
        for (INDArray video : videos) {
            if (trace.wants("_encode_conditions.out.1")) {
                trace.record("_encode_conditions.out.1", Nd4j.stack(0, black, video)); // (2, T, hidden)
            }
        }

        scheduler.setTimesteps(options.steps());
        int evaluations = scheduler.timesteps().length;
        int n = windows.count();
        INDArray finalLatents;
        WindowedDenoiser.WindowListener perWindow = (step, k, of) -> {
            if (of > 1) {
                listener.progress(Stage.DENOISE, (step - 1) * of + k, evaluations * of,
                        "step " + step + "/" + evaluations + ", window " + k + "/" + of);
            }
        };
        try (WindowedDenoiser model = WindowedDenoiser.guided(unet, text, black, videos, windows, options.guidance(),
                options.oneBatch(), perWindow, cancelled)) {
            finalLatents = timed(Stage.DENOISE, evaluations * n, listener, timings, () -> {
                INDArray z = new DenoiseLoop(scheduler).run(model, latents, options.steps(), trace,
                        (done, total, t) -> {
                            if (n == 1) listener.progress(Stage.DENOISE, done, total, "step " + done + "/" + total);
                        },
                        cancelled);
                for (int k = 0; k < n; k++) {
                    listener.window(Stage.DENOISE, k + 1, n, seconds(windows.start(k)), seconds(windows.end(k)),
                            model.time(k));
                }
                return z;
            });
        }
        checkCancelled(cancelled, Stage.DENOISE);

        int tile = windows(Defaults.WINDOW_SEC).window();
        BufferedImage image = timed(Stage.VAE_DECODE, listener, timings, () -> {
            trace.record("vae.decode.in.z", finalLatents.div(vae.config().scalingFactor()));
            INDArray decoded;
            try {
                decoded = FiniteGuard.run("VAE decoder", "the denoised latents",
                        () -> TiledVaeDecode.decode(vae, finalLatents, tile, Defaults.VAE_TILE_OVERLAP));
            } finally {
                vae.releaseBuffers(); // a clip's tiles reuse them; the next clip is minutes away
            }
            return VaeImageProcessor.postprocess(decoded).toBufferedImage();
        });
        checkCancelled(cancelled, Stage.VAE_DECODE);

        SpectrogramConverter.Audio audio = timed(Stage.AUDIO, listener, timings,
                () -> audioConverter.audioFromImage(image, options.seed(), options.griffinLimPhases(), true,
                        options.targetDbfs(), trace));
        return new GenerationResult(image, audio.waveforms()[0], audio.pcm(), audio.sampleRate(), timings);
    }

    /** Every window's CogVLM2 video pass, in one stage whose progress counts windows × layers. */
    private List<INDArray> encodeWindows(WindowClips clips, LatentWindows latentWindows, long[] clipShape,
                                         DataType[] clipType, PipelineListener listener, BooleanSupplier cancelled,
                                         Map<Stage, Duration> timings, Trace trace) {
        int steps = encoder.videoPassSteps();
        int windows = latentWindows.count();
        List<INDArray> videos = new ArrayList<>();
        checkCancelled(cancelled, Stage.ENCODE_VIDEO);
        return timed(Stage.ENCODE_VIDEO, windows * steps, listener, timings, () -> {
            for (int k = 0; k < windows; k++) {
                int window = k;
                INDArray clip = clips.clip(k);
                if (clip.rank() != 4 || clip.size(0) != 3 || (k > 0 && !Arrays.equals(clip.shape(), clipShape))) {
                    throw new IllegalArgumentException("clip of window " + (k + 1) + " must be (3, T, H, W)"
                            + (k > 0 ? " as the first, " + Arrays.toString(clipShape) : "") + ", got "
                            + Arrays.toString(clip.shape()));
                }
                System.arraycopy(clip.shape(), 0, clipShape, 0, 4);
                clipType[0] = clip.dataType();
                encoder.progress((unit, done, total) -> {
                    listener.progress(Stage.ENCODE_VIDEO, window * steps + done, windows * steps,
                            windows == 1 ? unit : "window " + (window + 1) + "/" + windows + ": " + unit);
                    checkCancelled(cancelled, Stage.ENCODE_VIDEO);
                });
                INDArray video;
                long t0 = System.nanoTime();
                try {
                    video = FiniteGuard.run(CogVlmEncoder.COMPONENT, windows == 1 ? "the video's frames"
                            : "the frames of window " + (k + 1) + "/" + windows, () -> encoder.videoEmbedding(clip, Trace.OFF));
                } finally {
                    encoder.progress(null);
                }
                listener.window(Stage.ENCODE_VIDEO, k + 1, windows, seconds(latentWindows.start(k)),
                        seconds(latentWindows.end(k)), Duration.ofNanos(System.nanoTime() - t0));
                trace.record("extract_video_embedding.in.images", clip);
                trace.record("extract_video_embedding.out", video);
                videos.add(video);
            }
            return videos;
        });
    }

    /**
     * Griffin-Lim keeps its phases and spectra on the Java heap, in proportion to the sound's length; a run that
     * could not finish is refused before any work, with what to change.
     */
    private void checkAudioMemory(int durationSec, GenerationOptions options) {
        SpectrogramConverter c = converter(options);
        long need = c.heapBytes(spectrogramWidth(durationSec));
        long max = Runtime.getRuntime().maxMemory();
        if (need > max) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%d s of sound needs about %.1f GB of Java "
                    + "heap for Griffin-Lim, this JVM has %.1f GB: raise it (V2A_HEAP=%dg for the v2a launcher) or "
                    + "cap the length (--max-duration)", durationSec, need / 1e9, max / 1e9,
                    (long) Math.ceil(need / (double) (1L << 30)) + 1));
        }
    }

    /**
     * K4 {@code image_to_audio}: riffusion {@code audio_from_spectrogram_image} (image → mel → inverse mel →
     * Griffin-Lim → int16 → {@code apply_filters}) then {@code set_to_target_level}, with this model's spectrogram
     * parameters and the options' seed (or given phases) and target level.
     */
    public SpectrogramConverter.Audio audioFromSpectrogram(BufferedImage image, GenerationOptions options, Trace trace) {
        return converter(options).audioFromImage(image, options.seed(), options.griffinLimPhases(), true,
                options.targetDbfs(), trace);
    }

    /** The model's converter, or one for the options' parameters, whose mel count must be this model's height. */
    private SpectrogramConverter converter(GenerationOptions options) {
        SpectrogramParams p = options.spectrogram();
        if (p == null || p.equals(converter.params())) return converter;
        checkSpectrogram(p, height);
        return new SpectrogramConverter(p);
    }

    /** The model's spectrograms have {@code height} rows, one per mel band, and the generated sound is mono. */
    private static void checkSpectrogram(SpectrogramParams p, int height) {
        if (p.numFrequencies() != height) {
            throw new IllegalArgumentException(p.numFrequencies() + " mel bands do not fit this model's " + height
                    + "-row spectrograms");
        }
        if (p.stereo()) {
            throw new IllegalArgumentException("stereo spectrogram parameters: the pipeline makes one channel of audio");
        }
    }

    private interface Work<T> {
        T run();
    }

    /** A CogVLM2 pass with per-layer progress; a cancellation ends it at the next layer boundary. */
    private <T> T encode(Stage stage, int steps, PipelineListener listener, BooleanSupplier cancelled,
                         Map<Stage, Duration> timings, Work<T> work) {
        checkCancelled(cancelled, stage);
        encoder.progress((unit, done, total) -> {
            listener.progress(stage, done, total, unit);
            checkCancelled(cancelled, stage);
        });
        try {
            return timed(stage, steps, listener, timings, work);
        } finally {
            encoder.progress(null);
        }
    }

    private static void checkCancelled(BooleanSupplier cancelled, Stage during) {
        if (cancelled.getAsBoolean()) throw new CancellationException("cancelled during " + during.label());
    }

    private static <T> T timed(Stage stage, PipelineListener listener, Map<Stage, Duration> timings, Work<T> work) {
        return timed(stage, 1, listener, timings, work);
    }

    private static <T> T timed(Stage stage, int units, PipelineListener listener, Map<Stage, Duration> timings,
                               Work<T> work) {
        long t0 = System.nanoTime();
        listener.started(stage, units);
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
