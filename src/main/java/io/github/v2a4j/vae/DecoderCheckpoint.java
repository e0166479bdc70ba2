package io.github.v2a4j.vae;

import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decoder's view of an {@code AutoencoderKL} checkpoint: only {@code decoder.*} and {@code post_quant_conv.*}
 * (the encoder and {@code quant_conv} of a full VAE file are not part of decoding), with legacy mid-block attention
 * names mapped to the current ones as diffusers' {@code _convert_deprecated_attention_blocks} does on load
 * ({@code query/key/value/proj_attn} → {@code to_q/to_k/to_v/to_out.0}; {@code group_norm} is the same in both), and
 * conv-style {@code [C, C, 1, 1]} attention projection weights of old files seen as the linear {@code [C, C]}.
 */
final class DecoderCheckpoint implements TensorSource {

    private static final Pattern LEGACY =
            Pattern.compile("(decoder\\.mid_block\\.attentions\\.\\d+)\\.(query|key|value|proj_attn)\\.(weight|bias)");
    private static final Pattern PROJECTION_WEIGHT =
            Pattern.compile("decoder\\.mid_block\\.attentions\\.\\d+\\.(to_q|to_k|to_v|to_out\\.0)\\.weight");
    private static final Map<String, String> CURRENT =
            Map.of("query", "to_q", "key", "to_k", "value", "to_v", "proj_attn", "to_out.0");

    private final TensorSource file;
    /** name seen by the model → name in the file */
    private final TreeMap<String, String> fileNames = new TreeMap<>();

    DecoderCheckpoint(TensorSource file) {
        this.file = file;
        for (String n : file.names()) {
            if (!n.startsWith("decoder.") && !n.startsWith("post_quant_conv.")) continue;
            Matcher m = LEGACY.matcher(n);
            String current = m.matches() ? m.group(1) + "." + CURRENT.get(m.group(2)) + "." + m.group(3) : n;
            String previous = fileNames.put(current, n);
            if (previous != null) {
                throw new IllegalArgumentException("VAE checkpoint holds both " + previous + " and " + n
                        + " (legacy and current names of the same tensor)");
            }
        }
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(fileNames.keySet());
    }

    @Override
    public boolean contains(String name) {
        return fileNames.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo i = file.info(fileName(name));
        long[] shape = isConvStyle(name, i.shape()) ? new long[] {i.shape()[0], i.shape()[1]} : i.shape();
        return new TensorInfo(name, i.file(), i.dtype(), shape, i.begin(), i.end());
    }

    @Override
    public INDArray mapped(String name) {
        return squeezed(name, file.mapped(fileName(name)));
    }

    @Override
    public INDArray loadFloat(String name) {
        return squeezed(name, file.loadFloat(fileName(name)));
    }

    @Override
    public String toString() {
        return file.toString();
    }

    /** The underlying source belongs to the caller. */
    @Override
    public void close() {}

    private String fileName(String name) {
        String n = fileNames.get(name);
        if (n == null) throw new IllegalArgumentException("VAE checkpoint has no tensor " + name);
        return n;
    }

    private static INDArray squeezed(String name, INDArray t) {
        return isConvStyle(name, t.shape()) ? t.reshape(t.size(0), t.size(1)) : t;
    }

    private static boolean isConvStyle(String name, long[] shape) {
        return shape.length == 4 && shape[2] == 1 && shape[3] == 1 && PROJECTION_WEIGHT.matcher(name).matches();
    }
}
