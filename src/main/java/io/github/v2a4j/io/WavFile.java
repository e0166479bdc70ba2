package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * 16-bit PCM WAV, mono or stereo. Samples are interleaved {@code short}s ({@code frames × channels}).
 * The reader accepts the plain PCM format tag (1) and WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, skips unknown
 * chunks, and names the file in every error.
 */
public final class WavFile {
    public final int sampleRate;
    public final int channels;
    /** Interleaved samples. */
    public final short[] samples;

    public WavFile(int sampleRate, int channels, short[] samples) {
        if (channels < 1) throw new IllegalArgumentException("channels must be >= 1");
        if (samples.length % channels != 0) throw new IllegalArgumentException("sample count not a multiple of channels");
        this.sampleRate = sampleRate;
        this.channels = channels;
        this.samples = samples;
    }

    public int frames() {
        return samples.length / channels;
    }

    /** Channel {@code c} as its own array. */
    public short[] channel(int c) {
        short[] out = new short[frames()];
        for (int i = 0; i < out.length; i++) out[i] = samples[i * channels + c];
        return out;
    }

    /** Reads a 16-bit PCM WAV; {@link IOException} with a one-line reason otherwise. */
    public static WavFile read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || !tag(bytes, 0, "RIFF") || !tag(bytes, 8, "WAVE"))
            throw new IOException(file + ": not a WAV file (no RIFF/WAVE header)");
        int pos = 12;
        int fmt = -1, ch = 0, rate = 0, bits = 0;
        while (pos + 8 <= bytes.length) {
            String id = new String(bytes, pos, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long size = Integer.toUnsignedLong(b.getInt(pos + 4));
            int body = pos + 8;
            if (id.equals("fmt ")) {
                if (size < 16 || body + 16 > bytes.length) throw new IOException(file + ": truncated fmt chunk");
                fmt = b.getShort(body) & 0xffff;
                ch = b.getShort(body + 2) & 0xffff;
                rate = b.getInt(body + 4);
                bits = b.getShort(body + 14) & 0xffff;
                if (fmt == 0xFFFE && size >= 40 && body + 26 <= bytes.length) fmt = b.getShort(body + 24) & 0xffff;
            } else if (id.equals("data")) {
                if (fmt < 0) throw new IOException(file + ": data chunk before fmt chunk");
                if (fmt != 1) throw new IOException(file + ": not PCM (WAV format tag " + fmt + "); only 16-bit PCM is supported");
                if (bits != 16) throw new IOException(file + ": unsupported bit depth " + bits + "; only 16-bit PCM is supported");
                if (ch < 1 || ch > 2) throw new IOException(file + ": unsupported channel count " + ch + " (mono or stereo only)");
                long avail = Math.min(size, bytes.length - body);
                int n = (int) (avail / 2 / ch) * ch;
                short[] s = new short[n];
                b.position(body);
                b.asShortBuffer().get(s, 0, n);
                return new WavFile(rate, ch, s);
            }
            pos = (int) Math.min(Integer.MAX_VALUE, body + size + (size & 1));
        }
        throw new IOException(file + ": WAV file has no data chunk");
    }

    private static boolean tag(byte[] b, int at, String t) {
        for (int i = 0; i < 4; i++) if (b[at + i] != t.charAt(i)) return false;
        return true;
    }

    /** The file's bytes: RIFF header, 16-byte PCM fmt chunk, data chunk. */
    public byte[] toBytes() {
        int dataBytes = samples.length * 2;
        ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(36 + dataBytes)
                .put("WAVE".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        b.put("fmt ".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(16).putShort((short) 1)
                .putShort((short) channels).putInt(sampleRate).putInt(sampleRate * channels * 2)
                .putShort((short) (channels * 2)).putShort((short) 16);
        b.put("data".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).putInt(dataBytes);
        for (short s : samples) b.putShort(s);
        return b.array();
    }

    /** Writes atomically (temp file in the same folder, then rename); refuses to replace unless {@code overwrite}. */
    public void write(Path file, boolean overwrite) throws IOException {
        writeAtomically(file, toBytes(), overwrite);
    }

    /** Temp file next to {@code file}, then an atomic rename ({@link OutputFile}); the temp file is removed on failure. */
    public static void writeAtomically(Path file, byte[] bytes, boolean overwrite) throws IOException {
        Path abs = file.toAbsolutePath();
        if (!overwrite && Files.exists(abs)) throw new FileAlreadyExistsException(file + ": exists (use --overwrite to replace it)");
        try (OutputFile out = OutputFile.create(abs)) {
            Files.write(out.tmp(), bytes);
            out.commit(overwrite);
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
