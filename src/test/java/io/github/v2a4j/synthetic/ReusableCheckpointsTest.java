package io.github.v2a4j.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.synthetic.UpstreamCheckpoints.Scale;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Shape;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rehearsal's checkpoints are written once per shape and seed, and rewritten whenever they are not complete. */
class ReusableCheckpointsTest {

    @TempDir
    Path dir;

    @Test
    void reusedForTheSameShapeRewrittenOtherwise() throws Exception {
        Shape shape = new Shape(Scale.TINY, 2, 1);
        ReusableCheckpoints.Result first = ReusableCheckpoints.ensure(dir, shape, 5, n -> {});
        assertThat(first.reused()).isFalse();
        assertThat(dir.resolve(ReusableCheckpoints.MARKER)).isRegularFile();
        Path shard = first.cogvlm().resolve("model-00001-of-00006.safetensors");
        FileTime written = Files.getLastModifiedTime(shard);
        assertThat(first.bytes()).isGreaterThan(UpstreamCheckpoints.dataBytes(shape));

        ReusableCheckpoints.Result again = ReusableCheckpoints.ensure(dir, shape, 5, n -> {});
        assertThat(again.reused()).isTrue();
        assertThat(again.bytes()).isEqualTo(first.bytes());
        assertThat(Files.getLastModifiedTime(shard)).isEqualTo(written);

        // another seed or another layer count is another checkpoint
        assertThat(ReusableCheckpoints.holds(dir, shape, 6)).isFalse();
        assertThat(ReusableCheckpoints.holds(dir, new Shape(Scale.TINY, 2, 2), 5)).isFalse();

        // a file cut short (a disk that filled up, a copy that stopped) is noticed and the checkpoint rewritten
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 8);
        }
        assertThat(ReusableCheckpoints.holds(dir, shape, 5)).isFalse();
        ReusableCheckpoints.Result rewritten = ReusableCheckpoints.ensure(dir, shape, 5, n -> {});
        assertThat(rewritten.reused()).isFalse();
        assertThat(rewritten.bytes()).isEqualTo(first.bytes());

        // a write that stopped before its marker is not trusted
        Files.delete(dir.resolve(ReusableCheckpoints.MARKER));
        assertThat(ReusableCheckpoints.holds(dir, shape, 5)).isFalse();
    }

    @Test
    void theSameSeedWritesTheSameBytes() throws Exception {
        Shape shape = new Shape(Scale.TINY, 1, 1);
        ReusableCheckpoints.ensure(dir.resolve("a"), shape, 9, n -> {});
        ReusableCheckpoints.ensure(dir.resolve("b"), shape, 9, n -> {});
        for (String f : new String[] {"cogvlm2-video-llama3-chat/model-00001-of-00006.safetensors",
                "cogvlm2-video-llama3-chat/model.safetensors.index.json",
                "kandinsky-4-v2a/unet/diffusion_pytorch_model.safetensors"}) {
            assertThat(Files.mismatch(dir.resolve("a").resolve(f), dir.resolve("b").resolve(f))).as(f).isEqualTo(-1);
        }
    }
}
