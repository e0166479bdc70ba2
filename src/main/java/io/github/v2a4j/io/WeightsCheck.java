package io.github.v2a4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads every byte of a folder's safetensors files once: every float tensor must hold only finite values (a NaN or
 * Inf weight would otherwise run to the end and give plausible-looking noise), and each file's content gets a
 * sha256. Both results are remembered in a cache folder under the file's identity (path, size, modification and
 * change time, inode), so a later open of the same files costs a few {@code stat} calls; a file that is rewritten
 * in any way is read again (see {@link #settledBefore} for writes that a coarse clock cannot tell apart).
 *
 * <p>{@link #fingerprint} is the folder's content identity: sha256 over the names and content hashes of its
 * {@code *.safetensors} and {@code *.json} files. Whatever is computed from these files alone (the black-video
 * embedding) can be cached under it: a changed weight changes it, a copy of the same model keeps it.
 *
 * <p>Cost: one sequential read; sha256 runs at about 0.5 GB/s and the finiteness test at 2–4 GB/s on one core of
 * the 2-core AMD EPYC this was measured on.
 */
public final class WeightsCheck {

    private static final int WINDOW = 8 << 20;

    private WeightsCheck() {}

    /**
     * Checks {@code dir}'s safetensors files (those not already checked in this version) and returns the folder's
     * content fingerprint. Throws {@link SafetensorsException} naming the file, tensor and element of the first
     * non-finite float.
     *
     * @param cache where stamps of checked files are kept, one small file each (null: check every time); failing to
     *              write there is not an error (see {@link CacheDir#warnOnce})
     */
    public static String fingerprint(Path dir, Path cache) {
        MessageDigest all = sha256();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") || n.endsWith(".json");
            }).sorted(Comparator.comparing(Path::toString)).forEach(files::add);
        } catch (IOException | UncheckedIOException e) {
            throw new SafetensorsException(dir + ": cannot list the folder (" + e.getMessage() + ")");
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            String hash = name.endsWith(".safetensors") ? checkedHash(f, cache) : hashSmallFile(f);
            all.update((name + "\0" + hash + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(all.digest());
    }

    /** The content sha256 of one safetensors file, from its stamp or by {@link #scan}ning it. */
    static String checkedHash(Path file, Path cache) {
        Path stamp = cache == null ? null : cache.resolve(identity(file));
        if (stamp != null && Files.isRegularFile(stamp) && settledBefore(file, stamp)) {
            try {
                String h = Files.readString(stamp, StandardCharsets.UTF_8).strip();
                if (h.matches("[0-9a-f]{64}")) return h;
            } catch (IOException e) {
                // unreadable stamp: scan again
            }
        }
        String hash = scan(file);
        if (stamp != null) {
            try {
                Files.createDirectories(cache);
                OutputFile.write(stamp, true, tmp -> Files.writeString(tmp, hash + "\n", StandardCharsets.UTF_8));
            } catch (Exception e) {
                CacheDir.warnOnce(cache, e);
            }
        }
        return hash;
    }

    /**
     * Reads the whole file: sha256 of every byte, and every float tensor checked for NaN and Inf. Returns the hex
     * sha256.
     */
    public static String scan(Path file) {
        MessageDigest sha = sha256();
        try (SafetensorsFile st = SafetensorsFile.open(file, w -> { });
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            List<TensorInfo> tensors = new ArrayList<>();
            for (String n : st.names()) tensors.add(st.info(n));
            tensors.sort(Comparator.comparingLong(TensorInfo::begin));
            ByteBuffer buf = ByteBuffer.allocateDirect(WINDOW);
            long pos = 0;
            for (TensorInfo t : tensors) {
                long begin = st.dataStart() + t.begin();
                if (begin < pos) continue; // empty tensors share offsets; overlaps were refused at open
                pos = digest(file, ch, sha, buf, pos, begin, null, null);
                pos = digest(file, ch, sha, buf, pos, st.dataStart() + t.end(), t, Dtype.parse(t.dtype()));
            }
            digest(file, ch, sha, buf, pos, ch.size(), null, null);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Hashes bytes [from, to) in windows; for a float tensor, checks them too. Returns {@code to}. */
    private static long digest(Path file, FileChannel ch, MessageDigest sha, ByteBuffer buf, long from, long to, TensorInfo t,
                               Dtype d) throws IOException {
        boolean check = t != null && d != null && !d.isInteger();
        long first = 0; // element index of the window's first element
        for (long pos = from; pos < to; ) {
            int n = (int) Math.min(WINDOW, to - pos);
            buf.clear().limit(n);
            SafetensorsHeader.readFully(file, ch, buf, pos);
            buf.flip();
            if (check) {
                long bad = Finite.firstNonFinite(buf, d);
                if (bad >= 0) {
                    long index = first + bad;
                    throw new SafetensorsException(file + ": tensor '" + t.name() + "' holds "
                            + Finite.describe(buf, d, bad) + " at element " + index + " of " + t.elements()
                            + " (shape " + t.shapeString() + "): the weights are damaged; convert or download them "
                            + "again");
                }
                first += n / d.size();
            }
            sha.update(buf);
            pos += n;
        }
        return to;
    }

    private static String hashSmallFile(Path f) {
        try {
            return HexFormat.of().formatHex(sha256().digest(Files.readAllBytes(f)));
        } catch (IOException e) {
            throw new SafetensorsException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * What identifies one version of a file without reading it: absolute path, size, modification time, change
     * time and inode. Any write changes the change time, which no user can set back.
     */
    static String identity(Path file) {
        try {
            Path abs = file.toAbsolutePath().normalize();
            BasicFileAttributes a = Files.readAttributes(abs, BasicFileAttributes.class);
            StringBuilder sb = new StringBuilder(abs.toString()).append('\0').append(a.size()).append('\0')
                    .append(a.lastModifiedTime().toInstant()).append('\0').append(a.fileKey());
            try {
                sb.append('\0').append(Files.getAttribute(abs, "unix:ctime"));
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // not a Unix file system: size, mtime and file key only
            }
            return HexFormat.of().formatHex(sha256().digest(sb.toString().getBytes(StandardCharsets.UTF_8)))
                    .substring(0, 32);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot read its attributes (" + e.getMessage() + ")", e);
        }
    }

    /**
     * File times tick coarsely (a few milliseconds on Linux): a file written again within the same tick as the
     * version that was stamped keeps its identity. A stamp is therefore trusted only when it was written at least
     * {@link #SETTLE_MILLIS} after the file last changed; otherwise the file is read again.
     */
    static boolean settledBefore(Path file, Path stamp) {
        try {
            long changed = Files.getLastModifiedTime(file).toMillis();
            try {
                Object ctime = Files.getAttribute(file, "unix:ctime");
                if (ctime instanceof java.nio.file.attribute.FileTime t) changed = Math.max(changed, t.toMillis());
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // not a Unix file system: the modification time alone
            }
            return Files.getLastModifiedTime(stamp).toMillis() - changed >= SETTLE_MILLIS;
        } catch (IOException e) {
            return false;
        }
    }

    static final long SETTLE_MILLIS = 1000;

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
