package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.io.HadoopFileIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageOptionsTest {
  @TempDir Path dir;

  @Test
  void hadoopSettingsComeFromConfDirThenConf() throws Exception {
    Files.writeString(
        dir.resolve("core-site.xml"),
        "<configuration>"
            + "<property><name>fs.s3a.endpoint</name><value>http://from-site:9000</value></property>"
            + "<property><name>fs.s3a.path.style.access</name><value>true</value></property>"
            + "</configuration>");
    Configuration c =
        HadoopSettings.configuration(
            Map.of(
                "spark.hadoop.fs.s3a.endpoint",
                "http://from-conf:9000",
                "spark.executor.memory",
                "4g"),
            Map.of("HADOOP_CONF_DIR", dir.toString()));
    assertEquals("http://from-conf:9000", c.get("fs.s3a.endpoint"));
    assertEquals("true", c.get("fs.s3a.path.style.access"));
    assertNull(c.get("spark.executor.memory"));
    assertNull(c.get("executor.memory"));
  }

  @Test
  void settingsAreCheckedAndChooseTheStorage() {
    StorageOptions o = new StorageOptions();
    o.conf = List.of("spark.hadoop.fs.s3a.endpoint=http://x:1", "spark.hadoop.a=b=c");
    assertEquals(
        Map.of("spark.hadoop.fs.s3a.endpoint", "http://x:1", "spark.hadoop.a", "b=c"),
        o.settings());
    assertInstanceOf(LocalFileIO.class, o.forLocations("/tmp/a", "file:/tmp/b"));
    HadoopFileIO h = assertInstanceOf(HadoopFileIO.class, o.forLocations("/tmp/a", "s3a://b/c"));
    assertEquals("b=c", h.conf().get("a"));
    o.conf = List.of("novalue");
    assertEquals(
        "Invalid --conf: novalue (expected KEY=VALUE)",
        assertThrows(UsageException.class, o::settings).getMessage());
  }
}
