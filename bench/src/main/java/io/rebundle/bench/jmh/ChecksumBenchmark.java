package io.rebundle.bench.jmh;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorChecksum;
import io.rebundle.codec.synth.SyntheticData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
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
 * CRC32C over one streaming buffer: the JDK's intrinsic alone, through {@link TensorChecksum} for a
 * fixed-size tensor (what every copy and verify pays per byte), through the DT_STRING state machine
 * (short strings: its worst case), and {@link SyntheticData}'s generator for comparison. Divide the
 * buffer size by the time per operation for bytes per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChecksumBenchmark {
  @Param({"65536", "4194304"})
  int bufferSize;

  byte[] buffer;
  byte[] strings;
  long stringCount;
  SyntheticData data;

  @Setup
  public void setup() {
    buffer = new byte[bufferSize];
    data = SyntheticData.of(DType.FLOAT, 1);
    data.fill(0, buffer, 0, bufferSize);
    List<byte[]> values = new ArrayList<>();
    long total = 0;
    for (int i = 0; total < bufferSize; i++) {
      byte[] v = ("token-" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      values.add(v);
      total += v.length + 1;
    }
    strings = StringTensors.encode(values).bytes();
    stringCount = values.size();
  }

  @Benchmark
  public long crc32cIntrinsic() {
    CRC32C c = new CRC32C();
    c.update(buffer, 0, buffer.length);
    return c.getValue();
  }

  @Benchmark
  public int tensorChecksumRaw() {
    TensorChecksum c = TensorChecksum.of(DType.FLOAT, bufferSize / 4, false);
    c.update(buffer, 0, buffer.length);
    return c.value();
  }

  @Benchmark
  public int tensorChecksumStrings() {
    TensorChecksum c = TensorChecksum.of(DType.STRING, stringCount, false);
    c.update(strings, 0, strings.length);
    return c.value();
  }

  @Benchmark
  public byte[] syntheticFill() {
    data.fill(12345, buffer, 0, buffer.length);
    return buffer;
  }
}
