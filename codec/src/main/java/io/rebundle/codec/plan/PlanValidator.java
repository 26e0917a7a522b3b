package io.rebundle.codec.plan;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks, on the driver and before any task starts, everything about a plan's sources that the
 * index alone reveals: each stored entry the plan reads has a shard id below the header's
 * {@code num_shards}, a known dtype, a size that matches dtype times shape (fixed-size dtypes), and
 * an offset and size that lie inside its data file, which must exist. One metadata call per data
 * file read; no tensor byte is read. A failure is a corrupt (or unsupported) checkpoint naming the
 * file, the key and the offset; bytes that the index cannot judge (checksums) are still checked by
 * the tasks as they stream.
 */
public final class PlanValidator {
  private PlanValidator() {}

  /** A checkpoint the plan reads: its prefix and header shard count. */
  private record Source(String prefix, int numShards) {}

  /**
   * Validates every stored entry {@code plan} reads: from {@code source}, and from {@code template}
   * (may be null) for tensors that keep a template's value.
   */
  public static void validate(FileIO io, MigrationPlan plan, SourceIndex source, SourceIndex template) {
    Map<String, Long> lengths = new HashMap<>();
    for (PlannedTensor t : plan.tensors()) {
      if (!(t instanceof PlannedTensor.FromSource f)) {
        continue;
      }
      SourceIndex from = f.sourcePrefix() == null ? source : template;
      if (from == null || (f.sourcePrefix() != null && !f.sourcePrefix().equals(template.prefix()))) {
        throw new IllegalStateException("Invalid plan: " + t.targetName() + " reads from " + f.sourcePrefix()
            + ", which is neither the source nor the template");
      }
      Source s = new Source(from.prefix(), from.numShards());
      for (Stored e : stored(f)) {
        check(io, s, e.key(), e.entry(), lengths);
      }
    }
  }

  /** A stored entry a planned tensor reads, under its source key. */
  private record Stored(byte[] key, BundleEntry entry) {}

  private static List<Stored> stored(PlannedTensor.FromSource f) {
    if (f instanceof PlannedTensor.MergedSlices m) {
      List<Stored> parts = new ArrayList<>();
      m.parts().forEach(p -> parts.add(new Stored(p.sourceKey(), p.entry())));
      return parts;
    }
    // A sliced full entry is metadata only: its slices are planned (and checked) as copies of their own.
    return f instanceof PlannedTensor.SlicedEntry ? List.of() : List.of(new Stored(f.sourceKey(), f.sourceEntry()));
  }

  private static void check(FileIO io, Source s, byte[] rawKey, BundleEntry e, Map<String, Long> lengths) {
    String key = Bytes.printable(rawKey);
    String index = Naming.indexFile(s.prefix());
    if (e.isSliced()) {
      return;
    }
    if (e.shardId() < 0 || e.shardId() >= s.numShards()) {
      throw Errors.shardOutOfRange(index, key, e.shardId(), s.numShards());
    }
    if (!DType.isKnown(e.dtypeCode())) {
      throw Errors.unknownDtype(index, key, e.dtypeCode(), e.offset());
    }
    String file = Naming.dataFile(s.prefix(), e.shardId(), s.numShards());
    if (e.offset() < 0 || e.size() < 0) {
      throw Errors.invalidEntryRange(file, key, e.offset(), e.size());
    }
    DType dtype = e.dtype();
    if (dtype.isFixedSize()) {
      long expected;
      try {
        expected = Math.multiplyExact(e.shape().numElements(), (long) dtype.elementSize());
      } catch (ArithmeticException overflow) {
        expected = -1;
      }
      if (expected != e.size()) {
        throw Errors.sizeMismatch(file, key, e.offset(), e.size(), dtype.displayName(), e.shape().toString(),
            expected);
      }
    }
    long length = lengths.computeIfAbsent(file, f -> length(io, f, key));
    if (e.offset() > length - e.size()) {
      throw Errors.entryPastEnd(file, key, e.offset(), e.size(), length);
    }
  }

  private static long length(FileIO io, String file, String key) {
    InputFile in = io.newInputFile(file);
    // Asked first, so a missing file is a corrupt checkpoint whatever the storage throws for it.
    if (!in.exists()) {
      throw Errors.dataFileMissing(file, key);
    }
    return in.length();
  }
}
