package io.github.v2a4j.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The items of a batch: from a manifest (CSV with a header row, or JSON Lines) or from videos and folders named on
 * the command line. Every problem with the list itself (an unknown column, a seed that is not a number, two items
 * writing the same file) is found here, before any work; a video that turns out broken is the item's failure later.
 */
final class BatchManifest {
    private BatchManifest() {}

    /** The manifest's fields; all but {@code video} may be left out or empty. */
    static final List<String> FIELDS = List.of("video", "out", "prompt", "negative_prompt", "seed", "max_duration");

    /** File name endings taken as videos when a folder is given (case-insensitive). */
    static final Set<String> VIDEO_EXTENSIONS = Set.of("mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg",
            "ts", "flv", "wmv", "3gp");

    /** What {@code generate} names an output by default: {@code <video name>.v2a.mp4}. */
    static String outputName(Path video) {
        String name = video.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name) + ".v2a.mp4";
    }

    /**
     * Items of a manifest: {@code .jsonl} / {@code .ndjson} files are JSON Lines, others CSV unless their first
     * non-blank character is '{'. Relative paths are relative to the manifest's folder; an item without {@code out}
     * writes {@code <outDir>/<video name>.v2a.mp4}.
     */
    static List<BatchItem> read(Path manifest, Path outDir) {
        if (!Files.isRegularFile(manifest)) throw new IllegalArgumentException(manifest + ": no such manifest file");
        String text;
        try {
            text = Files.readString(manifest, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(manifest + ": cannot read the manifest: " + e.getMessage(), e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        String name = manifest.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean jsonLines = name.endsWith(".jsonl") || name.endsWith(".ndjson")
                || (!name.endsWith(".csv") && text.strip().startsWith("{"));
        List<Map<String, String>> rows = jsonLines ? jsonLines(manifest, text) : csv(manifest, text);
        Path base = folderOf(manifest);
        List<BatchItem> items = new ArrayList<>();
        for (Map<String, String> row : rows) items.add(item(row, base, outDir));
        if (items.isEmpty()) throw new IllegalArgumentException(manifest + ": the manifest lists no video");
        checkDistinctOutputs(items);
        return items;
    }

    private static List<Map<String, String>> csv(Path manifest, String text) {
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).setTrim(true)
                .setIgnoreEmptyLines(true).get();
        List<Map<String, String>> rows = new ArrayList<>();
        try (CSVParser parser = CSVParser.parse(text, format)) {
            List<String> header = parser.getHeaderNames();
            for (String h : header) {
                if (!FIELDS.contains(h)) {
                    throw new IllegalArgumentException(manifest + ": unknown column '" + h + "' (columns: "
                            + String.join(", ", FIELDS) + ")");
                }
            }
            if (!header.contains("video")) {
                throw new IllegalArgumentException(manifest + ": the header row has no 'video' column");
            }
            for (CSVRecord r : parser) {
                Map<String, String> row = new LinkedHashMap<>();
                row.put("#", manifest.getFileName() + " line " + r.getParser().getCurrentLineNumber());
                for (String h : header) {
                    String v = r.isSet(h) ? r.get(h) : "";
                    if (!v.isEmpty()) row.put(h, v);
                }
                rows.add(row);
            }
        } catch (IOException | IllegalStateException e) {
            throw new IllegalArgumentException(manifest + ": not a CSV manifest: " + e.getMessage(), e);
        }
        return rows;
    }

    private static List<Map<String, String>> jsonLines(Path manifest, String text) {
        List<Map<String, String>> rows = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            String where = manifest.getFileName() + " line " + (i + 1);
            JsonObject o;
            try {
                JsonElement e = JsonParser.parseString(lines[i]);
                if (!e.isJsonObject()) throw new IllegalArgumentException("not a JSON object");
                o = e.getAsJsonObject();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + ": not a JSON object: " + e.getMessage(), e);
            }
            Map<String, String> row = new LinkedHashMap<>();
            row.put("#", where);
            for (Map.Entry<String, JsonElement> f : o.entrySet()) {
                if (!FIELDS.contains(f.getKey())) {
                    throw new IllegalArgumentException(where + ": unknown field '" + f.getKey() + "' (fields: "
                            + String.join(", ", FIELDS) + ")");
                }
                JsonElement v = f.getValue();
                if (v.isJsonNull()) continue;
                if (!(v instanceof JsonPrimitive p)) {
                    throw new IllegalArgumentException(where + ": field '" + f.getKey() + "' must be a string or number");
                }
                row.put(f.getKey(), p.getAsString());
            }
            rows.add(row);
        }
        return rows;
    }

    private static BatchItem item(Map<String, String> row, Path base, Path outDir) {
        String where = row.get("#");
        String video = row.get("video");
        if (video == null || video.isBlank()) throw new IllegalArgumentException(where + ": no video");
        Path v = base.resolve(video).normalize();
        Path out = row.containsKey("out") ? base.resolve(row.get("out")).normalize()
                : outDir.resolve(outputName(v)).toAbsolutePath().normalize();
        Long seed = null;
        if (row.containsKey("seed")) {
            try {
                seed = Long.parseLong(row.get("seed"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": seed '" + row.get("seed") + "' is not a whole number");
            }
        }
        Integer maxDuration = null;
        if (row.containsKey("max_duration")) {
            try {
                maxDuration = Integer.parseInt(row.get("max_duration"));
            } catch (NumberFormatException e) {
                maxDuration = -1;
            }
            if (maxDuration < 1) {
                throw new IllegalArgumentException(where + ": max_duration '" + row.get("max_duration")
                        + "' is not a whole number of seconds >= 1");
            }
        }
        String prompt = row.get("prompt");
        String negative = row.get("negative_prompt");
        return new BatchItem(where, v, out, prompt, negative, seed, maxDuration);
    }

    /**
     * Items for videos and folders named on the command line: a folder gives its videos (by file name ending,
     * sorted, not recursing, leaving out {@code *.v2a.mp4}, which are outputs), each writing
     * {@code <outDir>/<video name>.v2a.mp4}.
     */
    static List<BatchItem> fromPaths(List<Path> paths, Path outDir) {
        List<BatchItem> items = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> videos;
                try (Stream<Path> s = Files.list(p)) {
                    videos = s.filter(f -> Files.isRegularFile(f) && isVideoName(f)).sorted().toList();
                } catch (IOException e) {
                    throw new UncheckedIOException(p + ": cannot list the folder: " + e.getMessage(), e);
                }
                if (videos.isEmpty()) {
                    throw new IllegalArgumentException(p + ": no video files in the folder (looked for "
                            + String.join(", ", VIDEO_EXTENSIONS.stream().sorted().toList()) + ")");
                }
                for (Path v : videos) items.add(pathItem(v, outDir));
            } else {
                items.add(pathItem(p, outDir));
            }
        }
        checkDistinctOutputs(items);
        return items;
    }

    private static BatchItem pathItem(Path video, Path outDir) {
        Path v = video.toAbsolutePath().normalize();
        return new BatchItem(video.toString(), v, outDir.resolve(outputName(v)).toAbsolutePath().normalize(),
                null, null, null, null);
    }

    private static boolean isVideoName(Path f) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot > 0 && VIDEO_EXTENSIONS.contains(name.substring(dot + 1)) && !name.endsWith(".v2a.mp4");
    }

    private static void checkDistinctOutputs(List<BatchItem> items) {
        Map<Path, BatchItem> seen = new HashMap<>();
        for (BatchItem it : items) {
            BatchItem other = seen.putIfAbsent(it.out(), it);
            if (other != null) {
                throw new IllegalArgumentException(other.source() + " and " + it.source() + " both write " + it.out());
            }
        }
    }

    /** The manifest's folder, where its relative paths start (and, without --out-dir, where outputs go). */
    static Path folderOf(Path manifest) {
        return manifest.toAbsolutePath().normalize().getParent();
    }
}
