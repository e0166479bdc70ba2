package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavFileTest {
    @TempDir
    Path tmp;

    @Test
    void stereoRoundTrip() throws Exception {
        short[] s = {0, 1, -1, 32767, -32768, 1234};
        Path f = tmp.resolve("a.wav");
        new WavFile(22050, 2, s).write(f, false);
        WavFile w = WavFile.read(f);
        assertThat(w.sampleRate).isEqualTo(22050);
        assertThat(w.channels).isEqualTo(2);
        assertThat(w.samples).containsExactly(s);
        assertThat(w.channel(1)).containsExactly(1, 32767, 1234);
        assertThat(Files.size(f)).isEqualTo(44 + 12);
    }

    /** A header like Python's wave / scipy write, with the given format tag and bit depth, plus an extra chunk. */
    static byte[] wav(int format, int bits, boolean listChunk) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(56).put("WAVE".getBytes());
        if (listChunk) b.put("LIST".getBytes()).putInt(4).put("INFO".getBytes());
        b.put("fmt ".getBytes()).putInt(16).putShort((short) format).putShort((short) 1).putInt(8000)
                .putInt(8000 * bits / 8).putShort((short) (bits / 8)).putShort((short) bits);
        b.put("data".getBytes()).putInt(4).putShort((short) 7).putShort((short) -7);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    @Test
    void skipsUnknownChunks() throws Exception {
        Path f = tmp.resolve("l.wav");
        Files.write(f, wav(1, 16, true));
        assertThat(WavFile.read(f).samples).containsExactly((short) 7, (short) -7);
    }

    @Test
    void clearErrors() throws Exception {
        Path notRiff = tmp.resolve("x.wav");
        Files.writeString(notRiff, "ID3 this is an mp3");
        assertThatThrownBy(() -> WavFile.read(notRiff)).isInstanceOf(IOException.class)
                .hasMessage(notRiff + ": not a WAV file (no RIFF/WAVE header)");
        Path fl = tmp.resolve("f.wav");
        Files.write(fl, wav(3, 32, false));
        assertThatThrownBy(() -> WavFile.read(fl)).hasMessageContaining("f.wav: not PCM (WAV format tag 3)");
        Path b24 = tmp.resolve("b.wav");
        Files.write(b24, wav(1, 24, false));
        assertThatThrownBy(() -> WavFile.read(b24)).hasMessageContaining("b.wav: unsupported bit depth 24");
        assertThatThrownBy(() -> WavFile.read(tmp.resolve("none.wav"))).hasMessageContaining("none.wav: cannot read");
    }

    @Test
    void noOverwriteWithoutFlagAndNoTempLeft() throws Exception {
        Path f = tmp.resolve("o.wav");
        Files.writeString(f, "keep");
        assertThatThrownBy(() -> new WavFile(8000, 1, new short[4]).write(f, false))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(f)).isEqualTo("keep");
        new WavFile(8000, 1, new short[4]).write(f, true);
        assertThat(WavFile.read(f).samples).hasSize(4);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("o.wav");
        }
    }
}
