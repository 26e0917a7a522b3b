package io.rebundle.jobs.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfCheckpointSourceTest {
  @TempDir static Path dir;
  static SparkSession spark;
  static float[] big;
  static String root;

  static Tensor floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(v.length), b.array());
  }

  @BeforeAll
  static void lake() throws Exception {
    spark = AuditSpark.session();
    LocalFileIO io = new LocalFileIO();
    try (CheckpointWriter w =
        CheckpointWriter.create(io, dir.resolve("a/model/ckpt-1").toString())) {
      w.add("small", floats(new float[] {1, 2, 3, Float.NaN}));
      w.add("other", floats(new float[] {-1, 0}));
      w.add("step", TestCheckpoints.int64Scalar(7));
      w.finish();
    }
    big = new float[(3 << 20) / 4 + 123]; // 3 MiB + 492 bytes: four ranges of 1 MiB
    java.util.Random r = new java.util.Random(5);
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) r.nextGaussian();
    }
    big[1000] = Float.POSITIVE_INFINITY;
    try (CheckpointWriter w =
        CheckpointWriter.create(io, dir.resolve("b/deep/er/ckpt-2").toString())) {
      w.add("big", floats(big));
      w.add("tiny", floats(new float[] {5}));
      w.finish();
    }
    Files.createDirectories(dir.resolve("c"));
    Files.write(dir.resolve("c/bad.index"), new byte[100]); // not an SSTable
    root = "countfs://" + dir.toAbsolutePath();
  }

  Dataset<Row> read(String... options) {
    var reader = spark.read().format("tfcheckpoint").option("ignoreCorruptFiles", "true");
    for (int i = 0; i < options.length; i += 2) {
      reader = reader.option(options[i], options[i + 1]);
    }
    return reader.load(root);
  }

  @Test
  void indexColumnsReadNoDataBytes() {
    CountingFileSystem.DATA_BYTES.set(0);
    List<Row> rows =
        read()
            .select(
                "checkpoint",
                "key",
                "dtype",
                "shape",
                "bytes",
                "format",
                "is_optimizer_slot",
                "shard",
                "offset",
                "crc32c")
            .orderBy("key")
            .collectAsList();
    assertEquals(5, rows.size());
    assertEquals(0, CountingFileSystem.DATA_BYTES.get(), "an index-only query read data bytes");
    Row big = rows.get(0);
    assertEquals("big", big.getString(1));
    assertEquals("float32", big.getString(2));
    assertEquals(List.of((long) TfCheckpointSourceTest.big.length), big.getList(3));
    assertEquals(4L * TfCheckpointSourceTest.big.length, big.getLong(4));
    assertEquals("tf1", big.getString(5));
    assertTrue(
        big.getString(0).startsWith("countfs:") && big.getString(0).endsWith("/b/deep/er/ckpt-2"));
    // Asking for a statistic reads the data, once per byte.
    CountingFileSystem.DATA_BYTES.set(0);
    read().select("key", "mean").collectAsList();
    long dataBytes = 4L * (TfCheckpointSourceTest.big.length + 4 + 2 + 1) + 8;
    assertEquals(dataBytes, CountingFileSystem.DATA_BYTES.get());
  }

  @Test
  void keyAndDtypeFiltersSkipTheOtherTensors() {
    CountingFileSystem.DATA_BYTES.set(0);
    List<Row> rows =
        read()
            .where("key = 'small' AND dtype = 'float32'")
            .select("key", "nan_count", "mean", "max")
            .collectAsList();
    assertEquals(1, rows.size());
    assertEquals(1L, rows.get(0).getLong(1));
    assertEquals(2.0, rows.get(0).getDouble(2), 1e-15);
    assertEquals(3.0, rows.get(0).getDouble(3));
    // countfs reads are requests, so the reader may coalesce the 16 selected bytes with a small
    // neighbour into one request (CoalescingRangeReader); the big tensor is never read.
    long read = CountingFileSystem.DATA_BYTES.get();
    assertTrue(read >= 16 && read <= 32, read + " data bytes read for a 16-byte tensor");
    assertEquals(0, read().where("dtype = 'int64' AND key LIKE 'sm%'").count());
    assertEquals(1, read().where("dtype = 'int64'").count());
  }

  @Test
  void hugeTensorsSplitIntoByteRangesAndMergeToTheSameRow() {
    String[] cols = {
      "key",
      "elements",
      "nan_count",
      "posinf_count",
      "zero_count",
      "min",
      "max",
      "mean",
      "std",
      "l2_norm",
      "abs_max",
      "fingerprint",
      "crc_ok"
    };
    Row whole =
        read()
            .where("key = 'big'")
            .select(cols[0], java.util.Arrays.copyOfRange(cols, 1, cols.length))
            .collectAsList()
            .get(0);
    Row split =
        read("maxPartitionBytes", "1m")
            .where("key = 'big'")
            .select(cols[0], java.util.Arrays.copyOfRange(cols, 1, cols.length))
            .collectAsList()
            .get(0);
    assertEquals(1L, whole.getLong(3));
    assertEquals(true, whole.getBoolean(12));
    for (int i = 1; i <= 4; i++) {
      assertEquals(whole.get(i), split.get(i), cols[i]);
    }
    for (int i = 5; i <= 10; i++) {
      assertEquals(
          whole.getDouble(i), split.getDouble(i), Math.abs(whole.getDouble(i)) * 1e-12, cols[i]);
    }
    assertEquals(whole.getString(11), split.getString(11));
    assertEquals(32, whole.getString(11).length());
    // An independent computation.
    double sum = 0;
    double sq = 0;
    int n = 0;
    for (float f : big) {
      if (Float.isFinite(f)) {
        sum += f;
        sq += (double) f * f;
        n++;
      }
    }
    assertEquals(sum / n, split.getDouble(7), Math.abs(sum / n) * 1e-9);
    assertEquals(Math.sqrt(sq), split.getDouble(9), Math.sqrt(sq) * 1e-9);
  }

  @Test
  void sqlOnAPathWorks() {
    List<Row> rows =
        spark
            .sql("SELECT key, max FROM tfcheckpoint.`" + root + "/a/model` WHERE key = 'small'")
            .collectAsList();
    assertEquals(1, rows.size());
    assertEquals(3.0, rows.get(0).getDouble(1));
    CountingFileSystem.DATA_BYTES.set(0);
    assertEquals(
        2,
        spark
            .sql(
                "SELECT count(*) FROM tfcheckpoint.`"
                    + root
                    + "/b` WITH ('recursiveFileLookup'='true') WHERE bytes > 0")
            .collectAsList()
            .get(0)
            .getLong(0));
    assertEquals(0, CountingFileSystem.DATA_BYTES.get());
  }

  @Test
  void genericFileOptions() {
    assertEquals(3, read("pathGlobFilter", "ckpt-1").count());
    assertEquals(0, read("modifiedBefore", "2001-01-01T00:00:00").count());
    assertEquals(5, read("modifiedAfter", "2001-01-01T00:00:00").count());
    assertEquals(
        0,
        spark
            .read()
            .format("tfcheckpoint")
            .option("recursiveFileLookup", "false")
            .load(root)
            .count());
    assertEquals(
        3,
        spark
            .read()
            .format("tfcheckpoint")
            .option("recursiveFileLookup", "false")
            .load(root + "/a/model")
            .count());
    Exception e =
        assertThrows(
            Exception.class,
            () ->
                spark
                    .read()
                    .format("tfcheckpoint")
                    .option("ignoreCorruptFiles", "false")
                    .load(root)
                    .count());
    Throwable t = e;
    while (t.getCause() != null && !(t instanceof io.rebundle.codec.RebundleException)) {
      t = t.getCause();
    }
    assertTrue(t.getMessage().contains("bad.index"), t.getMessage());
  }

  @Test
  void problemsAreRowsNotFailures() {
    Row r =
        read()
            .where("key = 'other'")
            .select("problem_kind", "problem", "zero_count", "negative_count")
            .collectAsList()
            .get(0);
    assertNull(r.get(0));
    assertEquals(1L, r.getLong(2));
    assertEquals(1L, r.getLong(3));
    Map<String, Long> byFormat = new TreeMap<>();
    for (Row x : read().groupBy("format").count().collectAsList()) {
      byFormat.put(x.getString(0), x.getLong(1));
    }
    assertEquals(Map.of("tf1", 5L), byFormat);
  }
}
