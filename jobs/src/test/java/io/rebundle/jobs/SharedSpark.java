package io.rebundle.jobs;

import io.rebundle.jobs.spark.SparkContexts;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The one Spark context of the test JVM: Spark allows a single active context per JVM and the first
 * costs about two seconds, so every Spark test shares it ({@code local[2]}, UI off, loopback, made
 * by the same {@link SparkContexts#create} the command line uses). Created on first use; Spark's
 * own shutdown hook stops it. Always call {@link #context()} rather than keeping the result: a test
 * that needs the JVM free of contexts calls {@link #stop()}, and the next caller gets a fresh one.
 */
public final class SharedSpark {
  private static JavaSparkContext context;

  private SharedSpark() {}

  public static synchronized JavaSparkContext context() {
    if (context == null || context.sc().isStopped()) {
      context = SparkContexts.create("rebundle tests", "local[2]", Map.of());
    }
    return context;
  }

  /** Stops the shared context, if one is running. */
  public static synchronized void stop() {
    if (context != null) {
      context.close();
      context = null;
    }
  }
}
