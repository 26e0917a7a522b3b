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

  public static JavaSparkContext create(String appName, String master, Map<String, String> conf) {
    SparkConf sc = new SparkConf(true).setAppName(appName);
    if (!underSparkSubmit() || master != null) {
      sc.setMaster(master == null ? "local[*]" : master);
    }
    if (!underSparkSubmit()) {
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
}
