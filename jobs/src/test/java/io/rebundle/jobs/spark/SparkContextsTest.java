package io.rebundle.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkContextsTest {
  @TempDir Path dir;

  @Test
  void readsSparkDefaultsSyntaxAndIgnoresCommentsAndAbsentFiles() throws Exception {
    Path f = dir.resolve("spark-defaults.conf");
    Files.writeString(
        f, "# comment\n\nspark.ui.enabled   false\nspark.executor.memory=4g\n  spark.a.b  x y  \n");
    String before = System.getProperty(SparkContexts.DEFAULTS_PROPERTY);
    try {
      System.setProperty(SparkContexts.DEFAULTS_PROPERTY, f.toString());
      assertEquals(
          Map.of("spark.ui.enabled", "false", "spark.executor.memory", "4g", "spark.a.b", "x y"),
          SparkContexts.defaultsFile());
      System.setProperty(SparkContexts.DEFAULTS_PROPERTY, dir.resolve("absent.conf").toString());
      assertEquals(Map.of(), SparkContexts.defaultsFile());
    } finally {
      if (before == null) {
        System.clearProperty(SparkContexts.DEFAULTS_PROPERTY);
      } else {
        System.setProperty(SparkContexts.DEFAULTS_PROPERTY, before);
      }
    }
  }

  @Test
  void theShippedDefaultsKeepEmbeddedRunsOnLoopbackWithoutAUi() throws Exception {
    String root = System.getProperty("rebundle.repo.root", "..");
    String before = System.getProperty(SparkContexts.DEFAULTS_PROPERTY);
    try {
      System.setProperty(
          SparkContexts.DEFAULTS_PROPERTY, Path.of(root, "conf", "spark-defaults.conf").toString());
      Map<String, String> d = SparkContexts.defaultsFile();
      assertEquals("false", d.get("spark.ui.enabled"));
      assertEquals("127.0.0.1", d.get("spark.driver.bindAddress"));
    } finally {
      if (before == null) {
        System.clearProperty(SparkContexts.DEFAULTS_PROPERTY);
      } else {
        System.setProperty(SparkContexts.DEFAULTS_PROPERTY, before);
      }
    }
  }
}
