package io.github.v2a4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SparkSettingsTest {

    @Test
    void oneTaskPerExecutorWithAsManyNd4jThreadsAsCores() {
        SparkConf conf = new SparkConf(false).setMaster("yarn").set("spark.executor.cores", "8");
        assertThat(SparkSettings.apply(conf)).isEmpty();
        assertThat(conf.get("spark.task.cpus")).isEqualTo("8");
        assertThat(conf.get("spark.executorEnv.OMP_NUM_THREADS")).isEqualTo("8");
        assertThat(conf.get("spark.executorEnv.OMP_WAIT_POLICY")).isEqualTo("PASSIVE");
        assertThat(conf.get("spark.executorEnv.GLIBC_TUNABLES")).isEqualTo("glibc.malloc.hugetlb=1");
    }

    @Test
    void localModeCoresComeFromTheMaster() {
        assertThat(SparkSettings.localCores("local[3]")).isEqualTo(3);
        assertThat(SparkSettings.localCores("local[2,4]")).isEqualTo(2);
        assertThat(SparkSettings.localCores("local")).isEqualTo(1);
        assertThat(SparkSettings.localCores("local[*]")).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(SparkSettings.localCores("spark://host:7077")).isNull();
        SparkConf conf = new SparkConf(false).setMaster("local[2]");
        SparkSettings.apply(conf);
        assertThat(conf.get("spark.task.cpus")).isEqualTo("2");
    }

    @Test
    void theUsersSettingsWinAndWhatWorksAgainstTheJobIsSaid() {
        SparkConf conf = new SparkConf(false).setMaster("yarn").set("spark.executor.cores", "8")
                .set("spark.task.cpus", "2").set("spark.executorEnv.OMP_NUM_THREADS", "4");
        List<String> warnings = SparkSettings.apply(conf);
        assertThat(conf.get("spark.task.cpus")).isEqualTo("2");
        assertThat(conf.get("spark.executorEnv.OMP_NUM_THREADS")).isEqualTo("4");
        assertThat(warnings).singleElement().asString().startsWith("spark.task.cpus is 2 but executors have 8 cores");

        SparkConf unset = new SparkConf(false).setMaster("k8s://https://api:6443");
        assertThat(SparkSettings.apply(unset)).singleElement().asString()
                .startsWith("spark.executor.cores is not set: assuming 1 core per executor");
        assertThat(unset.get("spark.task.cpus")).isEqualTo("1");
    }
}
