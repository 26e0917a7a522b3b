package io.rebundle.codec.source;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;

/**
 * A checkpoint-like input seen only as named, fixed-layout tensors: what {@code inspect}, {@code
 * verify}, {@code diff} and a migration planner need from any format. Implemented by {@link
 * BundleSource} (a TensorBundle, through {@link io.rebundle.codec.bundle.CheckpointReader}) and
 * {@link io.rebundle.codec.safetensors.SafetensorsReader}.
 *
 * <p>Whoever opens a source closes it. Not thread-safe: one source per thread or task. Byte counts
 * and offsets are in bytes; a tensor's bytes are its elements in row-major order, little-endian.
 */
public interface TensorSource extends AutoCloseable {
  /** Where the source was opened from (a prefix, a file or a directory), for messages. */
  String location();

  /** A short name of the format: "tf1", "tf2", "safetensors". */
  String format();

  /** Number of files the tensors' bytes live in (shards). */
  int numFiles();

  /**
   * Every tensor, in the source's own order (index order for a bundle, data-offset order per file
   * for safetensors). Iterating may read the index lazily; it does not read tensor bytes.
   */
  Iterable<SourceTensor> tensors();

  /** The tensor named {@code name}, or null when the source has none. */
  SourceTensor find(String name);

  /**
   * Reads {@code length} bytes of tensor {@code t} starting {@code offsetInTensor} bytes into it.
   * The range must lie inside the tensor ({@link IllegalArgumentException} otherwise, a caller
   * bug); bytes missing from storage are a {@link io.rebundle.codec.CorruptCheckpointException}.
   */
  void readRange(SourceTensor t, long offsetInTensor, byte[] buffer, int offset, int length);

  @Override
  void close();

  /**
   * One tensor of a source. {@code file} is the index of the file holding it (its shard), {@code
   * size} its byte count. Immutable.
   */
  record SourceTensor(String name, DType dtype, TensorShape shape, long size, int file) {
    public SourceTensor {
      if (name == null || dtype == null || shape == null || size < 0 || file < 0) {
        throw new IllegalArgumentException("Invalid source tensor " + name);
      }
    }
  }

  /** Checks a requested range against a tensor's size; for implementations. */
  static void checkRange(SourceTensor t, long offsetInTensor, int length) {
    if (offsetInTensor < 0 || length < 0 || offsetInTensor > t.size() - length) {
      throw new IllegalArgumentException(
          "Invalid range of tensor "
              + t.name()
              + ": "
              + length
              + " bytes at "
              + offsetInTensor
              + " of "
              + t.size());
    }
  }
}
