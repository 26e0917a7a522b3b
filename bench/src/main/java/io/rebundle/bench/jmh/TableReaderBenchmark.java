package io.rebundle.bench.jmh;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.table.TableReader;
import io.rebundle.codec.table.TableWriter;
import io.rebundle.codec.util.Bytes;
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
 * The LevelDB table of an index, in memory: iterating every entry (block reads, checksums, prefix
 * decoding: what listing keys costs) and point lookups (index block seek, then one data block).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TableReaderBenchmark {
  @Param({"100000"})
  int entries;

  byte[] table;
  byte[][] keys;
  int next;

  @Setup
  public void setup() {
    InMemory.Output out = new InMemory.Output();
    TableWriter w = new TableWriter(out, "memory");
    keys = new byte[entries][];
    for (int i = 0; i < entries; i++) {
      keys[i] = Bytes.utf8(String.format("model/dense_%07d/kernel/.ATTRIBUTES/VARIABLE_VALUE", i));
      w.add(
          keys[i],
          BundleEntry.of(DType.FLOAT, TensorShape.of(64, 32), 0, 8192L * i, 8192, i).encode());
    }
    w.finish();
    table = out.bytes.toByteArray();
  }

  @Benchmark
  public long iterateAllEntries() {
    TableReader r = new TableReader(new InMemory.Reader(table));
    TableReader.EntryIterator it = r.iterator();
    long n = 0;
    while (it.next()) {
      n += it.key().length + it.value().length;
    }
    return n;
  }

  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public byte[] pointLookup() {
    TableReader r = new TableReader(new InMemory.Reader(table));
    next = (next + 7919) % entries;
    return r.get(keys[next]);
  }
}
