package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.Location;
import io.rebundle.jobs.io.HadoopFileIO;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The storage options every command shares (a picocli mixin: {@code @Mixin StorageOptions storage})
 * and the choice of storage for locations: local paths use {@link LocalFileIO} (positioned reads on
 * file channels); any URI with a scheme other than {@code file:} goes through Hadoop's FileSystem,
 * configured the way Spark configures it:
 *
 * <ol>
 *   <li>{@code core-default.xml} and {@code core-site.xml} from the classpath;
 *   <li>{@code core-site.xml} and {@code hdfs-site.xml} of {@code $HADOOP_CONF_DIR};
 *   <li>every {@code --conf spark.hadoop.KEY=VALUE}, as {@code KEY=VALUE}.
 * </ol>
 *
 * Credentials come from the connectors' standard chains (AWS environment, profile and instance
 * role; Google application default credentials); nothing here reads them. No Hadoop type appears in
 * this class's signatures (picocli reflects over mixins for every command; {@link HadoopSettings}
 * holds them), so a command on local paths loads no Hadoop class.
 */
public final class StorageOptions {
  /** Spark's prefix for Hadoop settings. */
  static final String HADOOP_PREFIX = "spark.hadoop.";

  @Option(
      names = "--conf",
      paramLabel = "KEY=VALUE",
      description =
          "A setting, repeatable: spark.hadoop.KEY=VALUE sets the Hadoop setting KEY "
              + "(e.g. spark.hadoop.fs.s3a.endpoint=http://host:9000); other spark.* keys go to Spark.")
  List<String> conf = new ArrayList<>();

  /** Every --conf, in order (later ones win), keys as given. */
  public Map<String, String> settings() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String c : conf) {
      int eq = c.indexOf('=');
      if (eq <= 0) {
        throw new UsageException("Invalid --conf: " + c + " (expected KEY=VALUE)");
      }
      String key = c.substring(0, eq).strip();
      if (!key.startsWith("spark.")) {
        throw new UsageException(
            "Invalid --conf: "
                + key
                + " is not a Spark setting; Hadoop settings are given as "
                + HADOOP_PREFIX
                + key
                + "=VALUE");
      }
      m.put(key, c.substring(eq + 1));
    }
    return m;
  }

  /**
   * The settings for a Spark context: all of them (Spark itself hands spark.hadoop.* to Hadoop).
   */
  public Map<String, String> sparkSettings() {
    return settings();
  }

  /** One storage for all of {@code locations}, configured by this command's options. */
  public FileIO forLocations(String... locations) {
    Map<String, String> settings = settings(); // checked even when no location needs Hadoop
    for (String l : locations) {
      if (!isLocal(l)) {
        return new HadoopFileIO(HadoopSettings.configuration(settings, System.getenv()));
      }
    }
    return new LocalFileIO();
  }

  static boolean isLocal(String location) {
    return Location.isLocal(location);
  }
}
