package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code v2a convert} argument handling and error reporting (conversion itself: ModelConverterTest). */
class ConvertCommandTest {

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void missingSourceIsAOneLineError() {
        Path out = tmp.resolve("m");
        Run r = run("convert", "--kandinsky", tmp.resolve("k4").toString(), "--cogvlm", tmp.resolve("cog").toString(),
                "--out", out.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("v2a: error: ").contains("cog/config.json: missing");
        assertThat(r.err().strip()).doesNotContain("\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void badDtypeAndMissingSourceArguments() {
        Run r = run("convert", "--kandinsky", "a", "--out", tmp.resolve("m").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("needs both --kandinsky and --cogvlm");
        r = run("convert", "--kandinsky", "a", "--cogvlm", "b", "--out", tmp.resolve("m").toString(), "--dtype", "f16");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--dtype must be f32, bf16 or keep, not 'f16'");
        r = run("convert", "--out", tmp.resolve("m").toString());
        assertThat(r.err()).contains("give --kandinsky and --cogvlm to convert, or --verify");
    }

    @Test
    void verifyOnlyChecksAnExistingDirectory() throws Exception {
        Path m = tmp.resolve("m");
        Files.createDirectories(m.resolve("unet"));
        Files.writeString(m.resolve("unet/config.json"), "{}");
        Files.writeString(m.resolve("manifest.json"), """
                {"format": "v2a4j-model", "files": {"unet/config.json": {"bytes": 2,
                 "sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}}""");
        Run r = run("convert", "--out", m.toString(), "--verify");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("1 files verified");
        Files.writeString(m.resolve("unet/config.json"), "[]");
        r = run("convert", "--out", m.toString(), "--verify");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("unet/config.json sha256 differs");
    }
}
