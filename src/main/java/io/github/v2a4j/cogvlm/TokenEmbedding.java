package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code model.embed_tokens} lookup that reads only the rows a sequence uses. The real table is
 * {@code [128256, 4096]} bf16 (1 GB; 2.1 GB as fp32, and over Java's 2 GB single-mapping limit): converting the whole
 * tensor for a handful of distinct ids would be waste, so rows are read straight from the safetensors file when the
 * source is file-backed and F32/BF16 (header length = first 8 bytes, little-endian). Other sources (in-memory test sources) are
 * indexed through {@link TensorSource#mapped}.
 */
final class TokenEmbedding {

    static final String NAME = "model.embed_tokens.weight";

    private TokenEmbedding() {}

    /** Rows {@code ids} of the table as a new {@code [ids.length, hidden]} float array. */
    static INDArray rows(TensorSource source, int[] ids, int vocab, int hidden) {
        TensorInfo info = source.info(NAME);
        if (info.shape().length != 2 || info.shape()[1] != hidden) {
            throw new IllegalArgumentException(NAME + " is " + info.shapeString() + ", expected [" + vocab + ", " + hidden + "]");
        }
        long rowsInTable = info.shape()[0];
        for (int id : ids) {
            if (id < 0 || id >= rowsInTable) {
                throw new IllegalArgumentException("token id " + id + " outside " + NAME + " " + info.shapeString());
            }
        }
        float[] out = new float[ids.length * hidden];
        if (info.file() != null && Files.isRegularFile(info.file()) && (info.dtype().equals("F32") || info.dtype().equals("BF16"))) {
            readFromFile(info, ids, hidden, out);
        } else {
            INDArray table = source.mapped(NAME);
            for (int r = 0; r < ids.length; r++) {
                float[] row = table.getRow(ids[r]).dup().data().asFloat();
                System.arraycopy(row, 0, out, r * hidden, hidden);
            }
            if (!info.dtype().equals("F32")) Buffers.release(table); // a conversion made for this call, not a mapping
        }
        return Nd4j.create(out, new long[] {ids.length, hidden}, 'c');
    }

    private static void readFromFile(TensorInfo info, int[] ids, int hidden, float[] out) {
        int width = info.dtype().equals("F32") ? 4 : 2;
        try (FileChannel ch = FileChannel.open(info.file(), StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long dataStart = 8 + len.flip().getLong();
            ByteBuffer row = ByteBuffer.allocate(hidden * width).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < ids.length; r++) {
                row.clear();
                readFully(ch, row, dataStart + info.begin() + (long) ids[r] * hidden * width);
                row.flip();
                int o = r * hidden;
                for (int c = 0; c < hidden; c++) {
                    out[o + c] = width == 4 ? row.getFloat() : Float.intBitsToFloat((row.getShort() & 0xffff) << 16);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + NAME + " from " + info.file(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }
}
