package io.rebundle.bench.jmh;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * DT_STRING tensors (vocabularies, the object graph): encoding, and reading back through {@link
 * CheckpointReader#read} (positioned read from the page cache, CRC32C over lengths and bytes,
 * length-checksum check, splitting into strings).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StringTensorBenchmark {
  @Param({"100000"})
  int count;

  List<byte[]> values;
  Path dir;
  CheckpointReader reader;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(("vocabulary-token-" + i).getBytes(StandardCharsets.UTF_8));
    }
    dir = Files.createTempDirectory("rebundle-jmh-strings");
    LocalFileIO io = new LocalFileIO();
    String prefix = dir.resolve("ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("vocab", Tensor.ofStrings(TensorShape.of(count), values));
      w.finish();
    }
    reader = CheckpointReader.openPrefix(io, prefix);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    reader.close();
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  @Benchmark
  public Tensor decode() {
    return reader.read("vocab");
  }

  @Benchmark
  public StringTensors.Encoded encode() {
    return StringTensors.encode(values);
  }
}
