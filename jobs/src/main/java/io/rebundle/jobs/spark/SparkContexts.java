package io.rebundle.jobs.spark;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Creates the Spark context of a command. Under spark-submit the master and settings come from it
 * ({@code spark.master} is set); otherwise Rebundle runs embedded, {@code local[*]} in this JVM,
 * with the UI off and everything bound to the loopback address.
 */
public final class SparkContexts {
  private SparkContexts() {}

  public static boolean underSparkSubmit() {
    return System.getProperty("spark.master") != null;
  }

  /**
   * As {@link #create(String, String, Map)}, then, on a cluster, one line on {@code err} with the
   * application id and the UI's URL, so a user can find the run in YARN or the Spark UI at once.
   * Embedded runs ({@code local[...]}, UI off) print nothing.
   */
  public static JavaSparkContext create(
      String appName, String master, Map<String, String> conf, java.io.PrintWriter err) {
    JavaSparkContext sc = create(appName, master, conf);
    String line = announcement(sc);
    if (err != null && line != null) {
      err.println(line);
      err.flush();
    }
    return sc;
  }

  /** "rebundle: Spark application ID on MASTER, UI URL", or null for a local context. */
  static String announcement(JavaSparkContext sc) {
    if (sc.isLocal()) {
      return null;
    }
    scala.Option<String> ui = sc.sc().uiWebUrl();
    return "rebundle: Spark application "
        + sc.sc().applicationId()
        + " on "
        + sc.master()
        + (ui.isDefined() ? ", UI " + ui.get() : ", no UI (spark.ui.enabled=false)");
  }

  public static JavaSparkContext create(String appName, String master, Map<String, String> conf) {
    SparkConf sc = new SparkConf(true).setAppName(appName);
    if (!underSparkSubmit() || master != null) {
      sc.setMaster(master == null ? "local[*]" : master);
    }
    if (!underSparkSubmit()) {
      // conf/spark-defaults.conf (passed by submit.sh) first, then the built-in embedded defaults.
      defaultsFile().forEach(sc::setIfMissing);
      sc.setIfMissing("spark.ui.enabled", "false");
      sc.setIfMissing("spark.ui.showConsoleProgress", "false");
      sc.setIfMissing("spark.driver.host", "127.0.0.1");
      sc.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
      sc.setIfMissing("spark.executor.heartbeatInterval", "1s");
      sc.setIfMissing("spark.sql.shuffle.partitions", "4");
    }
    conf.forEach(sc::set);
    return new JavaSparkContext(sc);
  }

  /** System property naming a Spark properties file for embedded runs. */
  public static final String DEFAULTS_PROPERTY = "rebundle.spark.defaults";

  /**
   * Settings of the file named by {@value #DEFAULTS_PROPERTY}, in spark-defaults.conf syntax
   * ({@code key value} or {@code key=value} per line, {@code #} comments); empty if unset or
   * absent.
   */
  static Map<String, String> defaultsFile() {
    String file = System.getProperty(DEFAULTS_PROPERTY);
    Map<String, String> out = new java.util.LinkedHashMap<>();
    if (file == null || !java.nio.file.Files.isRegularFile(java.nio.file.Path.of(file))) {
      return out;
    }
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(file))) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] kv = t.split("[\\s=]+", 2);
        if (kv.length == 2) {
          out.put(kv[0], kv[1].strip());
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "Cannot read Spark defaults " + file + ": " + e.getMessage(), e);
    }
    return out;
  }
}
