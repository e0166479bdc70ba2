package io.github.v2a4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar as spark-submit runs it: Spark's jars first on the classpath and the job jar after them, here with
 * gson 2.2.4 (what spark-hive 3.5.9 depends on) in front of everything. The core's gson calls must reach the job's
 * own, renamed gson.
 */
class ShadedJarIT {

    @TempDir
    Path dir;

    static Path target() {
        return TestData.repo().resolve("spark/target");
    }

    @Test
    void theJarCarriesTheJobAndItsDependenciesButNotSpark() throws Exception {
        try (JarFile jar = new JarFile(target().resolve("v2a4j-spark.jar").toFile())) {
            List<String> names = jar.stream().map(e -> e.getName()).toList();
            assertThat(names).contains("io/github/v2a4j/spark/GenerateJob.class",
                    "io/github/v2a4j/pipeline/Video2AudioPipeline.class",
                    "io/github/v2a4j/shaded/gson/JsonParser.class",
                    "io/github/v2a4j/shaded/flatbuffers/FlatBufferBuilder.class",
                    "META-INF/services/org.nd4j.linalg.factory.Nd4jBackend");
            assertThat(names).noneMatch(n -> n.startsWith("com/google/gson/") || n.startsWith("com/google/flatbuffers/")
                    || n.startsWith("org/apache/spark/") || n.startsWith("scala/") || n.startsWith("org/slf4j/")
                    || n.startsWith("org/apache/hadoop/"));
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("io.github.v2a4j.spark.GenerateJob");
        }
    }

    @Test
    void runsOnASparkClasspathThatPutsAnOldGsonFirst() throws Exception {
        Path model = TestData.demoModelCopy(dir);
        TestData.makeVideo(dir.resolve("clip.mp4"), 2.0, 12);
        Files.writeString(dir.resolve("m.csv"), "video,out\nclip.mp4,out/clip.mp4\n");
        String classpath = String.join(File.pathSeparator, System.getProperty("v2a.oldGson"),
                Files.readString(target().resolve("spark-classpath.txt")).strip(),
                Files.readString(target().resolve("spark-shared-classpath.txt")).strip(),
                target().resolve("v2a4j-spark.jar").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx2g");
        cmd.addAll(Arrays.asList(Files.readString(target().resolve("jvm-options.txt")).strip().split("\\s+")));
        cmd.addAll(List.of("-Dspark.ui.enabled=false", "-cp", classpath, "io.github.v2a4j.spark.GenerateJob",
                "--master", "local[2]", "--manifest", dir.resolve("m.csv").toString(), "--model", model.toString(),
                "--results", dir.resolve("results").toString(), "--steps", "2"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("job.log").toFile());
        pb.environment().put("OMP_NUM_THREADS", "2");
        Process p = pb.start();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("the job finished within 10 minutes").isTrue();
        String log = Files.readString(dir.resolve("job.log"), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("1 rows: 1 done, 0 failed, 0 skipped").doesNotContain("NoSuchMethodError");
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(dir.resolve("out/clip.mp4").toFile())) {
            g.start();
            assertThat(g.getAudioChannels()).isEqualTo(1);
        }
    }
}
