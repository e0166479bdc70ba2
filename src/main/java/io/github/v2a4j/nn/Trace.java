package io.github.v2a4j.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where a model reports its intermediate tensors, under the upstream module path
 * ({@code down_blocks.0.attentions.1.transformer_blocks.0.attn1.out}). Golden comparison, {@code --dump} and
 * {@code inspect} are all lookups in a trace.
 *
 * <p>{@link #OFF} records nothing and costs one virtual call per tensor. A recording trace copies what it keeps
 * (the models reuse buffers), in the order the model produced it.
 */
public class Trace {

    /** Records nothing. */
    public static final Trace OFF = new Trace(name -> false);

    private final Predicate<String> filter;
    private final Map<String, INDArray> recorded = new LinkedHashMap<>();

    private Trace(Predicate<String> filter) {
        this.filter = filter;
    }

    /** Records every tensor. */
    public static Trace all() {
        return new Trace(name -> true);
    }

    /** Records tensors whose name matches one of the glob patterns ({@code *} any run of characters, {@code ?} one). */
    public static Trace matching(Iterable<String> globs) {
        StringBuilder re = new StringBuilder();
        for (String g : globs) {
            if (re.length() > 0) re.append('|');
            re.append(globToRegex(g));
        }
        Pattern p = Pattern.compile(re.toString());
        return new Trace(name -> p.matcher(name).matches());
    }

    /** Whether {@code name} would be kept; lets callers skip building a tensor nobody wants. */
    public boolean wants(String name) {
        return filter.test(name);
    }

    /**
     * Keeps a copy of {@code x} under {@code name} if wanted. A repeated name gets {@code @k} on its module path.
     * Under an active {@link FiniteGuard}, a block output is checked for NaN and Inf first, wanted or not.
     */
    public void record(String name, INDArray x) {
        FiniteGuard.check(name, x);
        keep(name, x);
    }

    /**
     * Records a channels-last activation ({@code [B, H, W, C]}, or tokens {@code [B, L, C]}) under its upstream
     * channels-first shape ({@code [B, C, H, W]} / {@code [B, C, L]}); the layout copy is made only when wanted. Under
     * an active {@link FiniteGuard} the channels-last tensor itself is checked first: finiteness does not depend on
     * the layout.
     */
    public void recordChannelsLast(String name, INDArray x) {
        FiniteGuard.check(name, x);
        if (!filter.test(name)) return;
        keep(name, x.rank() == 4 ? x.permute(0, 3, 1, 2) : x.permute(0, 2, 1));
    }

    private void keep(String name, INDArray x) {
        if (!filter.test(name)) return;
        String key = name;
        for (int k = 1; recorded.containsKey(key); k++) key = repeated(name, k);
        recorded.put(key, x.dup('c'));
    }

    /** Recorded tensors in the order they were produced. */
    public Map<String, INDArray> recorded() {
        return recorded;
    }

    /**
     * The name of the k-th repeated call: {@code @k} goes on the module path, before the leaf ({@code .out},
     * {@code .out.<i>}, {@code .in.<x>}), as the Python dump tool writes it: {@code P.out.0} → {@code P@1.out.0}.
     */
    static String repeated(String name, int k) {
        int leaf = leafStart(name);
        return name.substring(0, leaf) + "@" + k + name.substring(leaf);
    }

    private static int leafStart(String name) {
        int best = -1;
        int i = name.lastIndexOf(".out");
        while (i >= 0) {
            int end = i + 4;
            if (end == name.length() || name.charAt(end) == '.') {
                best = i;
                break;
            }
            i = name.lastIndexOf(".out", i - 1);
        }
        int in = name.lastIndexOf(".in.");
        best = Math.max(best, in);
        return best >= 0 ? best : Math.max(0, name.lastIndexOf('.'));
    }

    /** A glob ({@code *} any run of characters, {@code ?} one) as a regular expression. */
    public static String globToRegex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> sb.append(".*");
                case '?' -> sb.append('.');
                default -> sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return sb.toString();
    }
}
