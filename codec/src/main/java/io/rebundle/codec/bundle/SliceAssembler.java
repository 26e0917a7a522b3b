package io.rebundle.codec.bundle;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import java.util.List;

/**
 * Reads a sliced (partitioned) tensor whole (tensorbundle-format.md §5.5): every stored slice is
 * read from its slice entry and copied, row by row, into its place in the full tensor. Any slicing
 * works, along any dimensions. Slices must not overlap and must cover the tensor.
 */
final class SliceAssembler {
  private SliceAssembler() {}

  static Tensor assemble(CheckpointReader reader, String key, BundleEntry full) {
    DType dtype = full.dtype();
    TensorShape shape = full.shape();
    if (!dtype.isFixedSize()) {
      throw new UnsupportedCheckpointException(
          "Cannot assemble sliced tensor "
              + key
              + ": dtype "
              + dtype.displayName()
              + " cannot be sliced");
    }
    long totalBytes;
    try {
      totalBytes = Math.multiplyExact(shape.numElements(), dtype.elementSize());
    } catch (ArithmeticException overflow) {
      totalBytes = Long.MAX_VALUE;
    }
    if (totalBytes > CheckpointReader.MAX_IN_MEMORY) {
      throw new UnsupportedCheckpointException(
          "Cannot load sliced tensor " + key + " into memory: " + totalBytes + " bytes");
    }
    List<TensorSlice> slices = full.slices();
    checkCoverage(reader, key, full);
    // Every slice entry is checked before the tensor's memory is allocated.
    List<BundleEntry> entries = new java.util.ArrayList<>();
    for (TensorSlice slice : slices) {
      entries.add(sliceEntry(reader, key, full, slice));
    }
    byte[] out = new byte[(int) totalBytes];
    for (int i = 0; i < slices.size(); i++) {
      TensorSlice slice = slices.get(i);
      byte[] data = reader.readRaw(key + "[" + slice + "]", entries.get(i));
      copyInto(out, shape, slice, data, dtype.elementSize());
    }
    return Tensor.of(dtype, shape, out);
  }

  /** Refuses slices that overlap or do not cover the tensor exactly; allocates nothing. */
  private static void checkCoverage(CheckpointReader reader, String key, BundleEntry full) {
    TensorShape shape = full.shape();
    List<TensorSlice> slices = full.slices();
    long covered = 0;
    for (int i = 0; i < slices.size(); i++) {
      covered += slices.get(i).sliceShape(shape).numElements();
      for (int j = 0; j < i; j++) {
        if (overlap(slices.get(i), slices.get(j), shape)) {
          throw new CorruptCheckpointException(
              "Cannot read sliced tensor "
                  + key
                  + " in "
                  + reader.indexFile()
                  + ": overlapping slices "
                  + slices.get(j)
                  + " and "
                  + slices.get(i));
        }
      }
    }
    if (covered != shape.numElements()) {
      throw new CorruptCheckpointException(
          String.format(
              "Cannot read sliced tensor %s in %s: its %d slices cover %d of %d elements",
              key, reader.indexFile(), slices.size(), covered, shape.numElements()));
    }
  }

  /** The slice entry of {@code slice}, checked against the full entry (present, dtype, shape). */
  private static BundleEntry sliceEntry(
      CheckpointReader reader, String key, BundleEntry full, TensorSlice slice) {
    BundleEntry e = reader.findEntry(SliceKeys.encode(key, slice));
    if (e == null) {
      throw new CorruptCheckpointException(
          "Cannot read sliced tensor "
              + key
              + ": the entry for slice "
              + slice
              + " is missing from "
              + reader.indexFile());
    }
    TensorShape expected = slice.sliceShape(full.shape());
    if (!e.shape().equals(expected) || e.dtypeCode() != full.dtypeCode()) {
      throw new CorruptCheckpointException(
          String.format(
              "Cannot read sliced tensor %s: slice %s is stored as %s %s, expected %s %s",
              key, slice, e.dtypeName(), e.shape(), full.dtypeName(), expected));
    }
    reader.checkSize(key + "[" + slice + "]", e);
    return e;
  }

