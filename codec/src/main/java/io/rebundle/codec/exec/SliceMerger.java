package io.rebundle.codec.exec;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Streams a sliced tensor out whole, in row-major order, in bounded memory. Slices cut only along
 * dimension 0 are copied whole, in order (each verified while copying); any other slicing is
 * verified first and then assembled one row of the last dimension at a time. The one slice merger
 * of the migration: the shard executor calls it for every {@link PlannedTensor.MergedSlices}.
 */
final class SliceMerger {
  private SliceMerger() {}

  /**
   * Writes the merged bytes of {@code t} to {@code out}; slices that do not tile the tensor fail.
   */
  static void write(
      CheckpointReader reader,
      PlannedTensor.MergedSlices t,
      OutputStream out,
      byte[] buffer,
      ProgressSink progress)
      throws IOException {
    TensorShape shape = t.shape();
    int elem = t.dtype().elementSize();
    List<PlannedTensor.SlicePart> parts = new ArrayList<>(t.parts());
    String name = t.sourceName();
    boolean alongFirstDim = parts.stream().allMatch(p -> fullBeyondFirst(p.slice(), shape));
    if (alongFirstDim) {
      parts.sort(Comparator.comparingLong(p -> p.slice().start(0)));
      // The slices must tile dimension 0: an overlap can hold as many bytes as a gap lacks.
      long row = 0;
      for (PlannedTensor.SlicePart p : parts) {
        if (p.slice().start(0) != row) {
          throw Errors.sliceMergeGap(
              name,
              "slice "
                  + p.slice()
                  + " starts at row "
                  + p.slice().start(0)
                  + ", expected row "
                  + row);
        }
        reader.copyRaw(name + "[" + p.slice() + "]", p.entry(), out, buffer);
        progress.bytes(p.entry().size());
        row += p.slice().length(0, shape);
      }
    } else {
      for (PlannedTensor.SlicePart p : parts) {
        reader.verifyData(name + "[" + p.slice() + "]", p.entry(), buffer);
      }
      writeRows(reader, out, shape, elem, parts, name, buffer, progress);
    }
  }

  /** The error for merged slices that hold the wrong number of bytes. */
  static CorruptCheckpointException sizeMismatch(PlannedTensor.MergedSlices t, long written) {
    return Errors.sliceMergeGap(
        t.sourceName(), "they hold " + written + " bytes, the full tensor needs " + t.size());
  }

  private static boolean fullBeyondFirst(TensorSlice s, TensorShape shape) {
    for (int d = 1; d < shape.rank(); d++) {
      if (s.start(d) != 0 || s.length(d, shape) != shape.dim(d)) {
        return false;
      }
    }
    return shape.rank() > 0;
  }

  private static void writeRows(
      CheckpointReader reader,
      OutputStream out,
      TensorShape shape,
      int elem,
      List<PlannedTensor.SlicePart> parts,
      String name,
      byte[] buffer,
      ProgressSink progress)
      throws IOException {
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
          throw Errors.sliceMergeGap(name, "row " + row + " is not covered at column " + at);
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
          progress.bytes(n);
          pos += n;
        }
        at += partShape.dim(rank - 1);
      }
      if (at != last) {
        throw Errors.sliceMergeGap(
            name, "row " + row + " is covered up to column " + at + " of " + last);
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
