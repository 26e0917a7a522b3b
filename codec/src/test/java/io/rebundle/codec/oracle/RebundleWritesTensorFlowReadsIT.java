package io.rebundle.codec.oracle;

import static io.rebundle.codec.oracle.OracleSupport.FIXED_DTYPES;
import static io.rebundle.codec.oracle.OracleSupport.SHAPES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Rebundle writes; TensorFlow's RestoreV2 reads every value back exactly. */
class RebundleWritesTensorFlowReadsIT extends OracleTestBase {

  @Test
  void tensorFlowRestoresEveryDtypeAndShapeRebundleWrites() {
    Random random = new Random(11);
    Map<String, Tensor> written = new LinkedHashMap<>();
    String prefix = dir.resolve("ours").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      for (DType dtype : FIXED_DTYPES) {
        for (long[] shape : SHAPES) {
          String key = OracleSupport.keyFor(dtype, shape);
          Tensor t =
              Tensor.of(
                  dtype, TensorShape.of(shape), OracleSupport.randomData(dtype, shape, random));
          written.put(key, t);
          w.add(key, t);
        }
      }
      List<byte[]> strings = OracleSupport.sampleStrings();
      Tensor s = Tensor.ofStrings(TensorShape.of(2, 3), strings);
      written.put("strings", s);
      w.add("strings", s);
      Tensor empty = Tensor.ofStrings(TensorShape.of(0), List.of());
      written.put("no_strings", empty);
      w.add("no_strings", empty);
      w.finish();
    }
    for (Map.Entry<String, Tensor> e : written.entrySet()) {
      OracleTensor restored = tf.restore(prefix, e.getKey(), e.getValue().dtype().code(), "");
      assertEquals(e.getValue(), OracleSupport.fromOracle(restored), e.getKey());
    }
  }

  @Test
  void tensorFlowRestoresSlicedTensorsWholeAndBySubSlice() {
    Random random = new Random(12);
    float[][] full = new float[4][6];
    for (float[] row : full) {
      for (int j = 0; j < row.length; j++) {
        row[j] = random.nextFloat();
      }
    }
    TensorShape shape = TensorShape.of(4, 6);
    String prefix = dir.resolve("sliced").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 2, false)) {
      int shard = 0;
      for (int r = 0; r < 4; r += 2) {
        for (int c = 0; c < 6; c += 3) {
          TensorSlice slice = TensorSlice.parse(r + ",2:" + c + ",3");
          byte[] part = TensorFlowWritesRebundleReadsIT.block(full, r, c, 2, 3);
          w.addSlice(
              shard++ % 2,
              "grid",
              shape,
              slice,
              Tensor.of(DType.FLOAT, TensorShape.of(2, 3), part));
        }
      }
      w.finish();
    }
    OracleTensor whole = tf.restore(prefix, "grid", DType.FLOAT.code(), "");
    assertArrayEquals(TensorFlowWritesRebundleReadsIT.block(full, 0, 0, 4, 6), whole.data());
    OracleTensor middle = tf.restore(prefix, "grid", DType.FLOAT.code(), "4 6 1,2:2,3");
    assertArrayEquals(TensorFlowWritesRebundleReadsIT.block(full, 1, 2, 2, 3), middle.data());
  }

  @Test
  void tensorFlowRestoresFromEveryShardOfAMultiShardCheckpoint() {
    String prefix = dir.resolve("sharded").toString();
    Random random = new Random(13);
    Map<String, Tensor> written = new LinkedHashMap<>();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 3, false)) {
      for (int i = 0; i < 9; i++) {
        Tensor t =
            Tensor.of(
                DType.INT32,
                TensorShape.of(i + 1),
                OracleSupport.randomData(DType.INT32, new long[] {i + 1}, random));
        written.put("v" + i, t);
        w.add(i % 3, "v" + i, t);
      }
      w.finish();
    }
    for (Map.Entry<String, Tensor> e : written.entrySet()) {
      OracleTensor restored = tf.restore(prefix, e.getKey(), DType.INT32.code(), "");
      assertArrayEquals(e.getValue().data(), restored.data(), e.getKey());
    }
  }
}
