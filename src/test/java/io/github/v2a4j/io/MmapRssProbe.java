package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Measures what mapping F32 weights costs in resident memory: writes a 3 GiB checkpoint (three 1 GiB tensors) into
 * a temporary directory, maps it, touches part and then all of it, and prints VmRSS / RssAnon / RssFile from
 * /proc/self/status after each step. Not a test; run by hand:
 *
 * <pre>
 * mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * OMP_NUM_THREADS=1 java -Xmx2g -Dorg.bytedeco.javacpp.maxphysicalbytes=0 \
 *     -cp target/classes:target/test-classes:$(cat target/cp.txt) io.github.v2a4j.io.MmapRssProbe [dir]
 * </pre>
 */
public final class MmapRssProbe {

    private static final int SIDE = 16384; // 16384² floats = 1 GiB per tensor

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory(args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir")),
                "mmap-probe");
        Path file = dir.resolve("probe.safetensors");
        Nd4j.create(DataType.FLOAT, 1).sumNumber(); // load the native backend before anything is timed
        System.out.println("load average: " + Files.readString(Path.of("/proc/loadavg")).trim());
        try {
            long t0 = System.nanoTime();
            write(file);
            System.out.printf("wrote %s: %.2f GiB in %.1f s%n", file, Files.size(file) / (double) (1L << 30),
                    (System.nanoTime() - t0) / 1e9);
            report("start (after writing, before open)");

            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                t0 = System.nanoTime();
                List<INDArray> mapped = new ArrayList<>();
                for (String name : st.names()) mapped.add(st.mapped(name));
                System.out.printf("open + map %d tensors: %.1f ms%n", mapped.size(), (System.nanoTime() - t0) / 1e6);
                report("after open + map");

                INDArray w = mapped.get(0);
                t0 = System.nanoTime();
                double s = w.get(NDArrayIndex.interval(0, SIDE / 10), NDArrayIndex.all()).sumNumber().doubleValue();
                System.out.printf("sum of 10%% of one tensor = %.6g in %.1f ms%n", s, (System.nanoTime() - t0) / 1e6);
                report("after touching 10% of one tensor");

                t0 = System.nanoTime();
                for (INDArray m : mapped) s += m.sumNumber().doubleValue();
                System.out.printf("sum of all tensors in %.1f ms%n", (System.nanoTime() - t0) / 1e6);
                report("after touching all");

                t0 = System.nanoTime();
                INDArray copy = st.loadFloat(st.names().first());
                System.out.printf("loadFloat (copy) of one tensor: %.1f ms, checksum %.6g%n",
                        (System.nanoTime() - t0) / 1e6, copy.getFloat(12345));
                report("after loadFloat of one tensor (anonymous copy)");
                System.out.println("load average: " + Files.readString(Path.of("/proc/loadavg")).trim());
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static void write(Path file) {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) specs.put("w" + i, new SafetensorsStreamWriter.Spec(Dtype.F32, SIDE, SIDE));
        ByteBuffer chunk = ByteBuffer.allocateDirect(16 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; chunk.remaining() >= 4; i++) chunk.putFloat((i % 1000) * 1e-3f);
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, Map.of())) {
            long perTensor = 4L * SIDE * SIDE;
            for (String name : w.dataOrder()) {
                for (long off = 0; off < perTensor; off += chunk.capacity()) w.append(name, chunk.clear());
            }
            w.commit();
        }
    }

    private static void report(String when) throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            for (String key : new String[] {"VmRSS", "RssAnon", "RssFile"}) {
                if (line.startsWith(key + ":")) v.put(key, line.substring(key.length() + 1).trim());
            }
        }
        System.out.printf("%-48s VmRSS %12s  RssAnon %12s  RssFile %12s%n", when, v.get("VmRSS"), v.get("RssAnon"),
                v.get("RssFile"));
    }
}
