package io.rebundle.codec.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.StreamSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticDataTest {
  private static byte[] whole(SyntheticData d, int n) {
    byte[] b = new byte[n];
    d.fill(0, b, 0, n);
    return b;
  }

  @Test
  void streamDoesNotDependOnChunking() {
    SyntheticData d = SyntheticData.of(DType.INT8, 42);
    byte[] expected = whole(d, 1001);
    byte[] pieces = new byte[1001];
    StreamSource s = d.source(0);
    int at = 0;
    for (int n : new int[] {1, 7, 8, 13, 64, 3, 905}) {
      s.fill(pieces, at, n);
      at += n;
    }
    assertArrayEquals(expected, pieces);
    byte[] window = new byte[100];
    d.fill(333, window, 0, 100);
    assertArrayEquals(Arrays.copyOfRange(expected, 333, 433), window);
  }

  @Test
  void seedsAndNamesGiveDifferentStreams() {
    assertNotEquals(SyntheticData.streamSeed(1, "a"), SyntheticData.streamSeed(1, "b"));
    assertNotEquals(SyntheticData.streamSeed(1, "a"), SyntheticData.streamSeed(2, "a"));
    assertEquals(SyntheticData.streamSeed(1, "a"), SyntheticData.streamSeed(1, "a"));
    assertTrue(
        !Arrays.equals(
            whole(SyntheticData.of(DType.INT8, 1), 64),
            whole(SyntheticData.of(DType.INT8, 2), 64)));
  }

  @Test
  void floatsAreSmallFiniteWeightsOfBothSigns() {
    ByteBuffer b =
        ByteBuffer.wrap(whole(SyntheticData.of(DType.FLOAT, 3), 4096))
            .order(ByteOrder.LITTLE_ENDIAN);
    int negative = 0;
    while (b.hasRemaining()) {
      float f = b.getFloat();
      assertTrue(
          Float.isFinite(f) && Math.abs(f) >= 0x1p-7f && Math.abs(f) < 0x1p-5f, "value " + f);
      negative += f < 0 ? 1 : 0;
    }
    assertTrue(negative > 400 && negative < 624, "negatives " + negative);
    ByteBuffer d =
        ByteBuffer.wrap(whole(SyntheticData.of(DType.DOUBLE, 3), 4096))
            .order(ByteOrder.LITTLE_ENDIAN);
    while (d.hasRemaining()) {
      double v = d.getDouble();
      assertTrue(Math.abs(v) >= 0x1p-7 && Math.abs(v) < 0x1p-5, "value " + v);
    }
    ByteBuffer h =
        ByteBuffer.wrap(whole(SyntheticData.of(DType.BFLOAT16, 3), 4096))
            .order(ByteOrder.LITTLE_ENDIAN);
    while (h.hasRemaining()) {
      float v = Float.intBitsToFloat(h.getShort() << 16);
      assertTrue(Math.abs(v) >= 0x1p-7f && Math.abs(v) < 0x1p-5f, "value " + v);
    }
    ByteBuffer half =
        ByteBuffer.wrap(whole(SyntheticData.of(DType.HALF, 3), 4096))
            .order(ByteOrder.LITTLE_ENDIAN);
    while (half.hasRemaining()) {
      float v = halfToFloat(half.getShort());
      assertTrue(Math.abs(v) >= 0x1p-7f && Math.abs(v) < 0x1p-5f, "value " + v);
    }
  }

  /** IEEE binary16 to float, normal numbers only (all the generator makes). */
  private static float halfToFloat(short h) {
    int exponent = (h >>> 10) & 0x1F;
    float magnitude = (float) Math.scalb(1 + (h & 0x3FF) / 1024.0, exponent - 15);
    return h < 0 ? -magnitude : magnitude;
  }

  @Test
  void boolsAreZeroOrOne() {
    for (byte v : whole(SyntheticData.of(DType.BOOL, 9), 999)) {
      assertTrue(v == 0 || v == 1);
    }
  }

  @Test
  void rejectsVariableLengthTypes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SyntheticData.of(DType.STRING, 1));
    assertEquals("Invalid dtype for synthetic data: string", e.getMessage());
  }
}
