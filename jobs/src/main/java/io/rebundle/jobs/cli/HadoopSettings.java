package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.io.HadoopFileIO;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Hadoop configurations for the commands' storage, as {@link StorageOptions} describes them. Kept
 * out of the picocli-reflected option classes so that their signatures name no Hadoop type.
 */
final class HadoopSettings {
  private HadoopSettings() {}

  /** Spark's prefix for Hadoop settings. */
  static final String HADOOP_PREFIX = StorageOptions.HADOOP_PREFIX;

  /** The Hadoop configuration of a command that runs without Spark. */
  static Configuration configuration(Map<String, String> settings, Map<String, String> env) {
    Configuration c = new Configuration();
    String dir = env.get("HADOOP_CONF_DIR");
    if (dir != null && !dir.isBlank()) {
      for (String name : List.of("core-site.xml", "hdfs-site.xml")) {
        java.nio.file.Path file = java.nio.file.Path.of(dir, name);
        if (Files.isRegularFile(file)) {
          c.addResource(new org.apache.hadoop.fs.Path(file.toUri()));
        }
      }
    }
    settings.forEach(
        (k, v) -> {
          if (k.startsWith(HADOOP_PREFIX) && k.length() > HADOOP_PREFIX.length()) {
            c.set(k.substring(HADOOP_PREFIX.length()), v, "--conf " + k);
          }
        });
    return c;
  }

  /**
   * {@code base} (a Spark context's Hadoop configuration) with every {@code spark.hadoop.*} of
   * {@code settings} applied on a copy: what Spark does for a context it creates, also for one that
   * already runs (embedded tests, a lent context).
   */
  static Configuration withSettings(Configuration base, Map<String, String> settings) {
    Configuration c = new Configuration(base);
    settings.forEach(
        (k, v) -> {
          if (k.startsWith(HADOOP_PREFIX) && k.length() > HADOOP_PREFIX.length()) {
            c.set(k.substring(HADOOP_PREFIX.length()), v, "--conf " + k);
          }
        });
    return c;
  }

  /** One storage for all locations; Hadoop's, with {@code hadoopConf}, if any of them needs it. */
  static FileIO forLocations(Configuration hadoopConf, String... locations) {
    for (String l : locations) {
      if (!StorageOptions.isLocal(l)) {
        return new HadoopFileIO(hadoopConf);
      }
    }
    return new LocalFileIO();
  }
}
