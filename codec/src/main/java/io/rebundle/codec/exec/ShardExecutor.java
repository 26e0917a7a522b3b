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
    return run(
        io,
        sourcePrefix,
        tensors,
        outputLocation,
        shard,
        bufferSize,
        progress,
        WholeFileExecutor.COPY_CHUNK);
  }

  /**
   * {@link #run(FileIO, String, List, String, int, int, ProgressSink)} reporting the bytes of one
   * tensor every {@code progressChunk} bytes as they are written (kernel copies run one kernel call
   * per chunk), so progress moves within a large tensor.
   */
  static StagedShard run(
      FileIO io,
      String sourcePrefix,
      List<PlannedTensor> tensors,
      String outputLocation,
      int shard,
      int bufferSize,
      ProgressSink progress,
      long progressChunk) {
    byte[] buffer = new byte[bufferSize];
    List<IndexRecord> entries = new ArrayList<>(tensors.size());
    long written = 0;
    boolean done = false;
    PositionOutputStream stream = io.newOutputFile(outputLocation).create();
    Map<String, CheckpointReader> others = new HashMap<>();
    // Closed only on success: a failed shard is discarded (an object-store upload aborted, so no
    // partial object is ever published), never closed.
    ShardWriter writer = new ShardWriter(stream, outputLocation, shard);
    FollowingChecks checks = new FollowingChecks(outputLocation);
    try (CheckpointReader main = CheckpointReader.openPrefix(io, sourcePrefix)) {
      main.willRead(sourceEntries(tensors));
      for (PlannedTensor t : tensors) {
        CheckpointReader reader = main;
        if (t instanceof PlannedTensor.FromSource f && f.sourcePrefix() != null) {
          reader =
              others.computeIfAbsent(f.sourcePrefix(), p -> CheckpointReader.openPrefix(io, p));
        }
        BundleEntry entry =
            writeReported(writer, reader, t, buffer, progress, progressChunk, checks);
        entries.add(new IndexRecord(t.targetKey(), entry));
        written += entry.size();
        progress.tensors(1);
        if (entries.size() == 1) {
          Failpoints.reached("writing-shard");
        }
      }
      // The file is complete; it is kept only once every kernel copy in it passed its check.
      checks.finish();
      writer.close();
      done = true;
    } finally {
      checks.close();
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

  /**
   * Writes one planned tensor read from {@code reader} and reports all of its bytes to {@code
   * progress}: in chunks of {@code chunk} bytes while they are written, and whatever the chunks did
   * not cover (a literal, a tail) once it is done. Also used by imports' template values.
   */
  static BundleEntry writeReported(
      ShardWriter writer,
      CheckpointReader reader,
      PlannedTensor t,
      byte[] buffer,
      ProgressSink progress,
      long chunk) {
    return writeReported(writer, reader, t, buffer, progress, chunk, null);
  }

  /**
   * {@link #writeReported(ShardWriter, CheckpointReader, PlannedTensor, byte[], ProgressSink,
   * long)} where unchanged bytes the kernel can copy are copied unchecked and their check is handed
   * to {@code checks} (when not null), which the caller finishes before keeping the file.
   */
  private static BundleEntry writeReported(
      ShardWriter writer,
      CheckpointReader reader,
      PlannedTensor t,
      byte[] buffer,
      ProgressSink progress,
      long chunk,
      FollowingChecks checks) {
    long[] reported = {0};
    ProgressSink counting =
        new ProgressSink() {
          private static final long serialVersionUID = 1L;

          @Override
          public void bytes(long n) {
            reported[0] += n;
            progress.bytes(n);
          }

          @Override
          public void tensors(long n) {
            progress.tensors(n);
          }
        };
    BundleEntry entry = write(writer, reader, t, buffer, counting, chunk, checks);
    long rest = entry.size() - reported[0];
    if (rest > 0) {
      progress.bytes(rest);
    }
    return entry;
  }

  /**
   * Writes one planned tensor read from {@code reader}; {@code progress} receives some of its bytes
   * in chunks as they are written (not necessarily all: see {@link #writeReported}).
   */
  private static BundleEntry write(
      ShardWriter writer,
      CheckpointReader reader,
      PlannedTensor t,
      byte[] buffer,
      ProgressSink progress,
      long chunk,
      FollowingChecks checks) {
    if (checks != null
        && (t instanceof PlannedTensor.Copy
            || (t instanceof PlannedTensor.Transformed x && x.transform().reshape() != null))) {
      // Unchanged bytes (a copy, or a reshape of the same bytes): the kernel copies them while the
      // checker reads them for their CRC; nothing waits for the check until the file is complete.
      PlannedTensor.FromSource f = (PlannedTensor.FromSource) t;
      if (writer.canTransfer(reader, f.sourceName(), f.sourceEntry())) {
        CheckpointReader.DeferredCheck check =
            reader.deferredCheck(f.sourceName(), f.sourceEntry());
        checks.submit(check.size(), check::run);
        return writer.transferUnchecked(
            reader,
            f.sourceName(),
            f.sourceEntry(),
            t.dtypeCode(),
            t.shape(),
            progress::bytes,
            chunk);
      }
    }
    if (t instanceof PlannedTensor.Copy c) {
      return writer.copyFrom(
          reader, c.sourceName(), c.sourceEntry(), buffer, progress::bytes, chunk);
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
          reader,
          x.sourceName(),
          x.sourceEntry(),
          x.dtypeCode(),
          x.shape(),
          buffer,
          progress::bytes,
          chunk);
    }
    if (t instanceof PlannedTensor.Transformed x) {
      return writer.appendProduced(
          x.dtypeCode(),
          x.shape(),
          x.size(),
          out -> {
            ReportingStream reporting = new ReportingStream(out, progress, chunk);
            Transforms.apply(reader, x.sourceName(), x.sourceEntry(), x, reporting, buffer);
            reporting.flushReport();
          },
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

  /** Passes bytes through, reporting them to a progress sink every {@code chunk} bytes. */
  private static final class ReportingStream extends OutputStream {
    private final OutputStream out;
    private final ProgressSink progress;
    private final long chunk;
    private long pending;

    ReportingStream(OutputStream out, ProgressSink progress, long chunk) {
      this.out = out;
      this.progress = progress;
      this.chunk = chunk;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count(1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count(len);
    }

    private void count(long n) {
      pending += n;
      if (pending >= chunk) {
        progress.bytes(pending);
        pending = 0;
      }
    }

    /** Reports what is left below one chunk. */
    void flushReport() {
      if (pending > 0) {
        progress.bytes(pending);
        pending = 0;
      }
    }
  }
}
