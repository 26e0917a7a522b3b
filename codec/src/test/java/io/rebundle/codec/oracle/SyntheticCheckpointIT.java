package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.synth.SyntheticCheckpoint;
import io.rebundle.codec.synth.SyntheticData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorFlow restores every tensor of synthetic checkpoints, slices assembled, with the generated
 * values.
 */
class SyntheticCheckpointIT {
  private static TfOracle tf;
  @TempDir Path dir;

  @BeforeAll
  static void loadTensorFlow() {
    tf = OracleSupport.openOrSkip();
  }

  @AfterAll
  static void close() {
    if (tf != null) {
      tf.close();
    }
  }

  @Test
  void tensorFlowRestoresEveryTensorOfBothFormats() {
    for (CheckpointFormat format : CheckpointFormat.values()) {
      SyntheticCheckpoint.Options o =
          new SyntheticCheckpoint.Options(
              format,
              256 << 10,
              12,
              1 << 20,
              List.of(DType.FLOAT, DType.BFLOAT16, DType.HALF, DType.INT64),
              3,
              2,
              21);
      String prefix = dir.resolve(format.id()).resolve("ckpt").toString();
      SyntheticCheckpoint.Layout layout =
          SyntheticCheckpoint.write(new LocalFileIO(), prefix, o, false, false).layout();
      for (SyntheticCheckpoint.Variable v : layout.variables()) {
        byte[] expected = new byte[(int) v.bytes()];
        SyntheticData.of(v.dtype(), v.dataSeed()).fill(0, expected, 0, expected.length);
        OracleTensor t = tf.restore(prefix, v.key(), v.dtype().code());
        assertArrayEquals(v.shape().dims(), t.shape(), v.key());
        assertArrayEquals(expected, t.data(), v.key());
      }
    }
  }
}
