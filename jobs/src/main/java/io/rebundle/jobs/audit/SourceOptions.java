package io.rebundle.jobs.audit;

import io.rebundle.jobs.discover.CheckpointDiscovery;
import java.io.Serializable;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * The options of the {@code tfcheckpoint} source: the paths, Spark's generic file options that
 * apply ({@code recursiveFileLookup} (default true: checkpoints are found at any depth), {@code
 * pathGlobFilter}, {@code modifiedAfter}, {@code modifiedBefore}, {@code ignoreCorruptFiles}),
 * {@code maxPartitionBytes}/{@code openCostInBytes} (default: the session's {@code
 * spark.sql.files.*} values), and Hadoop settings ({@code fs.*} options).
 */
record SourceOptions(List<String> paths, Map<String, String> options) implements Serializable {

  static SourceOptions parse(Map<String, String> raw) {
    Map<String, String> o = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    o.putAll(raw);
    List<String> paths = new ArrayList<>();
    if (o.containsKey("path")) {
      paths.add(o.get("path"));
    }
    if (o.containsKey("paths")) {
      try {
        String[] list =
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readValue(o.get("paths"), String[].class);
        paths.addAll(List.of(list));
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("Invalid paths option: " + e.getMessage(), e);
      }
    }
    return new SourceOptions(List.copyOf(paths), Map.copyOf(o));
  }

  String get(String key) {
    for (Map.Entry<String, String> e : options.entrySet()) {
      if (e.getKey().equalsIgnoreCase(key)) {
        return e.getValue();
      }
    }
    return null;
  }

  boolean flag(String key, boolean dflt) {
    String v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(
          "Invalid option " + key + "=" + v + ": must be true or false");
    }
    return Boolean.parseBoolean(v);
  }

  long bytes(SparkSession spark, String key, String conf, long dflt) {
    String v = get(key);
    if (v == null) {
      v = spark.conf().get(conf, null);
    }
    if (v == null) {
      return dflt;
    }
    try {
      return org.apache.spark.network.util.JavaUtils.byteStringAsBytes(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Invalid option " + key + "=" + v + ": not a byte size", e);
    }
  }

  /**
   * The Hadoop configuration: the session's, plus {@code fs.*} and {@code spark.hadoop.*} options.
   */
  Configuration hadoopConf(SparkSession spark) {
    Configuration c = new Configuration(spark.sparkContext().hadoopConfiguration());
    options.forEach(
        (k, v) -> {
          if (k.startsWith("fs.")) {
            c.set(k, v);
          } else if (k.startsWith("spark.hadoop.")) {
            c.set(k.substring("spark.hadoop.".length()), v);
          }
        });
    return c;
  }

  CheckpointDiscovery.Options discovery(SparkSession spark) {
    CheckpointDiscovery.Options d =
        CheckpointDiscovery.Options.DEFAULT
            .withRecursive(flag("recursiveFileLookup", true))
            .withPathGlobFilter(get("pathGlobFilter"));
    return d.withModified(
        time(spark, "modifiedAfter", Long.MIN_VALUE),
        time(spark, "modifiedBefore", Long.MAX_VALUE));
  }

  /**
   * Spark's format for modifiedAfter/Before: {@code YYYY-MM-DDTHH:mm:ss}, in the session time zone.
   */
  private long time(SparkSession spark, String key, long dflt) {
    String v = get(key);
    if (v == null) {
      return dflt;
    }
    try {
      ZoneId zone =
          ZoneId.of(spark.conf().get("spark.sql.session.timeZone", ZoneId.systemDefault().getId()));
      return LocalDateTime.parse(v).atZone(zone).toInstant().toEpochMilli();
    } catch (java.time.DateTimeException e) {
      throw new IllegalArgumentException(
          "Invalid option " + key + "=" + v + ": expected a time like 2024-01-31T12:00:00", e);
    }
  }

  boolean ignoreCorruptFiles(SparkSession spark) {
    return flag(
        "ignoreCorruptFiles",
        Boolean.parseBoolean(
            spark
                .conf()
                .get("spark.sql.files.ignoreCorruptFiles", "false")
                .toLowerCase(Locale.ROOT)));
  }
}
