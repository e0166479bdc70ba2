package io.github.v2a4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.pipeline.Defaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifests in the three formats, the checks made on the driver, and the rows rejected with their reasons. */
class ManifestTest {

    @TempDir
    static Path dir;

    static SparkSession spark;
    static HadoopFiles files;

    static final Manifest.Settings SETTINGS = new Manifest.Settings(null, 50, 8f);

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[1]").getOrCreate();
        files = new HadoopFiles(spark.sparkContext().hadoopConfiguration());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static List<Item> read(String name, String text, Manifest.Settings settings) throws Exception {
        Path m = dir.resolve(name);
        Files.writeString(m, text);
        return Manifest.read(spark, files, m.toString(), null, settings);
    }

    static String file(String rel) {
        return "file:" + dir.resolve(rel);
    }

    @Test
    void csvJsonLinesAndParquetGiveTheSameRows() throws Exception {
        List<Item> csv = read("m.csv", """
                video,out,prompt,negative_prompt,seed,max_duration
                clips/a.mp4,out/a.mp4,"rain, on a ""tin"" roof",,7,5
                /data/b.mp4,file:/elsewhere/b.mp4,,quiet,,
                """, SETTINGS);
        List<Item> jsonl = read("m.jsonl", """
                {"video": "clips/a.mp4", "out": "out/a.mp4", "prompt": "rain, on a \\"tin\\" roof", "seed": 7, "max_duration": 5}
                {"video": "/data/b.mp4", "out": "file:/elsewhere/b.mp4", "negative_prompt": "quiet"}
                """, SETTINGS);
        StructType schema = new StructType().add("video", DataTypes.StringType).add("out", DataTypes.StringType)
                .add("prompt", DataTypes.StringType).add("negative_prompt", DataTypes.StringType)
                .add("seed", DataTypes.LongType).add("max_duration", DataTypes.IntegerType);
        spark.createDataFrame(List.of(
                RowFactory.create("clips/a.mp4", "out/a.mp4", "rain, on a \"tin\" roof", null, 7L, 5),
                RowFactory.create("/data/b.mp4", "file:/elsewhere/b.mp4", null, "quiet", null, null)), schema)
                .coalesce(1).write().parquet(dir.resolve("m.parquet").toString());
        List<Item> parquet = Manifest.read(spark, files, dir.resolve("m.parquet").toString(), null, SETTINGS);

        ItemOptions a = new ItemOptions("rain, on a \"tin\" roof", Defaults.NEGATIVE_PROMPT, 7, 5, 50, 8f);
        ItemOptions b = new ItemOptions(Defaults.PROMPT, "quiet", 0, Defaults.MAX_DURATION_SEC, 50, 8f);
        List<Item> expected = List.of(
                new Item(1, file("clips/a.mp4"), file("out/a.mp4"), a, null),
                new Item(2, "file:/data/b.mp4", "file:/elsewhere/b.mp4", b, null));
        assertThat(csv).isEqualTo(expected);
        assertThat(jsonl).isEqualTo(expected);
        // a Parquet dataset is a folder: relative paths are relative to the folder itself
        assertThat(parquet.get(0).video()).isEqualTo(file("m.parquet/clips/a.mp4"));
        assertThat(parquet.get(0).options()).isEqualTo(a);
        assertThat(parquet.get(1)).isEqualTo(expected.get(1));
    }

    @Test
    void rowsThatCannotBeProcessedAreRejectedWithTheirReason() throws Exception {
        List<Item> items = read("bad.csv", """
                video,out,seed,max_duration
                a.mp4,a.out.mp4,seven,
                b.mp4,b.out.mp4,,0
                ,c.out.mp4,,
                d.mp4,a.out.mp4,,
                e.mp4,e.mp4,,
                f.mp4,,,
                g.mp4,g.out.mp4,-3,12
                """, SETTINGS);
        assertThat(items).extracting(Item::rejected).containsExactly(
                "seed 'seven' is not a whole number",
                "max_duration must be a whole number of seconds >= 1, got 0",
                "no video",
                file("a.out.mp4") + ": also the output of row 1",
                file("e.mp4") + ": output would overwrite the input video",
                "no output: the row's out is empty and there is no --out-dir",
                null);
        assertThat(items.get(6).options().seed()).isEqualTo(-3);
    }

    @Test
    void outDirNamesTheOutputsOfRowsWithoutOne() throws Exception {
        List<Item> items = read("noout.jsonl", """
                {"video": "x/clip.one.mp4"}
                """, new Manifest.Settings(dir.resolve("outs").toString(), 50, 8f));
        assertThat(items.get(0).out()).isEqualTo(file("outs/clip.one.v2a.mp4"));
    }

    @Test
    void manifestErrorsStopTheJobBeforeAnyWork() {
        assertThatThrownBy(() -> read("typo.csv", "video,ouput\na.mp4,b.mp4\n", SETTINGS))
                .hasMessageEndingWith("unknown column(s) ouput (the columns are video, out, prompt, negative_prompt, "
                        + "seed, max_duration)");
        assertThatThrownBy(() -> read("novideo.csv", "out\nb.mp4\n", SETTINGS)).hasMessageEndingWith("no 'video' column");
        assertThatThrownBy(() -> read("noout.csv", "video\na.mp4\n", SETTINGS))
                .hasMessageEndingWith("no 'out' column; add one or give --out-dir");
        assertThatThrownBy(() -> read("empty.csv", "video,out\n", SETTINGS)).hasMessageEndingWith(": no rows");
        assertThatThrownBy(() -> read("m.txt", "video,out\n", SETTINGS))
                .hasMessageContaining("give --format csv, jsonl or parquet");
        assertThatThrownBy(() -> Manifest.read(spark, files, dir.resolve("missing.csv").toString(), null, SETTINGS))
                .hasMessage("manifest " + file("missing.csv") + ": no such file");
        assertThatThrownBy(() -> read("broken.jsonl", "{\"video\": \"a.mp4\", \n", SETTINGS))
                .hasMessage("manifest " + file("broken.jsonl") + ": Unexpected end-of-input within/between Object entries");
    }
}
