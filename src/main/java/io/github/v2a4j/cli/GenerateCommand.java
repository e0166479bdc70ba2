package io.github.v2a4j.cli;

import io.github.v2a4j.diffusion.Schedulers;
import io.github.v2a4j.io.SafetensorsWriter;
import io.github.v2a4j.io.video.VideoInfo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.AttentionHeatmap;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.OutputFiles;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.TraceProfile;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.VideoJob;
import io.github.v2a4j.pipeline.VideoResult;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code v2a generate VIDEO}: the whole pipeline, video in, video with generated sound out, through
 * {@link Video2AudioPipeline#generateVideo}. This class reads the arguments, checks the outputs, reads the video before
 * it opens the model, and prints.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, defaultValueProvider = DefaultValues.class,
        description = {
            "Generate a sound track for VIDEO and write the video back with it (H.264 + AAC mp4).",
            "Samples --frames frames over at most --max-duration seconds, encodes them and the prompts with CogVLM2, "
                    + "denoises a spectrogram latent with classifier-free guidance, decodes it with the VAE and turns "
                    + "it into audio (inverse mel + Griffin-Lim), levelled to --target-dbfs.",
            "A video longer than 12 s is denoised in overlapping 12 s windows, each with --frames frames of its own "
                    + "stretch; each window costs one CogVLM2 video pass and one guided UNet evaluation per step.",
            "Several videos, a folder of videos (with --out-dir) or --manifest run as a batch: one model load, "
                    + "a journal in the output folder so a rerun resumes, a summary at the end (exit 1 if any failed).",
            "Without --model the bundled demo model is used: random weights, so the sound is noise."},
        footer = {"", "Examples:", "  ./v2a generate assets/sample.mp4 --out v2a-demo.mp4",
            "  ./v2a generate clips/ --out-dir out/ --skip-existing",
            "  ./v2a generate --manifest jobs.csv --out-dir out/   (columns: video,out,prompt,negative_prompt,seed,"
                    + "max_duration)"})