  /**
   * The first {@code maxElements} elements (row-major) of a sliced tensor, as a vector (see {@link
   * CheckpointReader#readHead}). Coverage and every slice entry are checked first; then only the
   * rows of each slice that fall into the first {@code maxElements} elements are read. A tensor no
   * larger than that is assembled whole, checksums included.
   */
  static Tensor head(CheckpointReader reader, String key, BundleEntry full, int maxElements) {
    DType dtype = full.dtype();
    TensorShape shape = full.shape();
    if (!dtype.isFixedSize()) {
      throw new UnsupportedCheckpointException(
          "Cannot assemble sliced tensor "
              + key
              + ": dtype "
              + dtype.displayName()
              + " cannot be sliced");
    }
    checkCoverage(reader, key, full);
    List<BundleEntry> entries = new java.util.ArrayList<>();
    for (TensorSlice slice : full.slices()) {
      entries.add(sliceEntry(reader, key, full, slice));
    }
    long n = shape.numElements();
    if (n <= maxElements) {
      Tensor t = assemble(reader, key, full);
      return Tensor.of(dtype, TensorShape.of(n), t.data());
    }
    int elem = dtype.elementSize();
    long limit = (long) maxElements * elem;
    byte[] out = new byte[(int) limit];
    int rank = shape.rank();
    long[] fullStride = new long[rank];
    long stride = elem;
    for (int d = rank - 1; d >= 0; d--) {
      fullStride[d] = stride;
      stride *= shape.dim(d);
    }
    for (int s = 0; s < entries.size(); s++) {
      TensorSlice slice = full.slices().get(s);
      TensorShape part = slice.sliceShape(shape);
      if (part.numElements() == 0) {
        continue;
      }
      long rowBytes = part.dim(rank - 1) * elem;
      long[] index = new long[rank];
      long src = 0;
      while (true) {
        long dst = 0;
        for (int d = 0; d < rank; d++) {
          dst += (slice.start(d) + index[d]) * fullStride[d];
        }
        if (dst >= limit) {
          break; // rows of a slice lie in increasing order in the full tensor
        }
        int len = (int) Math.min(rowBytes, limit - dst);
        reader.readPart(key + "[" + slice + "]", entries.get(s), src, out, (int) dst, len);
        src += rowBytes;
        int d = rank - 2;
        for (; d >= 0; d--) {
          if (++index[d] < part.dim(d)) {
            break;
          }
          index[d] = 0;
        }
        if (d < 0) {
          break;
        }
      }
    }
    if (reader.header().bigEndian()) {
      out = reader.swapToLittleEndian(key, dtype, out);
    }
    return Tensor.of(dtype, TensorShape.of(maxElements), out);
  }

  static boolean overlap(TensorSlice a, TensorSlice b, TensorShape shape) {
    for (int d = 0; d < shape.rank(); d++) {
      long as = a.start(d);
      long ae = as + a.length(d, shape);
      long bs = b.start(d);
      long be = bs + b.length(d, shape);
      if (ae <= bs || be <= as) {
        return false;
      }
    }
    return shape.numElements() > 0;
  }

  /** Copies a slice's dense row-major block into its place in the full row-major tensor. */
  static void copyInto(byte[] out, TensorShape full, TensorSlice slice, byte[] data, int elem) {
    int rank = full.rank();
    TensorShape part = slice.sliceShape(full);
    if (part.numElements() == 0) {
      return;
    }
    long[] fullStride = new long[rank];
    long stride = elem;
    for (int d = rank - 1; d >= 0; d--) {
      fullStride[d] = stride;
      stride *= full.dim(d);
    }
    int rowBytes = (int) (part.dim(rank - 1) * elem);
    long rows = part.numElements() / part.dim(rank - 1);
    long[] index = new long[rank];
    int src = 0;
    for (long row = 0; row < rows; row++) {
      long dst = 0;
      for (int d = 0; d < rank; d++) {
        dst += (slice.start(d) + index[d]) * fullStride[d];
      }
      System.arraycopy(data, src, out, (int) dst, rowBytes);
      src += rowBytes;
      for (int d = rank - 2; d >= 0; d--) {
        if (++index[d] < part.dim(d)) {
          break;
        }
        index[d] = 0;
      }
    }
  }
}
