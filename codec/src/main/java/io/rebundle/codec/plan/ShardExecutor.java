package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.ShardWriter;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;

/**
 * Writes one output data file: the bytes of every planned tensor assigned to it, in order, streamed
 * through one bounded buffer. Copies verify the source CRC while streaming and keep it; merges of
 * sliced tensors compute a new one. Engine-neutral: Spark tasks and single-process runs both call it.
 */
public final class ShardExecutor {
  private ShardExecutor() {}

  /** Entries written, and the bytes they hold. */
  public record Result(int shard, String file, List<IndexRecord> entries, long bytes) implements java.io.Serializable {}

  /**
   * Writes {@code tensors} to {@code outputLocation} (which must not exist) as shard {@code shard}.
   * {@code progress} receives byte counts as they are written (may be null). On failure the partial
   * file is deleted and the exception propagates.
   */
  public static Result run(FileIO io, String sourcePrefix, List<PlannedTensor> tensors, String outputLocation,
      int shard, int bufferSize, LongConsumer progress) {
    byte[] buffer = new byte[bufferSize];
    List<IndexRecord> entries = new ArrayList<>(tensors.size());
    long written = 0;
    boolean done = false;
    PositionOutputStream stream = io.newOutputFile(outputLocation).create();
    java.util.Map<String, CheckpointReader> others = new java.util.HashMap<>();
    // The writer owns the stream from here on, so it is closed even if the source cannot be opened.
    try (ShardWriter writer = new ShardWriter(stream, outputLocation, shard);
        CheckpointReader main = CheckpointReader.openPrefix(io, sourcePrefix)) {
      main.willRead(sourceEntries(tensors));
      for (PlannedTensor t : tensors) {
        CheckpointReader reader = t.sourcePrefix() == null ? main
            : others.computeIfAbsent(t.sourcePrefix(), p -> CheckpointReader.openPrefix(io, p));
        BundleEntry entry = switch (t.kind()) {
          case COPY -> writer.copyFrom(reader, t.sourceName(), t.sourceEntry(), buffer);
          case LITERAL -> writeLiteral(stream, t, shard);
          case MERGE_SLICES -> merge(reader, stream, t, shard, buffer);
          case TRANSFORM -> transform(reader, stream, t, shard, buffer);
          case SLICED -> throw new IllegalArgumentException("Invalid shard plan: sliced full entry " + t.targetName() + " has no bytes");
        };
        if (t.kind() == PlannedTensor.Kind.COPY && !t.sourceEntry().shape().equals(entry.shape())) {
          throw new IllegalStateException("Copy of " + t.sourceName() + " changed its shape");
        }
        entries.add(new IndexRecord(t.targetKey(), entry));
        written += entry.size();
        if (progress != null) {
          progress.accept(entry.size());
        }
      }
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
        try {
          io.delete(outputLocation);
        } catch (RuntimeException ignored) {
          // The failure being propagated matters more than a leftover temp file.
        }
      }
    }
    return new Result(shard, outputLocation, entries, written);
  }

  /** The source entries the main source's tensors read, in the order they read them. */
  private static List<BundleEntry> sourceEntries(List<PlannedTensor> tensors) {
    List<BundleEntry> out = new ArrayList<>();
    for (PlannedTensor t : tensors) {
      if (t.sourcePrefix() != null) {
        continue;
      }
      switch (t.kind()) {
        case COPY, TRANSFORM -> out.add(t.sourceEntry());
        case MERGE_SLICES -> t.parts().forEach(p -> out.add(p.entry()));
        default -> { }
      }
    }
    return out;
  }

  private static BundleEntry writeLiteral(PositionOutputStream out, PlannedTensor t, int shard) {
    long offset = out.position();
    try {
      out.write(t.literal());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write tensor " + t.targetName() + ": " + e.getMessage(), e);
    }
    return t.toEntry(shard, offset, t.literalCrc());
  }

  private static BundleEntry transform(CheckpointReader reader, PositionOutputStream out, PlannedTensor t, int shard,
      byte[] buffer) {
    long offset = out.position();
    if (t.transform().reshape() != null) {
      BundleEntry copied = new ShardWriterShim(out).copy(reader, t, buffer);
      return t.toEntry(shard, offset, copied.crc32c());
    }
    CrcStream crcOut = new CrcStream(out);
    try {
      Transforms.apply(reader, t.sourceName(), t.sourceEntry(), t, crcOut, buffer);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write tensor " + t.targetName() + ": " + e.getMessage(), e);
    }
    long size = out.position() - offset;
    if (size != t.size()) {
      throw new IllegalStateException("Transform of " + t.sourceName() + " wrote " + size + " bytes, expected " + t.size());
    }
    return t.toEntry(shard, offset, Crc32c.mask((int) crcOut.crc.getValue()));
  }

  /** Raw copy keeping the source CRC (a reshape changes only the shape). */
  private record ShardWriterShim(PositionOutputStream out) {
    BundleEntry copy(CheckpointReader reader, PlannedTensor t, byte[] buffer) {
      reader.copyRaw(t.sourceName(), t.sourceEntry(), out, buffer);
      return t.sourceEntry();
    }
  }

  /** Counts a CRC over the bytes passing through. */
  private static final class CrcStream extends OutputStream {
    private final OutputStream out;
    private final CRC32C crc = new CRC32C();

    CrcStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      crc.update(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      crc.update(b, off, len);
    }
  }

  /**
   * Streams a sliced tensor out whole, in row-major order. Slices cut only along dimension 0 are
   * copied whole, in order (each verified while copying); any other slicing is verified first and
   * then assembled one row of the last dimension at a time.
   */
  static BundleEntry merge(CheckpointReader reader, PositionOutputStream out, PlannedTensor t, int shard, byte[] buffer) {
    long offset = out.position();
    CrcStream crcOut = new CrcStream(out);
    TensorShape shape = t.shape();
    int elem = t.dtype().elementSize();
    List<PlannedTensor.SlicePart> parts = new ArrayList<>(t.parts());
    String name = t.sourceName();
    boolean alongFirstDim = parts.stream().allMatch(p -> fullBeyondFirst(p.slice(), shape));
    try {
      if (alongFirstDim) {
        parts.sort(Comparator.comparingLong(p -> p.slice().start(0)));
        // The slices must tile dimension 0: an overlap can hold as many bytes as a gap lacks.
        long row = 0;
        for (PlannedTensor.SlicePart p : parts) {
          if (p.slice().start(0) != row) {
            throw new io.rebundle.codec.CorruptCheckpointException("Cannot merge slices of " + name + ": slice "
                + p.slice() + " starts at row " + p.slice().start(0) + ", expected row " + row);
          }
          reader.copyRaw(name + "[" + p.slice() + "]", p.entry(), crcOut, buffer);
          row += p.slice().length(0, shape);
        }
      } else {
        for (PlannedTensor.SlicePart p : parts) {
          reader.verifyData(name + "[" + p.slice() + "]", p.entry(), buffer);
        }
        writeRows(reader, crcOut, shape, elem, parts, name, buffer);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write merged tensor " + t.targetName() + ": " + e.getMessage(), e);
    }
    long size = out.position() - offset;
    if (size != t.size()) {
      throw new io.rebundle.codec.CorruptCheckpointException("Cannot merge slices of " + name + ": they hold "
          + size + " bytes, the full tensor needs " + t.size());
    }
    return t.toEntry(shard, offset, Crc32c.mask((int) crcOut.crc.getValue()));
  }

  private static boolean fullBeyondFirst(TensorSlice s, TensorShape shape) {
    for (int d = 1; d < shape.rank(); d++) {
      if (s.start(d) != 0 || s.length(d, shape) != shape.dim(d)) {
        return false;
      }
    }
    return shape.rank() > 0;
  }

  private static void writeRows(CheckpointReader reader, OutputStream out, TensorShape shape, int elem,
      List<PlannedTensor.SlicePart> parts, String name, byte[] buffer) throws IOException {
    int rank = shape.rank();
    long last = shape.dim(rank - 1);
    long rows = last == 0 ? 0 : shape.numElements() / last;
    long[] index = new long[rank - 1];
    for (long row = 0; row < rows; row++) {
      List<PlannedTensor.SlicePart> covering = new ArrayList<>();
      for (PlannedTensor.SlicePart p : parts) {
        boolean in = true;
        for (int d = 0; d < rank - 1 && in; d++) {
          long s = p.slice().start(d);
          in = index[d] >= s && index[d] < s + p.slice().length(d, shape);
        }
        if (in) {
          covering.add(p);
        }
      }
      covering.sort(Comparator.comparingLong(p -> p.slice().start(rank - 1)));
      long at = 0;
      for (PlannedTensor.SlicePart p : covering) {
        TensorSlice s = p.slice();
        TensorShape partShape = s.sliceShape(shape);
        if (s.start(rank - 1) != at) {
          throw new io.rebundle.codec.CorruptCheckpointException("Cannot merge slices of " + name
              + ": row " + row + " is not covered at column " + at);
        }
        long partRow = 0;
        for (int d = 0; d < rank - 1; d++) {
          partRow = partRow * partShape.dim(d) + (index[d] - s.start(d));
        }
        long rowBytes = partShape.dim(rank - 1) * elem;
        long pos = partRow * rowBytes;
        long end = pos + rowBytes;
        while (pos < end) {
          int n = (int) Math.min(buffer.length, end - pos);
          reader.readRange(name + "[" + s + "]", p.entry(), pos, buffer, 0, n);
          out.write(buffer, 0, n);
          pos += n;
        }
        at += partShape.dim(rank - 1);
      }
      if (at != last) {
        throw new io.rebundle.codec.CorruptCheckpointException("Cannot merge slices of " + name
            + ": row " + row + " is covered up to column " + at + " of " + last);
      }
      for (int d = rank - 2; d >= 0; d--) {
        if (++index[d] < shape.dim(d)) {
          break;
        }
        index[d] = 0;
      }
    }
  }
}
