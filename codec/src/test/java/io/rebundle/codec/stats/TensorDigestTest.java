package io.rebundle.codec.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.util.Crc32c;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TensorDigestTest {

  /** Independent reference: two-pass statistics over a double array, counts by classification. */
  record Ref(
      long nan,
      long posInf,
      long negInf,
      long zero,
      long neg,
      long pos,
      double min,
      double max,
      double mean,
      double std,
      double l2,
      double absMax) {
    static Ref of(double[] v) {
      long nan = 0, pi = 0, ni = 0, z = 0, neg = 0, pos = 0, n = 0;
      double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, sq = 0;
      for (double x : v) {
        if (Double.isNaN(x)) {
          nan++;
        } else if (x == Double.POSITIVE_INFINITY) {
          pi++;
        } else if (x == Double.NEGATIVE_INFINITY) {
          ni++;
        } else {
          n++;
          if (x == 0) {
            z++;
          } else if (x < 0) {
            neg++;
          } else {
            pos++;
          }
          min = Math.min(min, x);
          max = Math.max(max, x);
          sum += x;
          sq += x * x;
        }
      }
      double mean = sum / n;
      double dev = 0;
      for (double x : v) {
        if (Double.isFinite(x)) {
          dev += (x - mean) * (x - mean);
        }
      }
      return new Ref(
          nan,
          pi,
          ni,
          z,
          neg,
          pos,
          min,
          max,
          mean,
          Math.sqrt(dev / n),
          Math.sqrt(sq),
          Math.max(Math.abs(min), Math.abs(max)));
    }
  }

  static void assertClose(double expected, double actual, double rel) {
    double tol = rel * Math.max(1e-300, Math.abs(expected));
    assertTrue(Math.abs(expected - actual) <= tol, "expected " + expected + " but was " + actual);
  }

  static void assertMatches(Ref r, TensorStats s, double rel) {
    assertEquals(r.nan, s.nanCount());
    assertEquals(r.posInf, s.posInfCount());
    assertEquals(r.negInf, s.negInfCount());
    assertEquals(r.zero, s.zeroCount());
    assertEquals(r.neg, s.negativeCount());
    assertEquals(r.pos, s.positiveCount());
    assertEquals(r.min, s.minOrNull());
    assertEquals(r.max, s.maxOrNull());
    assertEquals(r.absMax, s.absMaxOrNull());
    assertClose(r.mean, s.meanOrNull(), rel);
    assertClose(r.std, s.stdOrNull(), rel);
    assertClose(r.l2, s.l2NormOrNull(), rel);
  }

  static byte[] floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static float[] randomFloats(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (1000 + r.nextGaussian() * 0.01);
      int k = r.nextInt(1000);
      if (k == 0) {
        v[i] = Float.NaN;
      } else if (k == 1) {
        v[i] = Float.POSITIVE_INFINITY;
      } else if (k == 2) {
        v[i] = Float.NEGATIVE_INFINITY;
      } else if (k < 20) {
        v[i] = 0f;
      } else if (k < 100) {
        v[i] = -v[i];
      }
    }
    return v;
  }

  /** Feeds [start, start+len) in pieces of odd sizes, so elements straddle buffer boundaries. */
  static TensorDigest.Partial feed(
      DType dtype, long elements, byte[] all, int start, int len, int piece) {
    TensorDigest.Accumulator a = TensorDigest.accumulate(dtype, elements, false, start, len, true);
    for (int at = start; at < start + len; at += piece) {
      a.update(all, at, Math.min(piece, start + len - at));
    }
    return a.finish();
  }

  @Test
  void float32StatisticsMatchAnIndependentComputation() {
    float[] v = randomFloats(300_001, 1);
    byte[] bytes = floats(v);
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    TensorShape shape = TensorShape.of(v.length);
    TensorDigest.Partial p = feed(DType.FLOAT, v.length, bytes, 0, bytes.length, 7777);
    TensorDigest.Result whole = TensorDigest.combine(DType.FLOAT, shape, bytes.length, List.of(p));
    assertMatches(Ref.of(d), whole.stats(), 1e-9);
    assertEquals(v.length, whole.stats().elements());
    assertEquals(Crc32c.of(bytes), whole.crc32c());
    assertEquals(32, whole.fingerprintHex().length());
  }

  @Test
  void rangesMergeExactlyForCountsCrcAndFingerprint() {
    float[] v = randomFloats(1_000_003, 2); // ~3.8 chunks
    byte[] bytes = floats(v);
    TensorShape shape = TensorShape.of(v.length);
    TensorDigest.Result whole =
        TensorDigest.combine(
            DType.FLOAT,
            shape,
            bytes.length,
            List.of(feed(DType.FLOAT, v.length, bytes, 0, bytes.length, 1 << 16)));
    List<TensorDigest.Partial> parts = new ArrayList<>();
    for (int start = 0; start < bytes.length; start += TensorDigest.CHUNK) {
      int len = Math.min(TensorDigest.CHUNK, bytes.length - start);
      parts.add(feed(DType.FLOAT, v.length, bytes, start, len, 4093));
    }
    Collections.reverse(parts); // order of arrival does not matter
    TensorDigest.Result merged = TensorDigest.combine(DType.FLOAT, shape, bytes.length, parts);
    TensorStats a = whole.stats();
    TensorStats b = merged.stats();
    assertEquals(a.nanCount(), b.nanCount());
    assertEquals(a.posInfCount(), b.posInfCount());
    assertEquals(a.negInfCount(), b.negInfCount());
    assertEquals(a.zeroCount(), b.zeroCount());
    assertEquals(a.negativeCount(), b.negativeCount());
    assertEquals(a.finiteCount(), b.finiteCount());
    assertEquals(a.min(), b.min());
    assertEquals(a.max(), b.max());
    assertClose(a.mean(), b.mean(), 1e-12);
    assertClose(a.stdOrNull(), b.stdOrNull(), 1e-12);
    assertClose(a.sumSquares(), b.sumSquares(), 1e-12);
    assertEquals(whole.crc32c(), merged.crc32c());
    assertEquals(Crc32c.of(bytes), merged.crc32c());
    assertArrayEquals(whole.fingerprint(), merged.fingerprint());
  }

  @Test
  void fingerprintDependsOnDtypeShapeAndEveryByte() {
    byte[] bytes = floats(randomFloats(1000, 3));
    TensorDigest.Result a = TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(1000), false, bytes);
    TensorDigest.Result same =
        TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(1000), false, bytes.clone());
    assertArrayEquals(a.fingerprint(), same.fingerprint());
    assertFalse(
        java.util.Arrays.equals(
            a.fingerprint(),
            TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(10, 100), false, bytes)
                .fingerprint()));
    assertFalse(
        java.util.Arrays.equals(
            a.fingerprint(),
            TensorDigest.ofBytes(DType.INT32, TensorShape.of(1000), false, bytes).fingerprint()));
    byte[] flipped = bytes.clone();
    flipped[777] ^= 1;
    assertFalse(
        java.util.Arrays.equals(
            a.fingerprint(),
            TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(1000), false, flipped).fingerprint()));
  }

  @Test
  void float16AndBfloat16AreWidenedExactly() {
    // float16: 1.0 = 0x3C00, -2.5 = 0xC100, smallest subnormal 0x0001 = 2^-24, max 0x7BFF = 65504,
    // +Inf, NaN.
    short[] halves = {0x3C00, (short) 0xC100, 0x0001, 0x7BFF, 0x7C00, 0x7E00, 0};
    ByteBuffer b = ByteBuffer.allocate(halves.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short h : halves) {
      b.putShort(h);
    }
    TensorStats s =
        TensorDigest.ofBytes(DType.HALF, TensorShape.of(halves.length), false, b.array()).stats();
    assertEquals(1, s.nanCount());
    assertEquals(1, s.posInfCount());
    assertEquals(1, s.zeroCount());
    assertEquals(-2.5, s.minOrNull());
    assertEquals(65504.0, s.maxOrNull());
    assertEquals(1.0 - 2.5 + Math.scalb(1.0, -24) + 65504.0, s.meanOrNull() * 5, 1e-9);
    // bfloat16: the top half of a float32: 0x3F80 = 1.0, 0xC040 = -3.0, 0x3F81 = 1.0078125.
    short[] bf = {0x3F80, (short) 0xC040, 0x3F81, (short) 0xFF80};
    ByteBuffer c = ByteBuffer.allocate(bf.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short h : bf) {
      c.putShort(h);
    }
    TensorStats t =
        TensorDigest.ofBytes(DType.BFLOAT16, TensorShape.of(bf.length), false, c.array()).stats();
    assertEquals(1, t.negInfCount());
    assertEquals(-3.0, t.minOrNull());
    assertEquals(1.0078125, t.maxOrNull());
    assertEquals(3.0, t.absMaxOrNull());
    for (int h = 0; h < 1 << 16; h++) {
      float viaFloat = ElementDecoder.HALF_TABLE[h];
      double exact = ElementDecoder.halfToDouble(h);
      assertTrue(Double.isNaN(exact) ? Float.isNaN(viaFloat) : viaFloat == exact, "half " + h);
    }
  }

  @Test
  void smallFloatTablesHaveTheirFormatsExtremes() {
    double[] e4m3fn = ElementDecoder.minifloatTable(4, 3, 7, false, true, false);
    assertEquals(448.0, e4m3fn[0x7E]);
    assertTrue(Double.isNaN(e4m3fn[0x7F]));
    assertEquals(Math.scalb(1.0, -9), e4m3fn[0x01]);
    double[] e5m2 = ElementDecoder.minifloatTable(5, 2, 15, true, false, false);
    assertEquals(57344.0, e5m2[0x7B]);
    assertEquals(Double.POSITIVE_INFINITY, e5m2[0x7C]);
    assertEquals(Double.NEGATIVE_INFINITY, e5m2[0xFC]);
    double[] e4m3fnuz = ElementDecoder.minifloatTable(4, 3, 8, false, false, true);
    assertEquals(240.0, e4m3fnuz[0x7F]);
    assertTrue(Double.isNaN(e4m3fnuz[0x80]));
    double[] e2m1 = ElementDecoder.minifloatTable(2, 1, 1, false, false, false);
    assertEquals(6.0, e2m1[0x7]);
    assertEquals(-0.5, e2m1[0x9]);
    assertEquals(-6.0, e2m1[0xF]);
  }

  @Test
  void integersAndBoolsCountValues() {
    ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(-5).putLong(0).putLong(7).putLong(-1L); // int64
    TensorStats s = TensorDigest.ofBytes(DType.INT64, TensorShape.of(4), false, b.array()).stats();
    assertEquals(-5.0, s.minOrNull());
    assertEquals(7.0, s.maxOrNull());
    assertEquals(2, s.negativeCount());
    assertEquals(1, s.zeroCount());
    assertEquals(Math.sqrt(25 + 49 + 1), s.l2NormOrNull(), 1e-12);
    TensorStats u = TensorDigest.ofBytes(DType.UINT64, TensorShape.of(4), false, b.array()).stats();
    assertEquals(0x1.0p64, u.maxOrNull()); // 2^64 - 1 rounds to 2^64
    TensorStats bools =
        TensorDigest.ofBytes(DType.BOOL, TensorShape.of(5), false, new byte[] {1, 0, 0, 1, 1})
            .stats();
    assertEquals(2, bools.zeroCount());
    assertEquals(3, bools.positiveCount());
    assertEquals(0.6, bools.meanOrNull(), 1e-15);
    TensorStats zeros =
        TensorDigest.ofBytes(DType.INT32, TensorShape.of(3), false, new byte[12]).stats();
    assertTrue(zeros.allZero());
  }

  @Test
  void bigEndianBundlesAreDecodedInTheirOrder() {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-2f);
    TensorStats s = TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(2), true, b.array()).stats();
    assertEquals(-2.0, s.minOrNull());
    assertEquals(1.5, s.maxOrNull());
  }

  @Test
  void typesWithoutStatisticsStillGetCrcAndFingerprint() {
    assertFalse(TensorDigest.hasStats(DType.COMPLEX64));
    assertFalse(TensorDigest.hasStats(DType.STRING));
    TensorDigest.Result r =
        TensorDigest.ofBytes(DType.COMPLEX64, TensorShape.of(1), false, new byte[8]);
    assertNull(r.stats());
    assertEquals(Crc32c.of(new byte[8]), r.crc32c());
    TensorStats nonFinite =
        TensorDigest.ofBytes(DType.FLOAT, TensorShape.of(1), false, floats(new float[] {Float.NaN}))
            .stats();
    assertNull(nonFinite.meanOrNull());
    assertNull(nonFinite.l2NormOrNull());
    assertEquals(1, nonFinite.nanCount());
  }

  @Test
  void rangesMustBeChunkAlignedAndCoverTheTensor() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TensorDigest.accumulate(DType.FLOAT, 10, false, 4, 36, true));
    assertThrows(
        IllegalArgumentException.class,
        () -> TensorDigest.accumulate(DType.STRING, 10, false, TensorDigest.CHUNK, 36, true));
    TensorDigest.Accumulator a = TensorDigest.accumulate(DType.FLOAT, 4, false, 0, 16, true);
    a.update(new byte[8], 0, 8);
    IllegalStateException e = assertThrows(IllegalStateException.class, a::finish);
    assertEquals("Cannot finish tensor range: 8 of 16 bytes fed", e.getMessage());
    TensorDigest.Accumulator c = TensorDigest.accumulate(DType.FLOAT, 4, false, 0, 16, true);
    c.update(new byte[16], 0, 16);
    IllegalArgumentException gap =
        assertThrows(
            IllegalArgumentException.class,
            () -> TensorDigest.combine(DType.FLOAT, TensorShape.of(8), 32, List.of(c.finish())));
    assertEquals("Cannot combine tensor ranges: they cover 16 of 32 bytes", gap.getMessage());
    assertNotEquals(
        TensorDigest.checkpointFingerprint(List.of("a"), List.of("00")),
        TensorDigest.checkpointFingerprint(List.of("a"), List.of("01")));
  }
}
