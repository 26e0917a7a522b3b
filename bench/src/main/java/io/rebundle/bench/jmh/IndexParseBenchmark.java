package io.rebundle.bench.jmh;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Parsing a whole index as inspect and the planner do: open (footer, index block, header), then
 * every record with its BundleEntry protobuf decoded; plus one entry's decode alone. The index is a
 * synthetic TF1 checkpoint's, in the page cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class IndexParseBenchmark {
  @Param({"100000"})
  int tensors;

  Path dir;
  String prefix;
  final LocalFileIO io = new LocalFileIO();
  byte[] entry;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    dir = Files.createTempDirectory("rebundle-jmh-index");
    prefix = dir.resolve("ckpt").toString();
    SyntheticCheckpoint.write(
        io,
        prefix,
        new SyntheticCheckpoint.Options(
            CheckpointFormat.TF1,
            64L * tensors,
            tensors,
            SyntheticCheckpoint.DEFAULT_MAX_TENSOR,
            List.of(DType.FLOAT),
            1,
            0,
            1),
        false,
        false);
    entry =
        BundleEntry.sliced(
                DType.FLOAT,
                TensorShape.of(1000, 64),
                List.of(TensorSlice.parse("0,500:-"), TensorSlice.parse("500,500:-")))
            .encode();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
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
  public long parseAllRecords() {
    long n = 0;
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      for (IndexRecord rec : r.records()) {
        n += rec.entry().size();
      }
    }
    return n;
  }

  @Benchmark
  public SourceIndex sourceIndex() {
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      return SourceIndex.read(r);
    }
  }

  @Benchmark
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public BundleEntry decodeOneEntry() {
    return BundleEntry.decode(entry, "memory", "key");
  }
}
