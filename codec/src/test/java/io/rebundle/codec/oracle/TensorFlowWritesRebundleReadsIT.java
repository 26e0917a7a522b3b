package io.rebundle.codec.oracle;

import static io.rebundle.codec.oracle.OracleSupport.FIXED_DTYPES;
import static io.rebundle.codec.oracle.OracleSupport.SHAPES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** TensorFlow's SaveV2 / MergeV2Checkpoints write; Rebundle reads every value back exactly. */
class TensorFlowWritesRebundleReadsIT extends OracleTestBase {

  @Test
  void readsEveryDtypeAndShapeTensorFlowWrites() {
    Random random = new Random(42);
    Map<String, OracleTensor> written = new LinkedHashMap<>();
    for (DType dtype : FIXED_DTYPES) {
      for (long[] shape : SHAPES) {
        String key = OracleSupport.keyFor(dtype, shape);
        written.put(
            key,
            OracleTensor.of(
                key, dtype.code(), shape, OracleSupport.randomData(dtype, shape, random)));
      }
    }
    String prefix = dir.resolve("all-dtypes").toString();
    tf.save(prefix, new ArrayList<>(written.values()));

    try (CheckpointReader reader = CheckpointReader.open(io, prefix)) {
      assertEquals(1, reader.header().numShards());
      assertFalse(reader.isObjectBased());
      int count = 0;
      for (IndexRecord r : reader.records()) {
        OracleTensor expected = written.get(r.name());
        assertNotNull(expected, "unexpected key " + r.name());
        Tensor actual = reader.read(r.name(), r.entry());
        assertEquals(DType.fromCode(expected.dtype()), actual.dtype(), r.name());
        assertEquals(TensorShape.of(expected.shape()), actual.shape(), r.name());
        assertArrayEquals(expected.data(), actual.data(), r.name());
        count++;
      }
      assertEquals(written.size(), count);
    }
  }

  @Test
  void readsStringTensorsOfEveryShape() {
    List<byte[]> values = OracleSupport.sampleStrings();
    String prefix = dir.resolve("strings").toString();
    tf.save(
        prefix,
        List.of(
            OracleTensor.ofStrings("scalar", new long[0], List.of(values.get(1))),
            OracleTensor.ofStrings("empty_scalar", new long[0], List.of(new byte[0])),
            OracleTensor.ofStrings("matrix", new long[] {2, 3}, values),
            OracleTensor.ofStrings("none", new long[] {0}, List.of()),
            OracleTensor.ofStrings("long", new long[] {1}, List.of(new byte[70_000]))));
    try (CheckpointReader reader = CheckpointReader.open(io, prefix)) {
      assertEquals(
          new String(values.get(1), java.nio.charset.StandardCharsets.UTF_8),
          new String(
              reader.read("scalar").strings().get(0), java.nio.charset.StandardCharsets.UTF_8));
      assertEquals(0, reader.read("empty_scalar").strings().get(0).length);
      Tensor matrix = reader.read("matrix");
      for (int i = 0; i < values.size(); i++) {
        assertArrayEquals(values.get(i), matrix.strings().get(i), "element " + i);
      }
      assertEquals(0, reader.read("none").strings().size());
      assertEquals(
          4, reader.entry("none").size(), "an empty string tensor stores only its length checksum");
      assertArrayEquals(new byte[70_000], reader.read("long").strings().get(0));
    }
  }

  @Test
  void assemblesSlicedTensorsTensorFlowWrites() {
    Random random = new Random(3);
    float[][] full = new float[4][6];
    for (float[] row : full) {
      for (int j = 0; j < row.length; j++) {
        row[j] = random.nextFloat();
      }
    }
    String prefix = dir.resolve("sliced").toString();
    // A 2x2 grid of blocks, and a second tensor split along dimension 1 only.
    tf.save(
        prefix,
        List.of(
            OracleTensor.slice(
                "grid", 1, new long[] {2, 3}, block(full, 0, 0, 2, 3), "4 6 0,2:0,3"),
            OracleTensor.slice(
                "grid", 1, new long[] {2, 3}, block(full, 0, 3, 2, 3), "4 6 0,2:3,3"),
            OracleTensor.slice(
                "grid", 1, new long[] {2, 3}, block(full, 2, 0, 2, 3), "4 6 2,2:0,3"),
            OracleTensor.slice(
                "grid", 1, new long[] {2, 3}, block(full, 2, 3, 2, 3), "4 6 2,2:3,3"),
            OracleTensor.slice("cols", 1, new long[] {4, 2}, block(full, 0, 0, 4, 2), "4 6 -:0,2"),
            OracleTensor.slice(
                "cols", 1, new long[] {4, 4}, block(full, 0, 2, 4, 4), "4 6 -:2,4")));
    byte[] expected = block(full, 0, 0, 4, 6);
    try (CheckpointReader reader = CheckpointReader.open(io, prefix)) {
      BundleEntry grid = reader.entry("grid");
      assertEquals(4, grid.slices().size());
      assertEquals(TensorShape.of(4, 6), grid.shape());
      assertArrayEquals(expected, reader.read("grid").data());
      assertEquals(2, reader.entry("cols").slices().size());
      assertArrayEquals(expected, reader.read("cols").data());
      long sliceEntries = 0;
      for (IndexRecord r : reader.records()) {
        if (r.isSliceEntry()) {
          sliceEntries++;
        }
      }
      assertEquals(6, sliceEntries);
    }
  }

  @Test
  void readsMergedMultiShardCheckpoints() {
    Random random = new Random(5);
    String a = dir.resolve("tmp/part-00000-of-00002").toString();
    String b = dir.resolve("tmp/part-00001-of-00002").toString();
    byte[] x = OracleSupport.randomData(DType.FLOAT, new long[] {3}, random);
    byte[] y = OracleSupport.randomData(DType.INT64, new long[] {2}, random);
    byte[] z = OracleSupport.randomData(DType.DOUBLE, new long[0], random);
    tf.save(
        a,
        List.of(
            OracleTensor.of("x", 1, new long[] {3}, x), OracleTensor.of("z", 2, new long[0], z)));
    tf.save(b, List.of(OracleTensor.of("y", 9, new long[] {2}, y)));
    String merged = dir.resolve("merged").toString();
    tf.merge(List.of(a, b), merged);
    assertTrue(Files.exists(dir.resolve("merged.data-00001-of-00002")));
    try (CheckpointReader reader = CheckpointReader.open(io, merged)) {
      assertEquals(2, reader.header().numShards());
      assertEquals(0, reader.entry("x").shardId());
      assertEquals(1, reader.entry("y").shardId());
      assertArrayEquals(x, reader.read("x").data());
      assertArrayEquals(y, reader.read("y").data());
      assertArrayEquals(z, reader.read("z").data());
    }
  }

  static byte[] block(float[][] m, int r0, int c0, int rows, int cols) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(rows * cols * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = r0; i < r0 + rows; i++) {
      for (int j = c0; j < c0 + cols; j++) {
        b.putFloat(m[i][j]);
      }
    }
    return b.array();
  }
}
