package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Remapped and cast checkpoints, checked by TensorFlow: RestoreV2 by the new names returns the
 * source values, and our float32 → bfloat16/float16 casts equal TensorFlow's own Cast kernel bit
 * for bit (round to nearest even, NaN and infinities kept).
 */
class RemapOracleIT extends OracleTestBase {

  private static byte[] interestingFloats(int n) {
    ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    float[] special = {
      0f,
      -0f,
      1f,
      65504f,
      65519f,
      65520f,
      1e-8f,
      0x1p-25f,
      0x3p-25f,
      1f + 0x1p-8f,
      1f + 0x3p-8f,
      1f + 0x1p-11f,
      Float.NaN,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      Float.MAX_VALUE,
      Float.MIN_VALUE,
      3.4e38f,
      -2.5f
    };
    Random r = new Random(9);
    for (int i = 0; i < n; i++) {
      if (i < special.length) {
        b.putFloat(special[i]);
      } else if (i % 3 == 0) {
        b.putFloat(Float.intBitsToFloat(r.nextInt()));
      } else {
        b.putFloat((float) (r.nextGaussian() * Math.pow(10, r.nextInt(12) - 6)));
      }
    }
    return b.array();
  }

  @Test
  void tensorFlowRestoresRemappedAndCastTensorsByTheirNewNames() {
    String src = dir.resolve("src").toString();
    byte[] weights = interestingFloats(4096);
    byte[] bias = interestingFloats(64);
    tf.save(
        src,
        List.of(
            OracleTensor.of("bert/encoder/layer_0/kernel", 1, new long[] {64, 64}, weights),
            OracleTensor.of("bert/encoder/layer_0/bias", 1, new long[] {64}, bias),
            OracleTensor.of("global_step", 9, new long[0], new byte[8])));
    MappingRules rules =
        new MappingRules(
            List.of(),
            List.of(
                new MappingRules.Rename(
                    Pattern.compile("bert/encoder/layer_(\\d+)/(.*)"), "encoder/block_$1/$2")),
            List.of(),
            List.of(),
            List.of(),
            true,
            List.of(
                new MappingRules.Transform(
                    Pattern.compile(".*/kernel"), DType.BFLOAT16, null, null),
                new MappingRules.Transform(Pattern.compile(".*/bias"), DType.HALF, null, null)),
            MappingRules.Switch.DROP,
            MappingRules.Switch.DEFAULT);
    String out = dir.resolve("out").toString();
    LocalMigration.run(io, src, out, MigrationSpec.to(CheckpointFormat.TF1), rules, 1, false);

    OracleTensor kernel = tf.restore(out, "encoder/block_0/kernel", DType.BFLOAT16.code());
    OracleTensor tfKernel =
        tf.restoreAndCast(
            src, "bert/encoder/layer_0/kernel", DType.FLOAT.code(), DType.BFLOAT16.code());
    assertEquals(DType.BFLOAT16.code(), kernel.dtype());
    assertArrayEquals(new long[] {64, 64}, kernel.shape());
    assertNanAgnosticEquals(tfKernel.data(), kernel.data(), "bfloat16");

    OracleTensor b = tf.restore(out, "encoder/block_0/bias", DType.HALF.code());
    OracleTensor tfBias =
        tf.restoreAndCast(src, "bert/encoder/layer_0/bias", DType.FLOAT.code(), DType.HALF.code());
    assertNanAgnosticEquals(tfBias.data(), b.data(), "float16");
  }

  /** Equal 16-bit patterns, except that any NaN equals any NaN (payloads are not specified). */
  private static void assertNanAgnosticEquals(byte[] expected, byte[] actual, String what) {
    assertEquals(expected.length, actual.length);
    ByteBuffer e = ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer a = ByteBuffer.wrap(actual).order(ByteOrder.LITTLE_ENDIAN);
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < expected.length / 2; i++) {
      int x = e.getShort(i * 2) & 0xFFFF;
      int y = a.getShort(i * 2) & 0xFFFF;
      boolean nanX =
          what.equals("bfloat16")
              ? (x & 0x7F80) == 0x7F80 && (x & 0x7F) != 0
              : (x & 0x7C00) == 0x7C00 && (x & 0x3FF) != 0;
      boolean nanY =
          what.equals("bfloat16")
              ? (y & 0x7F80) == 0x7F80 && (y & 0x7F) != 0
              : (y & 0x7C00) == 0x7C00 && (y & 0x3FF) != 0;
      if (x != y && !(nanX && nanY)) {
        wrong.add(i + ": tf " + Integer.toHexString(x) + " ours " + Integer.toHexString(y));
      }
    }
    assertEquals(
        List.of(),
        wrong.size() > 10 ? wrong.subList(0, 10) : wrong,
        what + " casts differ from TensorFlow's");
  }
}
