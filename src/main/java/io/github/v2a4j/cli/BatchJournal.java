package io.github.v2a4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The batch's journal, {@value #NAME} in the output folder: one JSON line per event ({@code started}, {@code done},
 * {@code failed}), each written whole and flushed to disk before the batch goes on, so a batch that was killed
 * knows on its next run which items it finished. An item is identified by a key over its input, output and every
 * option that shapes its sound: an item whose options changed is a new item.
 *
 * <p>An item counts as finished when the journal says {@code done} and its output is still there, or says
 * {@code started} on an output that did not exist then and exists now (the output was renamed into place and the
 * batch was killed before it could write {@code done}: outputs are only ever renamed into place complete). While a
 * batch runs it holds a lock on the journal, so a second batch on the same folder stops at once.
 */
final class BatchJournal implements AutoCloseable {
    static final String NAME = "v2a-batch-journal.jsonl";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final Set<String> done = new HashSet<>();
    /** key → whether the output existed when the item started. */
    private final Map<String, Boolean> started = new HashMap<>();

    private BatchJournal(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Opens (or creates) the journal of {@code dir}, reads what earlier runs recorded, and locks it. */
    static BatchJournal open(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such output folder");
        Path file = dir.resolve(NAME);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot open the batch journal: " + e.getMessage(), e);
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null; // this JVM already runs a batch there
            }
            if (lock == null) {
                ch.close();
                throw new IllegalArgumentException(file + ": another batch is writing to " + dir);
            }
            BatchJournal j = new BatchJournal(file, ch, lock);
            // decoded leniently: a line cut in the middle of a character is skipped, not fatal
            j.load(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList());
            // the lock makes this batch the only writer: append at the end, after ending a line a killed run cut short
            long size = ch.size();
            ch.position(size);
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                ch.read(last, size - 1);
                if (last.get(0) != '\n') j.write(new byte[] {'\n'});
            }
            return j;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new UncheckedIOException(file + ": cannot read the batch journal: " + e.getMessage(), e);
        }
    }

    private void load(List<String> lines) {
        for (String line : lines) {
            JsonObject o;
            try {
                o = JsonParser.parseString(line).getAsJsonObject();
            } catch (RuntimeException e) {
                continue; // a line cut short when a run was killed mid-write: that event did not happen
            }
            if (!o.has("event") || !o.has("key")) continue;
            String key = o.get("key").getAsString();
            switch (o.get("event").getAsString()) {
                case "done" -> done.add(key);
                case "started" -> started.put(key, o.has("output_existed") && o.get("output_existed").getAsBoolean());
                case "failed" -> started.remove(key);
                default -> { }
            }
        }
    }

    Path file() {
        return file;
    }

    /** Whether an earlier run finished the item of {@code key}, whose output is {@code out}. */
    boolean finished(String key, Path out) {
        if (!Files.exists(out)) return false;
        return done.contains(key) || Boolean.FALSE.equals(started.get(key));
    }

    void started(String key, BatchItem item, boolean outputExisted) {
        JsonObject o = event("started", key, item);
        o.addProperty("output_existed", outputExisted);
        append(o);
    }

    void done(String key, BatchItem item, double audioSeconds, double seconds) {
        JsonObject o = event("done", key, item);
        o.addProperty("audio_s", audioSeconds);
        o.addProperty("took_s", seconds);
        append(o);
        done.add(key);
    }

    void failed(String key, BatchItem item, String reason) {
        JsonObject o = event("failed", key, item);
        o.addProperty("reason", reason);
        append(o);
    }

    private static JsonObject event(String event, String key, BatchItem item) {
        JsonObject o = new JsonObject();
        o.addProperty("event", event);
        o.addProperty("key", key);
        o.addProperty("video", item.video().toString());
        o.addProperty("out", item.out().toString());
        o.addProperty("time", java.time.Instant.now().toString());
        return o;
    }

    /** One line in one write, then forced to disk. */
    private void append(JsonObject o) {
        write((o + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private void write(byte[] line) {
        try {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) channel.write(b);
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the batch journal: " + e.getMessage(), e);
        }
    }

    /** sha256 over the parts that make an item what it is. */
    static String key(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do: the journal's lines were forced to disk as they were written
        }
    }
}
