package io.github.v2a4j.faults;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded mutations of an mp4 file, aimed at what a reader trusts: byte flips in the header, the middle ({@code mdat})
 * and the index ({@code moov}), truncations, duplicated chunks, zeroed sample tables, absurd frame sizes and time
 * scales, and box sizes that lie. Case {@code i} of a seed is always the same bytes.
 */
public final class VideoMutations {

    /** One mutated file: what was done to it, and its bytes. */
    public record Mutation(int index, String what, byte[] bytes) {}

    static final String[] KINDS = {"flip-header", "flip-middle", "flip-moov", "truncate", "duplicate-chunk",
        "zero-table", "absurd-size", "absurd-timescale", "lying-box-size", "drop-box", "stts-delta", "random-bytes"};

    private final byte[] source;
    private final long seed;

    public VideoMutations(byte[] source, long seed) {
        this.source = source;
        this.seed = seed;
    }

    public int kinds() {
        return KINDS.length;
    }

    /** Case {@code i}: kind {@code i mod kinds}, randomness from {@code (seed, i)}. */
    public Mutation get(int i) {
        return mutate(i, KINDS[i % KINDS.length]);
    }

    private Mutation mutate(int i, String kind) {
        Random r = new Random(seed * 1_000_003L + i);
        byte[] b = source.clone();
        String what;
        switch (kind) {
            case "flip-header" -> what = flip(b, r, 0, Math.min(64, b.length), 1 + r.nextInt(4));
            case "flip-middle" -> {
                int[] mdat = box(b, "mdat");
                if (mdat[0] < 0) return mutate(i, "truncate");
                what = flip(b, r, mdat[0] + 8, mdat[0] + mdat[1], 1 + r.nextInt(200));
            }
            case "flip-moov" -> {
                int[] moov = box(b, "moov");
                if (moov[0] < 0) return mutate(i, "truncate");
                what = flip(b, r, moov[0] + 8, moov[0] + moov[1], 1 + r.nextInt(20));
            }
            case "truncate" -> {
                int at = r.nextInt(b.length);
                b = Arrays.copyOf(b, at);
                what = "truncated at byte " + at;
            }
            case "duplicate-chunk" -> {
                int from = r.nextInt(b.length);
                int len = 1 + r.nextInt(Math.min(4096, b.length - from));
                int to = r.nextInt(b.length);
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, to);
                System.arraycopy(b, from, out, to, len);
                System.arraycopy(b, to, out, to + len, b.length - to);
                b = out;
                what = "bytes [" + from + ", " + (from + len) + ") copied in at " + to;
            }
            case "zero-table" -> {
                String[] tables = {"stts", "stsz", "stco", "stsc", "stss", "ctts", "stsd", "avcC", "esds"};
                String t = tables[r.nextInt(tables.length)];
                int[] at = box(b, t);
                if (at[0] < 0) return mutate(i, "flip-moov"); // the sample has no such table
                Arrays.fill(b, at[0] + 8, at[0] + at[1], (byte) 0);
                what = t + " zeroed";
            }
            case "absurd-size" -> {
                int[] values = {0, 1, 2, 65535, 16384, 100_000, Integer.MAX_VALUE};
                int w = values[r.nextInt(values.length)];
                int h = values[r.nextInt(values.length)];
                int[] avc1 = box(b, "avc1");
                if (avc1[0] >= 0) {
                    // VisualSampleEntry: 8 box header, 6 reserved, 2 index, 16 predefined, then width, height (16 bit)
                    ByteBuffer.wrap(b).putShort(avc1[0] + 32, (short) w).putShort(avc1[0] + 34, (short) h);
                }
                int[] tkhd = box(b, "tkhd");
                if (tkhd[0] >= 0 && r.nextBoolean()) {
                    int end = tkhd[0] + tkhd[1];
                    ByteBuffer.wrap(b).putInt(end - 8, w << 16).putInt(end - 4, h << 16);
                }
                what = "frame size " + (w & 0xffff) + "x" + (h & 0xffff);
            }
            case "absurd-timescale" -> {
                long[] values = {0, 1, 0xffffffffL, 0x7fffffffL, 3, 1_000_000_000L};
                long ts = values[r.nextInt(values.length)];
                String which = r.nextBoolean() ? "mdhd" : "mvhd";
                for (int at : all(b, which)) {
                    int version = b[at + 8];
                    ByteBuffer.wrap(b).putInt(at + 8 + 4 + (version == 1 ? 16 : 8), (int) ts);
                }
                what = which + " time scale " + ts;
            }
            case "lying-box-size" -> {
                String[] boxes = {"moov", "trak", "mdia", "minf", "stbl", "mdat", "ftyp", "stsd", "avc1"};
                String t = boxes[r.nextInt(boxes.length)];
                int[] at = box(b, t);
                if (at[0] < 0) return mutate(i, "flip-moov");
                long[] sizes = {0, 1, 7, 8, at[1] - 1L, at[1] + 1L, 0xffffffffL, 0x7fffffffL};
                long size = sizes[r.nextInt(sizes.length)];
                ByteBuffer.wrap(b).putInt(at[0], (int) size);
                what = t + " box size " + size;
            }
            case "drop-box" -> {
                String[] boxes = {"moov", "mdat", "trak", "stbl", "stsd", "avcC", "stco"};
                String t = boxes[r.nextInt(boxes.length)];
                int[] at = box(b, t);
                if (at[0] < 0) return mutate(i, "flip-moov");
                byte[] out = new byte[b.length - at[1]];
                System.arraycopy(b, 0, out, 0, at[0]);
                System.arraycopy(b, at[0] + at[1], out, at[0], b.length - at[0] - at[1]);
                b = out;
                what = t + " removed";
            }
            case "stts-delta" -> {
                int[] stts = box(b, "stts");
                if (stts[0] < 0 || stts[1] < 24) return mutate(i, "flip-moov");
                long[] values = {0, 1, 0xffffffffL, 0x7fffffffL, 1 << 20};
                long delta = values[r.nextInt(values.length)];
                // stts: header 8, version/flags 4, entry count 4, then (count, delta) pairs
                ByteBuffer.wrap(b).putInt(stts[0] + 20, (int) delta);
                what = "stts first sample delta " + delta;
            }
            default -> {
                b = new byte[r.nextInt(4096)];
                r.nextBytes(b);
                what = b.length + " random bytes";
            }
        }
        return new Mutation(i, kind + ": " + what, b);
    }

    private static String flip(byte[] b, Random r, int from, int to, int n) {
        if (to <= from) return "nothing to flip";
        List<Integer> at = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int p = from + r.nextInt(to - from);
            b[p] ^= (byte) (1 + r.nextInt(255));
            at.add(p);
        }
        return n + " bytes flipped in [" + from + ", " + to + ")" + (n <= 4 ? " at " + at : "");
    }

    /** {@code [offset, size]} of the first box of this type (searched as bytes, nested boxes included); -1 if none. */
    static int[] box(byte[] b, String type) {
        int[] all = all(b, type);
        if (all.length == 0) return new int[] {-1, 0};
        int at = all[0];
        long size = ByteBuffer.wrap(b).getInt(at) & 0xffffffffL;
        return new int[] {at, (int) Math.min(size, b.length - at)};
    }

    private static int[] all(byte[] b, String type) {
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        List<Integer> found = new ArrayList<>();
        for (int i = 4; i + 4 <= b.length; i++) {
            if (b[i] == t[0] && b[i + 1] == t[1] && b[i + 2] == t[2] && b[i + 3] == t[3]) found.add(i - 4);
        }
        return found.stream().mapToInt(Integer::intValue).toArray();
    }
}
