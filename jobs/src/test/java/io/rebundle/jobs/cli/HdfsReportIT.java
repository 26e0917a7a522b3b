package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.jobs.io.MiniHdfs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --report hdfs://...} lands in HDFS (it once wrote ./hdfs:/nn/... in the working
 * directory).
 */
class HdfsReportIT {
  private static MiniDFSCluster cluster;
  private static FileSystem fs;

  @TempDir Path dir;

  @BeforeAll
  static void startCluster() throws IOException {
    cluster = MiniHdfs.start("minidfs-report");
    fs = cluster.getFileSystem();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @Test
  void reportToAnHdfsUriIsWrittenToHdfs() throws Exception {
    String location = fs.getUri() + "/reports/nested/r.json";
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--report",
            location,
            CliRunner.example("tf1-ckpt"),
            dir.resolve("out").toString());
    assertEquals(0, r.exitCode(), r.err());
    JsonNode json;
    try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(location))) {
      json = new ObjectMapper().readTree(in);
    }
    assertEquals("succeeded", json.get("status").asText());
    assertEquals(
        dir.resolve("out").toString(), json.get("conversions").get(0).get("destination").asText());
    assertEquals(
        1, fs.listStatus(new org.apache.hadoop.fs.Path(fs.getUri() + "/reports/nested")).length);
    assertFalse(Files.exists(Path.of("hdfs:")), "a local hdfs: directory");
  }
}
