package io.github.v2a4j.spark;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Inputs and outputs through Hadoop's FileSystem API (local paths, HDFS, S3A: whatever the cluster configures), with
 * the driver's Hadoop configuration (including {@code spark.hadoop.*} settings) carried to the executors.
 */
final class HadoopFiles implements Serializable {

    private static final long serialVersionUID = 1L;

    private transient Configuration conf;

    HadoopFiles(Configuration conf) {
        this.conf = conf;
    }

    Configuration conf() {
        return conf;
    }

    /**
     * The file system of {@code p}. For local paths it is the raw one: the checksummed default would leave a
     * {@code .NAME.crc} file beside every output.
     */
    FileSystem fs(Path p) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    /** Copies {@code source} to the local file {@code target}; a missing source says so in one line. */
    void copyToLocal(Path source, java.nio.file.Path target) throws IOException {
        FileSystem fs = fs(source);
        try {
            if (fs.getFileStatus(source).isDirectory()) throw new IOException(source + ": is a directory, not a video");
        } catch (FileNotFoundException e) {
            throw new IOException(source + ": no such video file");
        }
        fs.copyToLocalFile(false, source, new Path(target.toUri()), true);
    }

    /**
     * Publishes the local file {@code local} as {@code target}: copied to a temporary name beside the target, then
     * renamed, so the target is either absent or complete. Returns false, leaving the target alone, when it appeared
     * meanwhile on a file system whose rename does not replace (HDFS): another attempt of the same row wrote it.
     */
    boolean publish(java.nio.file.Path local, Path target) throws IOException {
        FileSystem fs = fs(target);
        Path dir = target.getParent();
        if (!fs.exists(dir) && !fs.mkdirs(dir)) throw new IOException(dir + ": cannot create the output directory");
        Path tmp = new Path(dir, "." + target.getName() + "." + UUID.randomUUID() + ".v2a-part");
        try {
            fs.copyFromLocalFile(false, true, new Path(local.toUri()), tmp);
            if (fs.rename(tmp, target)) return true;
            if (fs.exists(target)) return false;
            throw new IOException(target + ": cannot rename " + tmp.getName() + " into place");
        } finally {
            if (fs.exists(tmp)) fs.delete(tmp, false);
        }
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
