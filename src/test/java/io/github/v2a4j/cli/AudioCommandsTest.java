package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.WavFile;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code audio-from-spectrogram} / {@code spectrogram-from-audio}: one-line errors (exit 1) that leave no output,
 * and a small successful run of each (small parameters: 2205 Hz, 32 mels, so FFTs stay short).
 */
class AudioCommandsTest {

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        // the lead registers these in Main; added here so the test does not depend on that
        if (!cl.getSubcommands().containsKey("audio-from-spectrogram")) cl.addSubcommand(new AudioFromSpectrogramCommand());
        if (!cl.getSubcommands().containsKey("spectrogram-from-audio")) cl.addSubcommand(new SpectrogramFromAudioCommand());
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static final String[] SMALL = {"--sample-rate", "2205", "--step-ms", "20", "--mels", "32", "--max-freq", "1000"};

    static String[] args(String... a) {
        return Stream.concat(Stream.of(a), Stream.of(SMALL)).toArray(String[]::new);
    }

    void assertOneLineError(Run r, String message) throws Exception {
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("v2a: error: ").contains(message);
        assertThat(r.err().strip()).doesNotContain("\n");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.filter(f -> f.getFileName().toString().contains("out"))).as("no output or temp file left").isEmpty();
        }
    }

    Path png(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, ((x * 7 + y * 13) % 256) * 0x010101);
        Path p = tmp.resolve("in.png");
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    Path wav(int rate, int n) throws Exception {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) s[i] = (short) (8000 * Math.sin(i * 0.3) + 3000 * Math.sin(i * 0.051));
        Path p = tmp.resolve("in.wav");
        new WavFile(rate, 1, s).write(p, false);
        return p;
    }

    @Test
    void unreadableImage() throws Exception {
        Path in = tmp.resolve("in.png");
        Files.writeString(in, "not an image");
        assertOneLineError(run(args("audio-from-spectrogram", in.toString(), tmp.resolve("out.wav").toString())),
                "in.png: unreadable image");
    }

    @Test
    void missingImage() throws Exception {
        assertOneLineError(run(args("audio-from-spectrogram", tmp.resolve("nope.png").toString(), tmp.resolve("out.wav").toString())),
                "nope.png: no such file");
    }

    @Test
    void imageHeightMustBeTheMelCount() throws Exception {
        Path in = png(20, 31);
        assertOneLineError(run(args("audio-from-spectrogram", in.toString(), tmp.resolve("out.wav").toString())),
                "in.png: image height 31 != mel count 32");
    }

    @Test
    void nonWavInput() throws Exception {
        Path in = tmp.resolve("in.wav");
        Files.writeString(in, "definitely not RIFF");
        assertOneLineError(run(args("spectrogram-from-audio", in.toString(), tmp.resolve("out.png").toString())),
                "in.wav: not a WAV file");
    }

    @Test
    void wrongSampleRate() throws Exception {
        Path in = wav(8000, 4000);
        assertOneLineError(run(args("spectrogram-from-audio", in.toString(), tmp.resolve("out.png").toString())),
                "in.wav: sample rate 8000 Hz != 2205 Hz");
    }

    @Test
    void refusesToOverwriteWithoutFlag() throws Exception {
        Path in = wav(2205, 2205);
        Path out = tmp.resolve("keep.png");
        Files.writeString(out, "precious");
        Run r = run(args("spectrogram-from-audio", in.toString(), out.toString()));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("v2a: error: ").contains("keep.png: exists (use --overwrite");
        assertThat(Files.readString(out)).isEqualTo("precious");
    }

    @Test
    void roundTripThroughBothCommands() throws Exception {
        Path in = wav(2205, 2205);
        Path png = tmp.resolve("spec.png");
        Run a = run(args("spectrogram-from-audio", in.toString(), png.toString()));
        assertThat(a.code()).as(a.err()).isZero();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getHeight()).isEqualTo(32);
        assertThat(img.getWidth()).isEqualTo(1 + 2205 / 44);
        Path back = tmp.resolve("back.wav");
        Run b = run(args("audio-from-spectrogram", png.toString(), back.toString(), "--iterations", "8", "--seed", "3"));
        assertThat(b.code()).as(b.err()).isZero();
        WavFile w = WavFile.read(back);
        assertThat(w.sampleRate).isEqualTo(2205);
        assertThat(w.channels).isEqualTo(1);
        assertThat(w.frames()).isEqualTo(44 * (img.getWidth() - 1));
        // apply_filters normalises the peak to 0.1 dB below full scale: 32768·10^(−0.1/20) ≈ 32393
        int peak = 0;
        for (short s : w.samples) peak = Math.max(peak, Math.abs(s));
        assertThat(peak).isBetween(32300, 32400);
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.filter(f -> f.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }
    }
}
