package io.rebundle.codec.exec;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.ShardWriter;
import io.rebundle.codec.commit.Failpoints;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one output data file: the bytes of every planned tensor assigned to it, in order, streamed
 * through one bounded buffer. Copies verify the source CRC while streaming and keep it; merges of
 * sliced tensors and transforms compute a new one. Every entry is built by the {@link ShardWriter}.
 * Engine-neutral: Spark tasks and in-process runs both call it.
 */
public final class ShardExecutor {
  private ShardExecutor() {}

  /**
   * Writes {@code tensors} to {@code outputLocation} (which must not exist) as shard {@code shard}.
   * {@code progress} receives byte counts as they are written. On failure the partial file is
   * deleted and the exception propagates.
   */
  public static StagedShard run(
      FileIO io,
      String sourcePrefix,
      List<PlannedTensor> tensors,
      String outputLocation,
      int shard,
      int bufferSize,
      ProgressSink progress) {
    byte[] buffer = new byte[bufferSize];
    List<IndexRecord> entries = new ArrayList<>(tensors.size());
    long written = 0;
    boolean done = false;
    PositionOutputStream stream = io.newOutputFile(outputLocation).create();
    Map<String, CheckpointReader> others = new HashMap<>();
    // Closed only on success: a failed shard is discarded (an object-store upload aborted, so no
    // partial object is ever published), never closed.
    ShardWriter writer = new ShardWriter(stream, outputLocation, shard);
    try (CheckpointReader main = CheckpointReader.openPrefix(io, sourcePrefix)) {
      main.willRead(sourceEntries(tensors));
      for (PlannedTensor t : tensors) {
        CheckpointReader reader = main;
        if (t instanceof PlannedTensor.FromSource f && f.sourcePrefix() != null) {
          reader =
              others.computeIfAbsent(f.sourcePrefix(), p -> CheckpointReader.openPrefix(io, p));
        }
        long before = writer.position();
        BundleEntry entry = write(writer, reader, t, buffer, progress);
        entries.add(new IndexRecord(t.targetKey(), entry));
        written += entry.size();
        // Chunked reports covered what they could; the rest of this tensor's bytes count now.
        progress.bytes(Math.max(0, entry.size() - reported(t, writer.position() - before)));
        progress.tensors(1);
        if (entries.size() == 1) {
          Failpoints.reached("writing-shard");
        }
      }
      writer.close();
      done = true;
    } finally {
      for (CheckpointReader r : others.values()) {
        try {
          r.close();
        } catch (RuntimeException ignored) {
          // Closing a read-only template reader cannot lose data.
        }
      }
      if (!done) {
        io.discard(stream, outputLocation);
      }
    }
    return new StagedShard(shard, outputLocation, entries, written);
  }

  /**
   * The main source's entries these tensors read, in the order they read them (for coalesced
   * reads).
   */
  private static List<BundleEntry> sourceEntries(List<PlannedTensor> tensors) {
    List<BundleEntry> out = new ArrayList<>();
    for (PlannedTensor t : tensors) {
      if (t instanceof PlannedTensor.MergedSlices m && m.sourcePrefix() == null) {
        m.parts().forEach(p -> out.add(p.entry()));
      } else if ((t instanceof PlannedTensor.Copy || t instanceof PlannedTensor.Transformed)
          && ((PlannedTensor.FromSource) t).sourcePrefix() == null) {
        out.add(((PlannedTensor.FromSource) t).sourceEntry());
      }
    }
    return out;
  }

  /** Bytes of {@code t} already reported in chunks while it was written. */
  private static long reported(PlannedTensor t, long written) {
    return t instanceof PlannedTensor.MergedSlices ? written : 0;
  }

  /** Writes one planned tensor read from {@code reader}; also used by imports' template values. */
  static BundleEntry write(
      ShardWriter writer,
      CheckpointReader reader,
      PlannedTensor t,
      byte[] buffer,
      ProgressSink progress) {
    if (t instanceof PlannedTensor.Copy c) {
      return writer.copyFrom(reader, c.sourceName(), c.sourceEntry(), buffer);
    }
    if (t instanceof PlannedTensor.Literal l) {
      return writer.addStored(l.dtypeCode(), l.shape(), l.bytes(), l.maskedCrc());
    }
    if (t instanceof PlannedTensor.MergedSlices m) {
      return writer.appendProduced(
          m.dtypeCode(),
          m.shape(),
          m.size(),
          out -> SliceMerger.write(reader, m, out, buffer, progress),
          n -> SliceMerger.sizeMismatch(m, n));
    }
    if (t instanceof PlannedTensor.Transformed x && x.transform().reshape() != null) {
      return writer.copyAs(
          reader, x.sourceName(), x.sourceEntry(), x.dtypeCode(), x.shape(), buffer);
    }
    if (t instanceof PlannedTensor.Transformed x) {
      return writer.appendProduced(
          x.dtypeCode(),
          x.shape(),
          x.size(),
          out -> Transforms.apply(reader, x.sourceName(), x.sourceEntry(), x, out, buffer),
          n ->
              new IllegalStateException(
                  "Transform of "
                      + x.sourceName()
                      + " wrote "
                      + n
                      + " bytes, expected "
                      + x.size()));
    }
    throw new IllegalArgumentException(
        "Invalid shard plan: sliced full entry " + t.targetName() + " has no bytes");
  }

  /** For tests: streams the merged bytes of {@code t} to {@code out}. */
  static void merge(
      CheckpointReader reader, PlannedTensor.MergedSlices t, OutputStream out, byte[] buffer)
      throws IOException {
    SliceMerger.write(reader, t, out, buffer, ProgressSink.NONE);
  }
}
