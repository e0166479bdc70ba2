package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.synthetic.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code v2a bench long} runs a 14 s synthetic video (two windows) through the pipeline and reports each window and
 * the seams. The model makes 128-row spectrograms with 2 Griffin-Lim iterations: this checks the report, not a time.
 */
class BenchLongCommandTest {

    @TempDir
    Path dir;

    @Test
    void reportsEachWindowAndTheSeams() throws Exception {
        Path model = dir.resolve("model");
        DemoModel.write(model);
        Files.writeString(model.resolve("pipeline.json"),
                "{\"height\": 128, \"spectrogram_params\": {\"num_frequencies\": 128, \"num_griffin_lim_iters\": 2}}");
        GenerateCommandTest.Run r = GenerateCommandTest.run("bench", "long", "--model", model.toString(),
                "--seconds", "14", "--steps", "1", "--frames", "4");
        assertThat(r.exit()).as(r.err()).isZero();
        // 14 s: 1376 spectrogram columns, a 172-column latent, two 148-column windows at 0 and 24
        assertThat(r.out()).contains("14 s of video, 2 window(s) of 148 columns over 172 at [0, 24]")
                .contains("encoding video, window 1/2 (0.00-11.84 s)").contains("denoising, window 2/2 (1.92-13.76 s)")
                .contains("13.75 s of audio").contains("peak RSS")
                .containsPattern("seams: largest spectral flux within 2 columns of a seam / median elsewhere [0-9.]+ ");
    }
}
