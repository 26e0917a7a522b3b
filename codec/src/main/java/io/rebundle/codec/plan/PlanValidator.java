package io.rebundle.codec.plan;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.util.Bytes;
import java.util.HashMap;
import java.util.Map;

/**
 * Checks, on the driver and before anything is planned or any task starts, everything about a
 * source that its index alone reveals: every stored entry has a shard id below the header's {@code
 * num_shards}, a known dtype, a size that matches dtype times shape (fixed-size dtypes), and an
 * offset and size that lie inside its data file, which must exist. Entries are checked in key
 * order, so the first problem reported is deterministic. One metadata call per data file; no tensor
 * byte is read. A failure is a corrupt (or unsupported) checkpoint naming the file, the key and the
 * offset; what the index cannot judge (checksums) is still checked by the tasks as they stream.
 */
public final class PlanValidator {
  private PlanValidator() {}

  /** A checkpoint the plan reads: its prefix and header shard count. */
  private record Source(String prefix, int numShards) {}

  /** Validates every stored entry of {@code index} against its data files. */
  public static void validate(FileIO io, SourceIndex index) {
    Map<String, Long> lengths = new HashMap<>();
    Source s = new Source(index.prefix(), index.numShards());
    for (IndexRecord r : index.records()) {
      check(io, s, r.key(), r.entry(), lengths);
    }
  }

  private static void check(
      FileIO io, Source s, byte[] rawKey, BundleEntry e, Map<String, Long> lengths) {
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
        throw Errors.sizeMismatch(
            index,
            key,
            e.size(),
            expected < 0
                ? "more than 2^63 (" + dtype.displayName() + " " + e.shape() + ")"
                : expected + " (" + dtype.displayName() + " " + e.shape() + ")");
      }
    }
    long length =
        lengths.computeIfAbsent(file, f -> length(io, f, key, e.shardId(), s.numShards()));
    if (e.offset() > length - e.size()) {
      throw Errors.entryPastEnd(file, key, e.offset(), e.size(), length);
    }
  }

  private static long length(FileIO io, String file, String key, int shard, int numShards) {
    InputFile in = io.newInputFile(file);
    // Asked first, so a missing file is a corrupt checkpoint whatever the storage throws for it.
    if (!in.exists()) {
      throw Errors.missingDataFile(file, key, shard, numShards);
    }
    return in.length();
  }
}
