package io.rebundle.codec.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationException;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformsTest {
  @TempDir Path dir;

  @Test
  void halfConversionRoundsToNearestEvenAndKeepsSpecials() {
    assertEquals(0x3C00, Transforms.floatToHalf(1f) & 0xFFFF);
    assertEquals(0x7BFF, Transforms.floatToHalf(65504f) & 0xFFFF);
    assertEquals(
        0x7BFF, Transforms.floatToHalf(65519f) & 0xFFFF, "below the halfway point to infinity");
    assertEquals(
        0x7C00, Transforms.floatToHalf(65520f) & 0xFFFF, "the tie rounds to even: infinity");
    assertEquals(0xFC00, Transforms.floatToHalf(Float.NEGATIVE_INFINITY) & 0xFFFF);
    assertEquals(0x0001, Transforms.floatToHalf(0x1p-24f) & 0xFFFF, "smallest subnormal");
    assertEquals(
        0x0000,
        Transforms.floatToHalf(0x1p-25f) & 0xFFFF,
        "tie between 0 and the smallest subnormal: even");
    assertEquals(
        0x0002,
        Transforms.floatToHalf(0x3p-25f) & 0xFFFF,
        "tie between 1 and 2 subnormal units: even");
    assertEquals(
        0x3C00,
        Transforms.floatToHalf(1f + 0x1p-11f) & 0xFFFF,
        "tie at 1 + half an ulp: even (down)");
    assertEquals(
        0x3C02, Transforms.floatToHalf(1f + 0x3p-11f) & 0xFFFF, "tie at 1 + 1.5 ulp: even (up)");
    assertEquals(0x8000, Transforms.floatToHalf(-0f) & 0xFFFF);
    assertTrue(Float.isNaN(Transforms.halfToFloat(Transforms.floatToHalf(Float.NaN))));
  }

  @Test
  void everyHalfValueSurvivesAFloatRoundTrip() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Transforms.halfToFloat((short) h);
      int back = Transforms.floatToHalf(f) & 0xFFFF;
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(Transforms.halfToFloat((short) back)), Integer.toHexString(h));
      } else {
        assertEquals(h, back, Integer.toHexString(h));
      }
    }
  }

  @Test
  void bfloat16ConversionRoundsToNearestEven() {
    assertEquals(0x3F80, Transforms.floatToBfloat16(1f) & 0xFFFF);
    assertEquals(0x3F80, Transforms.floatToBfloat16(1f + 0x1p-8f) & 0xFFFF, "tie: even (down)");
    assertEquals(0x3F82, Transforms.floatToBfloat16(1f + 0x3p-8f) & 0xFFFF, "tie: even (up)");
    assertEquals(
        0x3F81, Transforms.floatToBfloat16(1f + 0x1p-8f + 0x1p-20f) & 0xFFFF, "above the tie");
    assertEquals(0x7F80, Transforms.floatToBfloat16(Float.POSITIVE_INFINITY) & 0xFFFF);
    int nan = Transforms.floatToBfloat16(Float.intBitsToFloat(0x7F800001)) & 0xFFFF;
    assertTrue(
        (nan & 0x7F80) == 0x7F80 && (nan & 0x7F) != 0,
        "a signalling NaN stays NaN: " + Integer.toHexString(nan));
  }

  private static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  private MigrationPlan run(Tensor t, MappingRules.Transform transform, String out) {
    LocalFileIO io = new LocalFileIO();
    String src = dir.resolve("src").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, src, 1, true)) {
      w.add("w", t);
      w.finish();
    }
    MappingRules rules =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(transform),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    return LocalMigration.run(
        io,
        src,
        dir.resolve(out).toString(),
        MigrationSpec.to(CheckpointFormat.TF1),
        rules,
        1,
        false);
  }

  private Tensor read(String out) {
    try (CheckpointReader r =
        CheckpointReader.open(new LocalFileIO(), dir.resolve(out).toString())) {
      return r.read("w");
    }
  }

  @Test
  void castsAFloatTensorToBfloat16AndBackToFloat64() {
    float[] values = {1f, -2.5f, 3.14159f, Float.NaN, Float.POSITIVE_INFINITY, 1e-30f};
    Tensor src = Tensor.of(DType.FLOAT, TensorShape.of(2, 3), floats(values));
    run(src, new MappingRules.Transform(Pattern.compile("w"), DType.BFLOAT16, null, null), "bf16");
    Tensor bf = read("bf16");
    assertEquals(DType.BFLOAT16, bf.dtype());
    assertEquals(TensorShape.of(2, 3), bf.shape());
    ByteBuffer got = ByteBuffer.wrap(bf.data()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      assertEquals(Transforms.floatToBfloat16(values[i]), got.getShort(i * 2), "element " + i);
    }
    run(src, new MappingRules.Transform(Pattern.compile("w"), DType.DOUBLE, null, null), "f64");
    ByteBuffer d = ByteBuffer.wrap(read("f64").data()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      assertEquals((double) values[i], d.getDouble(i * 8), "element " + i);
    }
  }

  @Test
  void castsALargeTensorAcrossBufferBoundaries() {
    int n = 3_000_001;
    ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    Random r = new Random(1);
    for (int i = 0; i < n; i++) {
      b.putFloat((float) r.nextGaussian());
    }
    run(
        Tensor.of(DType.FLOAT, TensorShape.of(n), b.array()),
        new MappingRules.Transform(Pattern.compile("w"), DType.HALF, null, null),
        "half");
    ByteBuffer got = ByteBuffer.wrap(read("half").data()).order(ByteOrder.LITTLE_ENDIAN);
    b.rewind();
    for (int i = 0; i < n; i++) {
      assertEquals(Transforms.floatToHalf(b.getFloat()), got.getShort(), "element " + i);
    }
  }

  @Test
  void transposesLikeNumpy() {
    int[] dims = {2, 3, 4};
    float[] v = new float[24];
    for (int i = 0; i < 24; i++) {
      v[i] = i;
    }
    run(
        Tensor.of(DType.FLOAT, TensorShape.of(2, 3, 4), floats(v)),
        new MappingRules.Transform(Pattern.compile("w"), null, new int[] {2, 0, 1}, null),
        "t");
    Tensor t = read("t");
    assertEquals(TensorShape.of(4, 2, 3), t.shape());
    float[] expected = new float[24];
    int o = 0;
    for (int k = 0; k < dims[2]; k++) {
      for (int i = 0; i < dims[0]; i++) {
        for (int j = 0; j < dims[1]; j++) {
          expected[o++] = v[(i * 3 + j) * 4 + k];
        }
      }
    }
    assertArrayEquals(floats(expected), t.data());
  }

  @Test
  void reshapesKeepingBytesAndChecksum() {
    byte[] data = floats(1, 2, 3, 4, 5, 6);
    run(
        Tensor.of(DType.FLOAT, TensorShape.of(2, 3), data),
        new MappingRules.Transform(Pattern.compile("w"), null, null, new long[] {3, 2}),
        "r");
    Tensor t = read("r");
    assertEquals(TensorShape.of(3, 2), t.shape());
    assertArrayEquals(data, t.data());
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                run(
                    Tensor.of(DType.FLOAT, TensorShape.of(2, 3), data),
                    new MappingRules.Transform(Pattern.compile("w"), null, null, new long[] {4, 2}),
                    "bad"));
    assertEquals("Cannot reshape w from [2, 3] to [4, 2]: 6 elements do not fit 8", e.getMessage());
  }
}
