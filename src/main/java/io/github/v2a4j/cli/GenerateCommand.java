package io.github.v2a4j.cli;

import io.github.v2a4j.io.OutputFile;
import io.github.v2a4j.io.SafetensorsWriter;
import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.AttentionHeatmap;
import io.github.v2a4j.pipeline.GenerationLimits;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.GenerationResult;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code v2a generate VIDEO}: the whole pipeline, video in, video with generated sound out. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {
            "Generate a sound track for VIDEO and write the video back with it (H.264 + AAC mp4).",
            "Samples 96 frames over at most 12 s, encodes them and the prompts with CogVLM2, denoises a spectrogram "
                    + "latent (PNDM, 50 steps, guidance 8), decodes it with the VAE and turns it into 44.1 kHz audio "
                    + "(inverse mel + Griffin-Lim), levelled to -30 dBFS.",
            "Without --model the bundled demo model is used: random weights, so the sound is noise."},
        footer = {"", "Example:", "  ./v2a generate assets/sample.mp4 --out /tmp/v2a-demo.mp4"})
public final class GenerateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "VIDEO", description = "Input video (any format FFmpeg reads). Never modified.")
    Path video;

    @Option(names = {"-o", "--out"}, paramLabel = "OUT.mp4",
            description = "Output video (default: <VIDEO name>.v2a.mp4 in the current directory).")
    Path out;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory made by 'v2a convert' (default: $V2A_MODEL, else the bundled demo model).")
    Path model;

    @Option(names = "--prompt", description = "Prompt (default: \"${DEFAULT-VALUE}\").",
            defaultValue = GenerationOptions.DEFAULT_PROMPT)
    String prompt;

    @Option(names = "--negative-prompt", description = "Negative prompt (default: \"${DEFAULT-VALUE}\").",
            defaultValue = GenerationOptions.DEFAULT_NEGATIVE_PROMPT)
    String negativePrompt;

    @Option(names = "--steps", description = "Denoising steps (default: ${DEFAULT-VALUE}; 51 UNet evaluations).",
            defaultValue = "50")
    int steps;

    @Option(names = "--guidance", description = "Classifier-free guidance scale, > 1 (default: ${DEFAULT-VALUE}).",
            defaultValue = "8")
    float guidance;

    @Option(names = "--seed", description = "Seed of the initial latents and Griffin-Lim phases (default: ${DEFAULT-VALUE}).",
            defaultValue = "0")
    long seed;

    @Option(names = "--frames", description = "Frames sampled from the video (default: ${DEFAULT-VALUE}).",
            defaultValue = "96")
    int frames;

    @Option(names = "--max-duration", paramLabel = "SECONDS",
            description = "Longest stretch of video used, in seconds (default: ${DEFAULT-VALUE}).", defaultValue = "12")
    int maxDuration;

    @Option(names = "--keep-video",
            description = "Keep the input's video stream untouched (packet copy), audio padded to its length. "
                    + "Default: as the reference, the used frames re-timed to the audio's length.")
    boolean keepVideo;

    @Option(names = "--cfg", paramLabel = "batch|split", defaultValue = "batch",
            description = "Guidance as one batch-2 UNet call (default) or two batch-1 calls.")
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

    @Option(names = "--overwrite", description = "Replace existing output files.")
    boolean overwrite;

    @Option(names = "--verbose", description = "Print stack traces of errors and FFmpeg's own log.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        checkText("prompt", prompt);
        checkText("negative prompt", negativePrompt);
        if (!Files.isRegularFile(video)) throw new IllegalArgumentException(video + ": no such video file");
        if (!Files.isReadable(video)) throw new IllegalArgumentException(video + ": not readable");
        if (out == null) out = Path.of(stem(video) + ".v2a.mp4");
        if (dump != null && dumpOut == null) dumpOut = Path.of(out + ".dump.safetensors");
        if (attentionLayer != null && attentionOut == null) attentionOut = Path.of(out + ".attention.png");
        for (Path p : outputs()) checkOutput(p);
        if (!"batch".equals(cfgMode) && !"split".equals(cfgMode)) {
            throw new IllegalArgumentException("--cfg must be 'batch' or 'split', not '" + cfgMode + "'");
        }
        GenerationLimits.frames(frames);
        GenerationLimits.maxDuration(maxDuration);
        GenerationOptions options = GenerationOptions.defaults().withPrompts(prompt, negativePrompt)
                .withSteps(steps).withGuidance(guidance).withSeed(seed).withOneBatch("batch".equals(cfgMode));

        Path modelDir = modelDir(err);
        ProgressBar progress = new ProgressBar(err, System.console() != null);
        long t0 = System.nanoTime();
        progress.started(Stage.LOAD_VIDEO, 1);
        LoadedVideo loaded = VideoReader.load(video, frames, maxDuration);
        progress.finished(Stage.LOAD_VIDEO, Duration.ofNanos(System.nanoTime() - t0));

        List<String> wanted = new ArrayList<>();
        if (dump != null) wanted.addAll(dump);
        String mapName = attentionLayer == null ? null : AttentionHeatmap.traceName(attentionLayer);
        if (mapName != null) wanted.add(mapName.replace(".out", "*.out"));
        Trace trace = wanted.isEmpty() ? Trace.OFF : Trace.matching(wanted);
        GenerationResult result;
        long[] latent;
        try (Video2AudioPipeline pipeline = Video2AudioPipeline.open(modelDir, cacheDir)) {
            latent = pipeline.latentShape(loaded.durationSec());
            result = pipeline.generate(loaded.clip(), loaded.durationSec(), options, progress, trace);
        }
        BufferedImage attentionMap = null;
        if (mapName != null) {
            String module = mapName.substring(0, mapName.length() - ".out".length());
            List<INDArray> maps = new ArrayList<>();
            trace.recorded().forEach((name, a) -> {
                if (name.startsWith(module) && name.endsWith(".out")) maps.add(a);
            });
            if (maps.isEmpty()) {
                throw new IllegalArgumentException("--attention-map: no video attention named '" + attentionLayer
                        + "' (layers look like down_blocks.0.attentions.0.transformer_blocks.0.attn1)");
            }
            attentionMap = AttentionHeatmap.render(maps, (int) latent[2], (int) latent[3], 4);
        }

        long m0 = System.nanoTime();
        progress.started(Stage.MUX, 1);
        if (keepVideo) {
            VideoWriter.muxKeepVideo(video, result.pcm(), result.sampleRate(), out);
        } else {
            VideoWriter.muxRetimed(loaded, result.pcm(), result.sampleRate(), out);
        }
        if (saveWav != null) new WavFile(result.sampleRate(), 1, result.pcm()).write(saveWav, true);
        if (saveSpectrogram != null) writePng(result.spectrogram(), saveSpectrogram);
        if (dump != null) writeDump(trace, dump, dumpOut);
        if (attentionMap != null) writePng(attentionMap, attentionOut);
        progress.finished(Stage.MUX, Duration.ofNanos(System.nanoTime() - m0));

        System.out.println(summary(result, progress.timings(), Duration.ofNanos(System.nanoTime() - t0)));
        return 0;
    }

    private Path modelDir(PrintStream err) {
        if (model != null) return model;
        String env = System.getenv("V2A_MODEL");
        if (env != null && !env.isBlank()) return Path.of(env);
        Path demo = Path.of(System.getProperty("v2a.home", ".")).resolve("assets/demo-model");
        err.println("v2a: no --model given: using the demo model " + demo
                + " (random weights, structure only: the sound is noise)");
        return demo;
    }

    private List<Path> outputs() {
        List<Path> list = new ArrayList<>();
        list.add(out);
        if (saveSpectrogram != null) list.add(saveSpectrogram);
        if (saveWav != null) list.add(saveWav);
        if (dumpOut != null) list.add(dumpOut);
        if (attentionOut != null) list.add(attentionOut);
        return list;
    }

    /** Fails before any work if an output could not be written, or would replace something it should not. */
    private void checkOutput(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.exists(abs) && Files.isSameFile(abs, video)) {
            throw new IllegalArgumentException(p + ": output would overwrite the input video");
        }
        if (Files.isDirectory(abs)) throw new IllegalArgumentException(p + ": is a directory");
        if (Files.exists(abs) && !overwrite) {
            throw new IllegalArgumentException(p + ": already exists (use --overwrite to replace it)");
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException(p + ": no such directory " + dir);
        if (!Files.isWritable(dir)) throw new IllegalArgumentException(p + ": directory " + dir + " is not writable");
    }

    /**
     * A prompt given as bytes that are not UTF-8 reaches Java with U+FFFD replacement characters (the JVM decodes
     * arguments as UTF-8 here); the reference would tokenize something else, so refuse rather than guess.
     */
    static void checkText(String what, String text) {
        if (text.indexOf('\uFFFD') >= 0) throw new IllegalArgumentException("the " + what + " is not valid UTF-8");
    }

    private static void writePng(BufferedImage image, Path target) throws Exception {
        OutputFile.write(target, true, tmp -> {
            if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer");
        });
    }

    private static void writeDump(Trace trace, List<String> globs, Path target) {
        Trace selected = Trace.matching(globs); // the trace may also hold tensors kept for --attention-map
        Map<String, INDArray> got = new java.util.LinkedHashMap<>();
        trace.recorded().forEach((name, a) -> {
            if (selected.wants(name)) got.put(name, a);
        });
        if (got.isEmpty()) {
            throw new IllegalArgumentException("--dump matched no tensor; names look like '_encode_conditions.out.0', "
                    + "'unet@3.out.0', 'scheduler.step@50.out.0', 'vae.decode.in.z', 'spectrogram_from_image.out'");
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("producer", "v2a4j generate --dump");
        got.forEach((name, a) -> w.put(name, a.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)));
        w.write(target);
    }

    private String summary(GenerationResult r, Map<Stage, Duration> timings, Duration total) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("v2a: wrote %s (%.2f s of audio at %d Hz) in %s:", out, r.audioSeconds(),
                r.sampleRate(), ProgressBar.format(total)));
        Map<Stage, Duration> all = new java.util.EnumMap<>(Stage.class);
        all.putAll(r.timings());
        all.putAll(timings);
        for (Stage s : Stage.values()) {
            Duration d = all.get(s);
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
