package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.cogvlm.LlamaTokenizer;
import io.github.v2a4j.diffusion.DenoiseLoop;
import io.github.v2a4j.diffusion.Schedulers;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoInfo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.DemoModel;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import io.github.v2a4j.vae.VaeImageProcessor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Long videos on the demo model: up to 12 s (or capped at 12 s) the long-video path is the reference's
 * single-window pipeline bit for bit; a 40 s video gives 40 s of sound from five windows, each conditioned on its
 * own stretch of video, with one black-video pass. These tests check lengths, windows and identity, not the sound,
 * so the model makes 128-row spectrograms (a 16-row latent: a quarter of the UNet's and VAE's work at 512 rows) and
 * Griffin-Lim runs 2 iterations.
 */
class LongVideoTest {

    @TempDir
    static Path dir;

    static Path model;
    static Video2AudioPipeline pipeline;

    static final GenerationOptions FAST = GenerationOptions.defaults().withSteps(2).withFrames(4);

    @BeforeAll
    static void open() throws Exception {
        model = dir.resolve("model");
        DemoModel.write(model);
        Files.writeString(model.resolve("pipeline.json"),
                "{\"height\": 128, \"spectrogram_params\": {\"num_frequencies\": 128, \"num_griffin_lim_iters\": 2}}");
        pipeline = Video2AudioPipeline.open(model);
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    /** {@code seconds} of 48×32 video at {@code fps}; each frame different, so a wrong frame changes the sound. */
    static Path video(String name, int seconds, int fps) {
        Path v = dir.resolve(name);
        VideoWriter.write(v, 48, 32, fps, seconds * fps, i -> {
            byte[] rgb = new byte[48 * 32 * 3];
            for (int p = 0; p < rgb.length; p++) rgb[p] = (byte) (i * 37 + p % 53 + (p / 144) * 3);
            return rgb;
        }, null, 44100);
        return v;
    }

    static float[] floats(short[] pcm) {
        float[] f = new float[pcm.length];
        for (int i = 0; i < f.length; i++) f[i] = pcm[i];
        return f;
    }

    /**
     * The reference's pipeline for one clip, put together from the model's parts as it was before long videos:
     * CogVLM2 passes, the guided UNet over the whole latent in the denoising loop, one VAE decode, the audio.
     */
    static short[] singleWindow(LoadedVideo v, GenerationOptions o) throws Exception {
        try (LlamaTokenizer tok = LlamaTokenizer.load(model.resolve("cogvlm/tokenizer.json"));
             TensorSource unetW = Safetensors.open(model.resolve("unet"));
             TensorSource vaeW = Safetensors.open(model.resolve("vae"))) {
            CogVlmEncoder enc = pipeline.encoder();
            List<INDArray> texts = enc.textEmbeddings(List.of(tok.encode(o.prompt()), tok.encode(o.negativePrompt())));
            INDArray video = enc.videoEmbedding(v.clip(), Trace.OFF);
            INDArray black = enc.unconditionalVideoEmbedding(o.frames(), v.height(), v.width());
            UNet unet = UNet.load(UNetConfig.read(model.resolve("unet/config.json")), unetW);
            INDArray latents;
            try (CfgDenoiser d = new CfgDenoiser(unet, Nd4j.stack(0, texts.get(1), texts.get(0)),
                    Nd4j.stack(0, black, video), o.guidance(), o.oneBatch())) {
                latents = new DenoiseLoop(Schedulers.create(
                        Schedulers.readConfig(model.resolve("scheduler/scheduler_config.json")), null))
                        .run(d, DenoiseLoop.randomLatents(o.seed(), pipeline.latentShape(v.durationSec())), o.steps(),
                                Trace.OFF, DenoiseLoop.StepListener.NONE, () -> false);
            }
            VaeDecoder vae = new VaeDecoder(VaeConfig.read(model.resolve("vae/config.json")), vaeW);
            BufferedImage image = VaeImageProcessor.postprocess(vae.decode(latents, Trace.OFF)).toBufferedImage();
            return pipeline.audioFromSpectrogram(image, o, Trace.OFF).pcm();
        }
    }

    @Test
    void upToTwelveSecondsItIsTheSingleWindowPipelineBitForBit() throws Exception {
        // a 12 s video, whole (the default): one window, every kept frame sampled as load_video samples them
        Path v12 = video("v12.mp4", 12, 6);
        VideoInfo i12 = VideoReader.probe(v12, Defaults.MAX_DURATION_SEC);
        assertThat(i12.durationSec()).isEqualTo(12);
        assertThat(pipeline.windows(12).count()).isEqualTo(1);
        assertThat(pipeline.windows(12).window()).isEqualTo(148);
        assertThat(pipeline.frameSpan(pipeline.windows(12), 0, i12)).containsExactly(0, 72);

        // a 20 s video capped at 12 s: the reference's frames, latent width and output exactly
        Path v20 = video("v20.mp4", 20, 6);
        Path out = Files.createDirectories(dir.resolve("capped"));
        VideoResult r = pipeline.generateVideo(VideoJob.of(v20, out.resolve("o.mp4")).withWav(out.resolve("o.wav")),
                FAST.withMaxDurationSec(12), PipelineListener.NONE, () -> false);
        assertThat(r.videoSeconds()).isEqualTo(12);
        short[] pcm = WavFile.read(out.resolve("o.wav")).samples;
        assertThat(pcm).hasSize(441 * 1183); // 1184 columns, as the reference's 12 s
        LoadedVideo reference = VideoReader.load(v20, 4, 12);
        assertThat(floats(pcm)).containsExactly(floats(singleWindow(reference, FAST)));
    }

    @Test
    void aFortySecondVideoGivesFortySecondsOfSoundFromFiveWindows() throws Exception {
        Path v40 = video("v40.mp4", 40, 4);
        Path out = Files.createDirectories(dir.resolve("long"));
        VideoToVideoTest.Recorder rec = new VideoToVideoTest.Recorder();
        VideoResult r = pipeline.generateVideo(VideoJob.of(v40, out.resolve("o.mp4")).withWav(out.resolve("o.wav"))
                .withSpectrogram(out.resolve("o.png")), FAST, rec, () -> false);

        assertThat(r.videoSeconds()).isEqualTo(40);
        // 4000 spectrogram columns → 441 · 3999 samples: 39.99 s (a 12 s clip gives 11.83 s the same way)
        assertThat(WavFile.read(out.resolve("o.wav")).samples).hasSize(441 * 3999);
        assertThat(r.audioSeconds()).isEqualTo(441 * 3999 / 44100.0);
        BufferedImage spectrogram = ImageIO.read(out.resolve("o.png").toFile());
        assertThat(spectrogram.getWidth()).isEqualTo(4000);
        // every kept frame of the input, re-timed to the sound's length
        assertThat(VideoReader.forEachFrame(out.resolve("o.mp4"), Integer.MAX_VALUE, (i, rgb) -> { })).isEqualTo(160);

        LatentWindows w = pipeline.windows(40);
        assertThat(w.count()).isEqualTo(5);
        // each window's 12 s of video from its own start; the last ends at the last frame
        VideoInfo info = VideoReader.probe(v40, Defaults.MAX_DURATION_SEC);
        int[][] spans = new int[5][];
        for (int k = 0; k < 5; k++) spans[k] = pipeline.frameSpan(w, k, info);
        assertThat(spans).isDeepEqualTo(new int[][] {{0, 48}, {28, 48}, {56, 48}, {84, 48}, {112, 48}});

        // progress counts windows × layers and windows × steps; the black video is encoded once
        assertThat(rec.events).containsSubsequence("start ENCODE_VIDEO 25", "ENCODE_VIDEO 1/25 window 1/5: vision layer 1/2",
                "ENCODE_VIDEO 25/25 window 5/5: decoder layer 2/2", "end ENCODE_VIDEO", "start ENCODE_BLACK_VIDEO 5",
                "start DENOISE 15", "DENOISE 1/15 step 1/3, window 1/5", "DENOISE 15/15 step 3/3, window 5/5",
                "end DENOISE");
        assertThat(rec.events.stream().filter(e -> e.startsWith("start ENCODE_BLACK_VIDEO"))).hasSize(1);
        // each window's share of the video pass and of denoising (--profile), with its stretch of the 500 columns
        assertThat(rec.events).containsSubsequence("window ENCODE_VIDEO 1/5 0.00-11.84",
                "window ENCODE_VIDEO 5/5 28.16-40.00", "end ENCODE_VIDEO", "DENOISE 15/15 step 3/3, window 5/5",
                "window DENOISE 1/5 0.00-11.84", "window DENOISE 2/5 7.04-18.88", "window DENOISE 3/5 14.08-25.92",
                "window DENOISE 4/5 21.12-32.96", "window DENOISE 5/5 28.16-40.00", "end DENOISE");
        try (Stream<Path> cache = Files.list(io.github.v2a4j.io.CacheDir.choose(null, model))) {
            // one black-video embedding for all windows, and the prompt's and negative prompt's text embeddings
            assertThat(cache.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".f32")).toList())
                    .filteredOn(n -> n.startsWith("uncond-video-")).hasSize(1);
        }
        try (Stream<Path> cache = Files.list(io.github.v2a4j.io.CacheDir.choose(null, model))) {
            assertThat(cache.filter(p -> p.getFileName().toString().startsWith("text-"))).hasSize(2);
        }
    }
}
