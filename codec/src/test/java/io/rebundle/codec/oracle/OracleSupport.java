package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shared fixtures for the TensorFlow oracle tests: dtypes TF Java can produce, value generators.
 */
final class OracleSupport {
  private OracleSupport() {}

  /**
   * Every dtype TensorFlow Java can save and restore (the float8 "fnuz" variants it cannot name).
   */
  static final List<DType> FIXED_DTYPES =
      List.of(
          DType.FLOAT,
          DType.DOUBLE,
          DType.INT32,
          DType.UINT8,
          DType.INT16,
          DType.INT8,
          DType.COMPLEX64,
          DType.INT64,
          DType.BOOL,
          DType.QINT8,
          DType.QUINT8,
          DType.QINT32,
          DType.BFLOAT16,
          DType.QINT16,
          DType.QUINT16,
          DType.UINT16,
          DType.COMPLEX128,
          DType.HALF,
          DType.UINT32,
          DType.UINT64,
          DType.FLOAT8_E5M2,
          DType.FLOAT8_E4M3FN,
          DType.INT4,
          DType.UINT4);

  static final List<long[]> SHAPES =
      List.of(new long[0], new long[] {2, 3}, new long[] {0}, new long[] {2, 0}, new long[] {5});

  /** How many TensorFlow-written checkpoints {@link #sweep} found clean in this JVM. */
  private static final AtomicInteger SWEPT = new AtomicInteger();

  /** Fails, naming the checkpoint and every finding, unless verify reports zero problems. */
  static CheckpointVerifier.Summary assertVerifiesClean(FileIO io, String prefix) {
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertEquals(
        List.of(),
        s.findings().stream().map(CheckpointVerifier.Finding::toString).toList(),
        "verify must find " + prefix + " clean");
    return s;
  }

  /**
   * The no-false-alarm sweep (issue 9): {@link TfOracle} sends every checkpoint TensorFlow writes
   * (SaveV2, MergeV2Checkpoints, the lookup-table saves) through here the moment it exists, before
   * a test damages or converts it, so every oracle test that makes TensorFlow write also asserts
   * that {@link CheckpointVerifier} finds TensorFlow's own output clean.
   */
  static void sweep(String prefix) {
    assertVerifiesClean(new LocalFileIO(), prefix);
    SWEPT.incrementAndGet();
  }

  /** The sweep's count so far (printed by {@link OracleTestBase} after each class). */
  static int swept() {
    return SWEPT.get();
  }

  static TfOracle openOrSkip() {
    assumeTrue(TfOracle.available(), "TensorFlow native library not available on this machine");
    return TfOracle.open();
  }

  /** Random element bytes valid for the dtype (bools are 0/1, 4-bit types stay in range). */
  static byte[] randomData(DType dtype, long[] shape, Random random) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    byte[] b = new byte[(int) n * dtype.elementSize()];
    random.nextBytes(b);
    for (int i = 0; i < b.length; i++) {
      switch (dtype) {
        case BOOL -> b[i] = (byte) (b[i] & 1);
        case UINT4 -> b[i] = (byte) (b[i] & 0x0F);
        case INT4 -> b[i] = (byte) ((b[i] & 0x0F) - 8);
        default -> {}
      }
    }
    return b;
  }

  static List<byte[]> sampleStrings() {
    List<byte[]> s = new ArrayList<>();
    s.add(new byte[0]);
    s.add("héllo wörld ✓".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    s.add(new byte[] {0, (byte) 0xFF, 0x7F, (byte) 0x80, 0});
    byte[] big = new byte[300];
    new Random(7).nextBytes(big);
    s.add(big);
    s.add("x".repeat(128).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    s.add("last".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return s;
  }

  static OracleTensor toOracle(String key, Tensor t) {
    long[] dims = t.shape().dims();
    return t.dtype() == DType.STRING
        ? OracleTensor.ofStrings(key, dims, t.strings())
        : OracleTensor.of(key, t.dtype().code(), dims, t.data());
  }

  static Tensor fromOracle(OracleTensor o) {
    TensorShape shape = TensorShape.of(o.shape());
    return o.dtype() == DType.STRING.code()
        ? Tensor.ofStrings(shape, o.strings())
        : Tensor.of(DType.fromCode(o.dtype()), shape, o.data());
  }

  static String keyFor(DType dtype, long[] shape) {
    StringBuilder sb = new StringBuilder(dtype.displayName()).append("/shape");
    for (long d : shape) {
      sb.append('_').append(d);
    }
    return sb.toString();
  }
}
