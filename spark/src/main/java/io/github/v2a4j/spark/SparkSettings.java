package io.github.v2a4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;

/**
 * The Spark settings the job needs, filled in where the user has not set them. One generation uses all the cores it
 * is given (ND4J's OpenMP threads), so an executor runs one task at a time ({@code spark.task.cpus} = its cores), and
 * its ND4J gets as many threads. OpenMP and OpenBLAS read {@code OMP_NUM_THREADS} when their native libraries load,
 * which is why it is set in the executors' environment rather than from Java.
 */
final class SparkSettings {

    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)(?:,\\d+)?]");

    private SparkSettings() {}

    /** Fills in the settings; returns warnings for the user (settings that work against the job). */
    static List<String> apply(SparkConf conf) {
        List<String> warnings = new ArrayList<>();
        String master = conf.get("spark.master", "");
        Integer localCores = localCores(master);
        int cores;
        if (localCores != null) {
            cores = localCores;
        } else if (conf.contains("spark.executor.cores")) {
            cores = conf.getInt("spark.executor.cores", 1);
        } else {
            cores = 1;
            warnings.add("spark.executor.cores is not set: assuming 1 core per executor. Set it (--executor-cores N) "
                    + "so that each executor runs one clip at a time with N ND4J threads");
        }
        conf.setIfMissing("spark.task.cpus", Integer.toString(cores));
        int taskCpus = conf.getInt("spark.task.cpus", 1);
        if (taskCpus != cores) {
            warnings.add("spark.task.cpus is " + taskCpus + " but executors have " + cores + " cores: tasks of one "
                    + "executor will wait for its one model; leave spark.task.cpus unset");
        }
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", Integer.toString(taskCpus));
        // OpenMP threads spin while waiting for work by default, taking cores from the other processes of a node
        conf.setIfMissing("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        // return the 100-600 MB activations the models free to the OS at once (lower peak RSS), as ./v2a does
        conf.setIfMissing("spark.executorEnv.MALLOC_MMAP_THRESHOLD_", "1048576");
        // and fault those blocks in as transparent huge pages (glibc 2.35+), as ./v2a does
        conf.setIfMissing("spark.executorEnv.GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
        if (localCores != null) {
            // in local mode the executor is this JVM: its environment was fixed when it started
            String omp = System.getenv("OMP_NUM_THREADS");
            int threads = omp == null ? Runtime.getRuntime().availableProcessors() : parseOr(omp, -1);
            if (threads != taskCpus) {
                warnings.add(master + " runs one clip at a time on " + taskCpus + " cores but ND4J in this JVM uses "
                        + (omp == null ? "all " + threads + " cores (OMP_NUM_THREADS unset)" : "OMP_NUM_THREADS=" + omp)
                        + "; start the JVM with OMP_NUM_THREADS=" + taskCpus + " (./v2a-spark does)");
            }
        }
        return warnings;
    }

    /** N for local[N] (local[*]: the machine's cores; local: 1); null when the master is not local. */
    static Integer localCores(String master) {
        if (master.equals("local")) return 1;
        Matcher m = LOCAL.matcher(master);
        if (!m.matches()) return null;
        return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }

    private static int parseOr(String s, int fallback) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
