package io.github.v2a4j.convert;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code weights-converter/*.expected.tsv} manifest: every tensor name a published checkpoint holds, its shape in
 * config symbols (so the same manifest checks a real checkpoint and a tiny test one against their config.json), the
 * shape at the published size, and whether the pipeline uses it ({@code keep}) or the converter drops it.
 */
public record ExpectedTensors(String resource, List<Entry> entries, Map<String, Long> publishedSymbols,
                              List<String> dropPrefixes) {

    public static final String COGVLM = "cogvlm2-video-llama3-chat.expected.tsv";
    public static final String UNET = "kandinsky4-v2a-unet.expected.tsv";
    public static final String VAE = "vae-decoder.expected.tsv";

    /** @param dims one expression per axis: sums of products of integers and symbols, e.g. {@code b3+b2}, {@code 8*b0} */
    public record Entry(String name, long[] publishedShape, String[] dims, boolean keep) {}

    /** Loads a manifest from the classpath ({@code /weights-converter/NAME}). */
    public static ExpectedTensors load(String name) {
        String path = "/weights-converter/" + name;
        try (InputStream in = ExpectedTensors.class.getResourceAsStream(path)) {
            if (in == null) throw new ConvertException("manifest " + path + " is missing from the classpath");
            return parse(name, new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new ConvertException("cannot read manifest " + path + ": " + e.getMessage(), e);
        }
    }

    static ExpectedTensors parse(String name, BufferedReader r) throws IOException {
        List<Entry> entries = new ArrayList<>();
        Map<String, Long> symbols = new LinkedHashMap<>();
        List<String> drops = new ArrayList<>();
        String line;
        int no = 0;
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            if (line.startsWith("#symbol\t")) {
                symbols.put(f[1], Long.parseLong(f[2]));
            } else if (line.startsWith("#drop-prefix\t")) {
                drops.add(f[1]);
            } else if (line.startsWith("#") || line.startsWith("name\t")) {
                continue;
            } else {
                if (f.length != 4) throw new ConvertException(name + " line " + no + ": expected 4 columns");
                String[] ps = f[1].split(",");
                long[] shape = new long[ps.length];
                for (int i = 0; i < ps.length; i++) shape[i] = Long.parseLong(ps[i]);
                entries.add(new Entry(f[0], shape, f[2].split(","), f[3].equals("keep")));
            }
        }
        return new ExpectedTensors(name, List.copyOf(entries), Map.copyOf(symbols), List.copyOf(drops));
    }

    public boolean dropsByPrefix(String tensor) {
        for (String p : dropPrefixes) if (tensor.startsWith(p)) return true;
        return false;
    }

    /** The CogVLM2 manifest at the layer counts of {@code symbols} ({@link ConfigSymbols#cogvlm}). */
    public static ExpectedTensors cogvlm(Map<String, Long> symbols) {
        return load(COGVLM)
                .withLayers(COGVLM_DECODER_LAYERS, Math.toIntExact(symbols.get(ConfigSymbols.DECODER_LAYERS)))
                .withLayers(COGVLM_VISION_LAYERS, Math.toIntExact(symbols.get(ConfigSymbols.VISION_LAYERS)));
    }

    /** The decoder layers of the CogVLM2 manifest. */
    public static final String COGVLM_DECODER_LAYERS = "model.layers.";
    /** The vision layers of the CogVLM2 manifest. */
    public static final String COGVLM_VISION_LAYERS = "model.vision.transformer.layers.";

    /**
     * This manifest for a checkpoint holding layers {@code 0..count-1} under {@code prefix} (a model truncated to
     * fewer layers): entries of higher layers are left out, and the last layer present is kept or dropped as the
     * published last layer is (CogVLM2's last decoder layer is dropped, since K4 reads the layer before it).
     */
    public ExpectedTensors withLayers(String prefix, int count) {
        int published = 0;
        Map<String, Boolean> lastUse = new LinkedHashMap<>();
        for (Entry e : entries) {
            int i = layerIndex(e.name(), prefix);
            if (i >= 0) published = Math.max(published, i + 1);
        }
        if (count < 1 || count > published) {
            throw new ConvertException(resource + ": " + count + " layers under '" + prefix + "'; the published model has "
                    + published);
        }
        for (Entry e : entries) {
            if (layerIndex(e.name(), prefix) == published - 1) lastUse.put(suffix(e.name(), prefix), e.keep());
        }
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            int i = layerIndex(e.name(), prefix);
            if (i >= count) continue;
            boolean keep = i == count - 1 ? lastUse.get(suffix(e.name(), prefix)) : e.keep();
            out.add(new Entry(e.name(), e.publishedShape(), e.dims(), keep));
        }
        return new ExpectedTensors(resource, List.copyOf(out), publishedSymbols, dropPrefixes);
    }

    /** The layer number of {@code prefix + N + ".…"}, or -1. */
    static int layerIndex(String name, String prefix) {
        if (!name.startsWith(prefix)) return -1;
        int dot = name.indexOf('.', prefix.length());
        if (dot < 0) return -1;
        try {
            return Integer.parseInt(name.substring(prefix.length(), dot));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String suffix(String name, String prefix) {
        return name.substring(name.indexOf('.', prefix.length()));
    }

    /** Every tensor of the manifest (kept and dropped) with its shape at the symbols' values, in manifest order. */
    public Map<String, long[]> shapes(Map<String, Long> symbols) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Entry e : entries) out.put(e.name(), shape(e, symbols));
        return out;
    }

    /** The expected shape of an entry with the symbols' values (from a config.json). */
    public static long[] shape(Entry e, Map<String, Long> symbols) {
        long[] s = new long[e.dims().length];
        for (int i = 0; i < s.length; i++) s[i] = eval(e.dims()[i], symbols);
        return s;
    }

    static long eval(String expr, Map<String, Long> symbols) {
        long sum = 0;
        for (String term : expr.split("\\+")) {
            long prod = 1;
            for (String factor : term.split("\\*")) {
                String f = factor.trim();
                if (!f.isEmpty() && Character.isDigit(f.charAt(0))) {
                    prod *= Long.parseLong(f);
                } else {
                    Long v = symbols.get(f);
                    if (v == null) throw new ConvertException("manifest symbol '" + f + "' has no value from the config");
                    prod *= v;
                }
            }
            sum += prod;
        }
        return sum;
    }
}
