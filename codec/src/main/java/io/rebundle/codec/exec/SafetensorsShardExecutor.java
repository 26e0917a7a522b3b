package io.rebundle.codec.exec;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.ShardWriter;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.safetensors.SafetensorsEntry;
import io.rebundle.codec.safetensors.SafetensorsReader;
import io.rebundle.codec.source.TensorSource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one TensorBundle data file whose tensors come from a safetensors model: the import
 * counterpart of {@link ShardExecutor}. Each tensor's bytes are read from the safetensors file in
 * ranges of one bounded buffer and pass through the {@link ShardWriter}, which computes their
 * CRC32C (safetensors stores none). Casts and transposes run through {@link Transforms}; planner
 * literals (save_counter, the object graph) are written as made; tensors the plan takes from
 * another checkpoint (a template's kept values) are copied from it with their CRC verified.
 *
 * <p>The safetensors source is named by the location it was opened from; the task reopens it and
 * checks that every tensor is still where the plan found it. Engine-neutral.
 */
public final class SafetensorsShardExecutor {
  private SafetensorsShardExecutor() {}

  /**
   * Writes {@code tensors} read from the safetensors model at {@code sourceLocation} to {@code
   * outputLocation} (which must not exist) as shard {@code shard}. On failure the partial file is
   * discarded and the exception propagates.
   */
  public static StagedShard run(
      FileIO io,
      String sourceLocation,
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
    // partial object is published), as ShardExecutor does.
    ShardWriter writer = new ShardWriter(stream, outputLocation, shard);
    try (SafetensorsReader source = SafetensorsReader.open(io, sourceLocation)) {
      StoredBytes bytes = storedBytes(source);
      for (PlannedTensor t : tensors) {
        BundleEntry entry;
        if (t instanceof PlannedTensor.FromSource f && f.sourcePrefix() != null) {
          CheckpointReader other =
              others.computeIfAbsent(f.sourcePrefix(), p -> CheckpointReader.openPrefix(io, p));
          entry =
              ShardExecutor.writeReported(
                  writer, other, t, buffer, progress, WholeFileExecutor.COPY_CHUNK);
        } else {
          entry = write(writer, bytes, t, buffer);
          progress.bytes(entry.size());
        }
        entries.add(new IndexRecord(t.targetKey(), entry));
        written += entry.size();
        progress.tensors(1);
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

  private static BundleEntry write(
      ShardWriter writer, StoredBytes source, PlannedTensor t, byte[] buffer) {
    if (t instanceof PlannedTensor.Literal l) {
      return writer.addStored(l.dtypeCode(), l.shape(), l.bytes(), l.maskedCrc());
    }
    if (t instanceof PlannedTensor.Copy c) {
      return writer.appendProduced(
          c.dtypeCode(),
          c.shape(),
          c.size(),
          out -> source.copyRaw(c.sourceName(), c.sourceEntry(), out, buffer),
          n -> sizeMismatch(t, n));
    }
    if (t instanceof PlannedTensor.Transformed x) {
      return writer.appendProduced(
          x.dtypeCode(),
          x.shape(),
          x.size(),
          out -> Transforms.apply(source, x.sourceName(), x.sourceEntry(), x, out, buffer),
          n -> sizeMismatch(t, n));
    }
    throw new IllegalArgumentException(
        "Invalid import plan: "
            + t.targetName()
            + " is a "
            + t.kind()
            + ", which a safetensors source cannot give");
  }

  private static IllegalStateException sizeMismatch(PlannedTensor t, long written) {
    return new IllegalStateException(
        "Import of " + t.sourceName() + " wrote " + written + " bytes, expected " + t.size());
  }

  /**
   * The tensors of an open safetensors model as {@link StoredBytes}: an entry's shard id is the
   * index of the file holding it and its offset the tensor's start in that file's data region (as
   * {@link io.rebundle.codec.migrate.SafetensorsImport#index} makes them). There is no checksum to
   * verify; every read is checked against the header the reader parsed.
   */
  public static StoredBytes storedBytes(SafetensorsReader reader) {
    return new StoredBytes() {
      @Override
      public void copyRaw(String key, BundleEntry e, OutputStream out, byte[] buffer) {
        TensorSource.SourceTensor t = tensor(reader, key, e);
        try {
          for (long pos = 0; pos < t.size(); pos += buffer.length) {
            int n = (int) Math.min(buffer.length, t.size() - pos);
            reader.readRange(t, pos, buffer, 0, n);
            if (out != null) {
              out.write(buffer, 0, n);
            }
          }
        } catch (IOException ex) {
          throw new UncheckedIOException("Cannot write tensor " + key + ": " + ex.getMessage(), ex);
        }
      }

      @Override
      public void verifyData(String key, BundleEntry e, byte[] buffer) {
        tensor(reader, key, e);
      }

      @Override
      public void readRange(
          String key, BundleEntry e, long offsetInTensor, byte[] buffer, int off, int length) {
        reader.readRange(tensor(reader, key, e), offsetInTensor, buffer, off, length);
      }
    };
  }

  /** The reader's tensor {@code key}, which must be where {@code e} says the plan found it. */
  private static TensorSource.SourceTensor tensor(
      SafetensorsReader reader, String key, BundleEntry e) {
    TensorSource.SourceTensor t = reader.find(key);
    SafetensorsEntry stored = reader.entry(key);
    if (t == null || stored == null) {
      throw Errors.safetensorsChanged(reader.location(), key, "it is no longer in the header");
    }
    if (t.file() != e.shardId()
        || stored.begin() != e.offset()
        || t.size() != e.size()
        || t.dtype().code() != e.dtypeCode()
        || !t.shape().equals(e.shape())) {
      throw Errors.safetensorsChanged(
          reader.location(),
          key,
          "the header now gives "
              + t.dtype().displayName()
              + " "
              + t.shape()
              + " at data_offsets ["
              + stored.begin()
              + ", "
              + stored.end()
              + "] of file "
              + t.file()
              + ", the plan "
              + e.dtype().displayName()
              + " "
              + e.shape()
              + " at ["
              + e.offset()
              + ", "
              + (e.offset() + e.size())
              + "] of file "
              + e.shardId());
    }
    return t;
  }
}
