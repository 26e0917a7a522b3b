package io.rebundle.bench.jmh;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.codec.synth.SyntheticData;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The audit's per-byte work on one 4 MiB buffer of a tensor, per dtype: statistics, CRC and
 * fingerprint together (what the audit pays per byte), and CRC and fingerprint alone (the
 * difference is the statistics' cost). Divide the buffer size by the time per operation for bytes
 * per second (the README's "statistics" rows).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StatsBenchmark {
  static final int SIZE = 4 << 20;

  @Param({"FLOAT", "BFLOAT16", "HALF"})
  String dtype;

  ByteBuffer buffer;
  DType type;

  @Setup
  public void setup() {
    type = DType.valueOf(dtype);
    byte[] bytes = new byte[SIZE];
    SyntheticData.of(type, 1).fill(0, bytes, 0, SIZE);
    buffer = ByteBuffer.allocateDirect(SIZE);
    buffer.put(bytes).flip();
  }

  /** Statistics, CRC-32C and fingerprint: one audit pass over the buffer. */
  @Benchmark
  public TensorDigest.Partial statsCrcFingerprint() {
    TensorDigest.Accumulator a =
        TensorDigest.accumulate(type, SIZE / type.elementSize(), false, 0, SIZE, true);
    a.update(buffer);
    return a.finish();
  }

  /** CRC-32C and fingerprint only. */
  @Benchmark
  public TensorDigest.Partial crcFingerprint() {
    TensorDigest.Accumulator a =
        TensorDigest.accumulate(type, SIZE / type.elementSize(), false, 0, SIZE, false);
    a.update(buffer);
    return a.finish();
  }
}
