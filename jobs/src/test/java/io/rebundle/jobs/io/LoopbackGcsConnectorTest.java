package io.rebundle.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parts of the GCS API that small checkpoints do not reach, through the connector's own
 * FileSystem: an upload in several resumable chunks, ranged reads deep in a large object, and a
 * listing longer than one page.
 */
class LoopbackGcsConnectorTest {
  private static GcsServer gcs;
  private static FileSystem fs;

  @BeforeAll
  static void start() throws Exception {
    gcs = new GcsServer();
    org.apache.hadoop.conf.Configuration conf = gcs.hadoopConf();
    conf.setBoolean("fs.gs.impl.disable.cache", true);
    // A small write buffer, so a 20 MiB object goes up in several chunks of one session.
    conf.set("fs.gs.outputstream.buffer.size", "1m");
    fs = new org.apache.hadoop.fs.Path(gcs.url("")).getFileSystem(conf);
  }

  @AfterAll
  static void stop() throws Exception {
    fs.close();
    gcs.close();
  }

  @AfterEach
  void everyRequestWasImplemented() {
    assertEquals(List.of(), gcs.unsupported(), "requests the loopback GCS server lacks");
  }

  @Test
  void largeObjectRoundTripsWithRangedReads() throws Exception {
    byte[] data = new byte[20 << 20];
    new Random(7).nextBytes(data);
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(gcs.url("big/blob"));
    long chunks = gcs.requests("chunk");
    try (FSDataOutputStream out = fs.create(p, false)) {
      for (int off = 0; off < data.length; off += 300_000) {
        out.write(data, off, Math.min(300_000, data.length - off));
      }
    }
    assertArrayEquals(data, gcs.download("big/blob"));
    System.out.printf(
        "20 MiB upload: %d resumable chunk requests%n", gcs.requests("chunk") - chunks);
    assertEquals(data.length, fs.getFileStatus(p).getLen());

    long served = gcs.mediaBytes();
    byte[] got = new byte[4096];
    try (FSDataInputStream in = fs.open(p)) {
      for (long at : new long[] {17_000_000L, 5L, data.length - 4096L}) {
        in.readFully(at, got);
        assertArrayEquals(Arrays.copyOfRange(data, (int) at, (int) at + 4096), got, "at " + at);
      }
    }
    assertTrue(gcs.mediaBytes() - served < data.length, "ranged reads fetched the whole object");
  }

  @Test
  void listingLongerThanAPage(@TempDir Path dir) throws Exception {
    for (int i = 0; i < 1205; i++) {
      Files.write(dir.resolve(String.format("f%04d", i)), new byte[] {(byte) i});
    }
    gcs.upload(dir, "many");
    long lists = gcs.requests("list");
    FileStatus[] st = fs.listStatus(new org.apache.hadoop.fs.Path(gcs.url("many")));
    assertEquals(1205, st.length);
    assertTrue(gcs.requests("list") - lists >= 2, "the listing took one page");
    assertEquals("f0000", st[0].getPath().getName());
    assertEquals("f1204", st[1204].getPath().getName());
  }

  @Test
  void missingObjectsAndConditionalCreates() throws Exception {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(gcs.url("cond/x"));
    assertThrows(FileNotFoundException.class, () -> fs.getFileStatus(p));
    try (FSDataOutputStream out = fs.create(p, false)) {
      out.write(1);
    }
    assertThrows(java.io.IOException.class, () -> fs.create(p, false).close());
    assertArrayEquals(new byte[] {1}, gcs.download("cond/x"));
    assertTrue(fs.delete(p, false));
    assertFalse(gcs.keys("cond/").contains("cond/x"));
  }
}