public final class GenerateCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", paramLabel = "VIDEO",
            description = "Input video (any format FFmpeg reads; never modified), or several, or folders of them "
                    + "(with --out-dir).")
    List<Path> videos;

    /** The one input of a single-video run. */
    private Path video;

    @Option(names = {"-o", "--out"}, paramLabel = "OUT.mp4",
            description = "Output video (default: <VIDEO name>.v2a.mp4 in the current directory).")
    Path out;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory made by 'v2a convert' (default: $V2A_MODEL, else the bundled demo model).")
    Path model;

    @Option(names = "--prompt", description = "Prompt (default: \"${DEFAULT-VALUE}\").")
    String prompt;

    @Option(names = "--negative-prompt", description = "Negative prompt (default: \"${DEFAULT-VALUE}\").")
    String negativePrompt;

    @Option(names = "--steps", description = "Denoising steps (default: ${DEFAULT-VALUE}; PNDM makes one more UNet "
            + "evaluation than steps).")
    int steps;

    @Option(names = "--guidance", description = "Classifier-free guidance scale, > 1 (default: ${DEFAULT-VALUE}).")
    float guidance;

    @Option(names = "--scheduler", paramLabel = "NAME",
            description = "Scheduler instead of the model's scheduler_config.json one: ${COMPLETION-CANDIDATES} "
                    + "(or ddim, pndm), built from the model's config as diffusers' from_config does.",
            completionCandidates = SchedulerNames.class)
    String scheduler;

    @Option(names = "--seed", description = "Seed of the initial latents and Griffin-Lim phases (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--frames", description = "Frames sampled from the video (default: ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--max-duration", paramLabel = "SECONDS",
            description = "Longest stretch of video used, in seconds (default: the whole video; 12 is the "
                    + "reference, which cuts there).")
    int maxDuration;

    @Option(names = "--target-dbfs", paramLabel = "DBFS",
            description = "Loudness the audio is set to, in dBFS (default: ${DEFAULT-VALUE}).")
    double targetDbfs;

    @Mixin
    SpectrogramOptions spectrogram = new SpectrogramOptions();

    @Option(names = "--keep-video",
            description = "Keep the input's video stream untouched (packet copy), audio padded to its length. "
                    + "Default: as the reference, the used frames re-timed to the audio's length.")
    boolean keepVideo;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "Arithmetic of the CogVLM2 and UNet matrix products: fp32, or bf16 (the reference's own; "
                    + "fp32 accumulation, norms and softmax) (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--cfg", paramLabel = "batch|split",
            description = "Guidance as one batch-2 UNet call or two batch-1 calls (default: ${DEFAULT-VALUE}).")
    String cfgMode;

    @Option(names = "--save-spectrogram", paramLabel = "PNG", description = "Also write the spectrogram image.")
    Path saveSpectrogram;

    @Option(names = "--save-wav", paramLabel = "WAV", description = "Also write the audio as 16-bit WAV.")
    Path saveWav;

    @Option(names = "--dump", paramLabel = "NAMES", split = ",",
            description = "Write these intermediate tensors (upstream names, * and ? wildcards, e.g. "
                    + "'_encode_conditions.*,scheduler.step@50.out.0') to --dump-out.")
    List<String> dump;

    @Option(names = "--dump-out", paramLabel = "FILE",
            description = "Safetensors file for --dump (default: OUT with .dump.safetensors).")
    Path dumpOut;

    @Option(names = "--attention-map", paramLabel = "LAYER",
            description = "Render this UNet layer's video attention (audio time × video frame, averaged over heads, "
                    + "frequency and denoising steps) as a PNG, e.g. "
                    + "'up_blocks.3.attentions.2.transformer_blocks.0.attn1'.")
    String attentionLayer;

    @Option(names = "--attention-map-out", paramLabel = "PNG",
            description = "File for --attention-map (default: OUT with .attention.png).")
    Path attentionOut;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the black-video embedding and the weight-check stamps are kept (default: "
                    + "$V2A_CACHE_DIR, else <model>.v2a4j-cache beside the model when writable, else "
                    + "$XDG_CACHE_HOME/v2a4j or ~/.cache/v2a4j). A cache that cannot be written is skipped with a "
                    + "warning.")
    Path cacheDir;

    @Option(names = "--profile", paramLabel = "FILE.json",
            description = "Write a trace-event profile: wall time per stage, CogVLM2 layer, denoising step and latent "
                    + "window (a video longer than 12 s has several), resident "
                    + "memory (anonymous and file-backed) every 0.5 s. Opens in ui.perfetto.dev or chrome://tracing.")
    Path profile;

    @Option(names = "--overwrite", description = "Replace existing output files.")
    boolean overwrite;

    @Option(names = "--out-dir", paramLabel = "DIR",
            description = "Batch: write <video name>.v2a.mp4 for each video here, and the batch journal.")
    Path outDir;

    @Option(names = "--manifest", paramLabel = "FILE",
            description = "Batch: the videos to do, CSV with a header row or JSON Lines; fields video, out, prompt, "
                    + "negative_prompt, seed, max_duration, all but video optional, paths relative to FILE "
                    + "(outputs default to --out-dir, else FILE's folder).")
    Path manifest;

    @Option(names = "--skip-existing", description = "Batch: skip items whose output exists.")
    boolean skipExisting;

    @Option(names = "--verbose", description = "Print stack traces of errors and FFmpeg's own log.")
    boolean verbose;

    /** The registered scheduler names, for the help text. */
    static final class SchedulerNames extends ArrayList<String> {
        SchedulerNames() {
            super(Schedulers.names());
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        checkText("prompt", prompt);
        checkText("negative prompt", negativePrompt);
        if (!"batch".equals(cfgMode) && !"split".equals(cfgMode)) {
            throw new IllegalArgumentException("--cfg must be 'batch' or 'split', not '" + cfgMode + "'");
        }
        Precision precisionOption = Precision.parse(precision);
        if (videos == null) videos = List.of();
        if (manifest != null || outDir != null || videos.size() > 1
                || (videos.size() == 1 && Files.isDirectory(videos.get(0)))) {
            return batch(err, precisionOption);
        }
        if (videos.isEmpty()) throw new IllegalArgumentException("give a VIDEO, several, a folder, or --manifest");
        video = videos.get(0);
        if (!Files.isRegularFile(video)) throw new IllegalArgumentException(video + ": no such video file");
        if (!Files.isReadable(video)) throw new IllegalArgumentException(video + ": not readable");
        if (out == null) out = Path.of(stem(video) + ".v2a.mp4");
        if (dump != null && dumpOut == null) dumpOut = Path.of(out + ".dump.safetensors");
        if (attentionLayer != null && attentionOut == null) attentionOut = Path.of(out + ".attention.png");
        VideoJob job = new VideoJob(video, out, keepVideo, saveWav, saveSpectrogram, overwrite);
        for (Path p : new Path[] {out, saveWav, saveSpectrogram, dumpOut, attentionOut, profile}) {
            if (p != null) OutputFiles.check(p, video, overwrite);
        }
        GenerationOptions options = options();

        List<String> wanted = new ArrayList<>();
        if (dump != null) wanted.addAll(dump);
        String mapName = attentionLayer == null ? null : AttentionHeatmap.traceName(attentionLayer);
        if (mapName != null) wanted.add(mapName.replace(".out", "*.out"));
        Trace trace = wanted.isEmpty() ? Trace.OFF : Trace.matching(wanted);

        ProgressBar progress = new ProgressBar(err, System.console() != null);
        TraceProfile profiler = profile == null ? null : new TraceProfile(profile, "v2a generate");
        PipelineListener listener = profiler == null ? progress : PipelineListener.all(progress, profiler);
        VideoInfo info;
        Duration readTime;
        Video2AudioPipeline pipeline;
        try {
            // the video (probed: each window's frames are read later) before the model: a model's first opening reads every weight, which a bad video must not cost
            long t0 = System.nanoTime();
            listener.started(Stage.LOAD_VIDEO, 1);
            info = VideoReader.probe(video, options.maxDurationSec());
            VideoReader.checkClipSize(video, options.frames(), info.width(), info.height());
            readTime = Duration.ofNanos(System.nanoTime() - t0);
            listener.finished(Stage.LOAD_VIDEO, readTime);
            pipeline = Video2AudioPipeline.open(modelDir(model, err), precisionOption, cacheDir);
        } catch (RuntimeException e) {
            // a video or a model that cannot be opened leaves no profile behind
            if (profiler != null) {
                profiler.close();
                Files.deleteIfExists(profile);
            }
            throw e;
        }

        VideoResult result;
        BufferedImage attentionMap = null;
        try (pipeline; profiler) {
            options = options.withSpectrogram(spectrogram.params(pipeline.spectrogramParams()));
            result = pipeline.generateVideo(job, info, options, listener, () -> false, trace);
            if (mapName != null) {
                // each window's UNet sees one window's columns; a long video's map is the average over its windows
                long[] latent = pipeline.latentShape(result.videoSeconds());
                attentionMap = attentionMap(trace, mapName, (int) latent[2],
                        pipeline.windows(result.videoSeconds()).window());
            }
        }
        if (dump != null) writeDump(trace, dump, dumpOut);
        if (attentionMap != null) {
            BufferedImage map = attentionMap;
            try (OutputFiles files = new OutputFiles(overwrite)) {
                files.stage(attentionOut, tmp -> Video2AudioPipeline.writePng(map, tmp));
                files.commit();
            }
        }
        Map<Stage, Duration> timings = new EnumMap<>(Stage.class);
        timings.put(Stage.LOAD_VIDEO, readTime);
        timings.putAll(result.timings());
        System.out.println(summary(result, timings));
        return 0;
    }

    /** The options the command line sets (the spectrogram's come from the model, once it is open). */
    private GenerationOptions options() {
        return GenerationOptions.defaults().withPrompts(prompt, negativePrompt)
                .withSteps(steps).withGuidance(guidance).withSeed(seed).withFrames(frames)
                .withMaxDurationSec(maxDuration).withTargetDbfs(targetDbfs).withOneBatch("batch".equals(cfgMode))
                .withScheduler(scheduler);
    }

    /** Many videos through one open model ({@link BatchRun}); the list is checked before the model is opened. */
    private int batch(PrintStream err, Precision precisionOption) {
        if (manifest != null && !videos.isEmpty()) {
            throw new IllegalArgumentException("give either VIDEO arguments or --manifest, not both");
        }
        for (Object[] o : new Object[][] {{"--out", out}, {"--save-wav", saveWav},
            {"--save-spectrogram", saveSpectrogram}, {"--dump", dump}, {"--attention-map", attentionLayer},
            {"--profile", profile}}) {
            if (o[1] != null) throw new IllegalArgumentException(o[0] + " names one file: not with a batch");
        }
        Path folder = outDir != null ? outDir : manifest != null ? BatchManifest.folderOf(manifest) : null;
        if (folder == null) throw new IllegalArgumentException("a batch of videos needs --out-dir");
        if (!Files.isDirectory(folder)) throw new IllegalArgumentException(folder + ": no such output folder");
        List<BatchItem> items = manifest != null ? BatchManifest.read(manifest, folder)
                : BatchManifest.fromPaths(videos, folder);
        for (BatchItem it : items) {
            checkText("prompt of " + it.source(), it.prompt() == null ? "" : it.prompt());
            checkText("negative prompt of " + it.source(), it.negativePrompt() == null ? "" : it.negativePrompt());
        }
        GenerationOptions options = options();
        Path modelDir = modelDir(model, err);
        ProgressBar progress = new ProgressBar(err, System.console() != null);
        try (Video2AudioPipeline pipeline = Video2AudioPipeline.open(modelDir, precisionOption)) {
            options = options.withSpectrogram(spectrogram.params(pipeline.spectrogramParams()));
            return new BatchRun(items, folder, options, keepVideo, overwrite, skipExisting, modelDir, precisionOption,
                    progress, err, System.out).run(pipeline);
        }
    }

    private BufferedImage attentionMap(Trace trace, String mapName, int latentHeight, int latentWidth) {
        String module = mapName.substring(0, mapName.length() - ".out".length());
        List<INDArray> maps = new ArrayList<>();
        trace.recorded().forEach((name, a) -> {
            if (name.startsWith(module) && name.endsWith(".out")) maps.add(a);
        });
        if (maps.isEmpty()) {
            throw new IllegalArgumentException("--attention-map: no video attention named '" + attentionLayer
                    + "' (layers look like down_blocks.0.attentions.0.transformer_blocks.0.attn1)");
        }
        return AttentionHeatmap.render(maps, latentHeight, latentWidth, 4);
    }

    /** {@code --model}, else $V2A_MODEL, else the bundled demo model (said on {@code err}). */
    static Path modelDir(Path model, PrintStream err) {
        if (model != null) return model;
        String env = System.getenv("V2A_MODEL");
        if (env != null && !env.isBlank()) return Path.of(env);
        Path demo = Path.of(System.getProperty("v2a.home", ".")).resolve("assets/demo-model");
        err.println("v2a: no --model given: using the demo model " + demo
                + " (random weights, structure only: the sound is noise)");
        return demo;
    }

    /**
     * A prompt given as bytes that are not UTF-8 reaches Java with U+FFFD replacement characters (the JVM decodes
     * arguments as UTF-8 here); the reference would tokenize something else, so refuse rather than guess.
     */
    static void checkText(String what, String text) {
        if (text.indexOf('\uFFFD') >= 0) throw new IllegalArgumentException("the " + what + " is not valid UTF-8");
    }

    private void writeDump(Trace trace, List<String> globs, Path target) {
        Trace selected = Trace.matching(globs); // the trace may also hold tensors kept for --attention-map
        Map<String, INDArray> got = new LinkedHashMap<>();
        trace.recorded().forEach((name, a) -> {
            if (selected.wants(name)) got.put(name, a);
        });
        if (got.isEmpty()) {
            throw new IllegalArgumentException("--dump matched no tensor; names look like '_encode_conditions.out.0', "
                    + "'unet@3.out.0', 'scheduler.step@50.out.0', 'vae.decode.in.z', 'spectrogram_from_image.out'");
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("producer", "v2a4j generate --dump");
        got.forEach((name, a) -> w.put(name, a.castTo(DataType.FLOAT)));
        try (OutputFiles files = new OutputFiles(overwrite)) {
            files.stage(target, w::write);
            files.commit();
        }
    }

    private static String summary(VideoResult r, Map<Stage, Duration> timings) {
        StringBuilder sb = new StringBuilder();
        Duration total = timings.values().stream().reduce(Duration.ZERO, Duration::plus);
        sb.append(String.format("v2a: wrote %s (%.2f s of audio at %d Hz) in %s:", r.video(), r.audioSeconds(),
                r.sampleRate(), ProgressBar.format(total)));
        for (Stage s : Stage.values()) {
            Duration d = timings.get(s);
            if (d != null) sb.append(' ').append(s.label()).append(' ').append(ProgressBar.format(d)).append(',');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    private static String stem(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
