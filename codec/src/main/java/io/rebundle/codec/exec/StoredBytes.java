package io.rebundle.codec.exec;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import java.io.OutputStream;

/**
 * Where {@link Transforms} reads a source tensor's stored bytes from, named by its key and a {@link
 * BundleEntry} (dtype, shape, location, size). A TensorBundle ({@link #of(CheckpointReader)})
 * verifies each entry's CRC32C as it streams; a source without checksums (safetensors) only reads.
 * Not thread-safe: one per reader.
 */
public interface StoredBytes {
  /**
   * Streams every stored byte of the entry to {@code out} (null: read only) through {@code buffer},
   * checking the entry's checksum where the format has one.
   */
  void copyRaw(String key, BundleEntry e, OutputStream out, byte[] buffer);

  /** Reads every byte of the entry and checks its checksum where the format has one. */
  void verifyData(String key, BundleEntry e, byte[] buffer);

  /** Reads {@code length} bytes at {@code offsetInTensor} of the entry, no checksum. */
  void readRange(
      String key, BundleEntry e, long offsetInTensor, byte[] buffer, int off, int length);

  /** The stored bytes of a TensorBundle, CRC32C-checked by {@code reader}. */
  static StoredBytes of(CheckpointReader reader) {
    return new StoredBytes() {
      @Override
      public void copyRaw(String key, BundleEntry e, OutputStream out, byte[] buffer) {
        reader.copyRaw(key, e, out, buffer);
      }

      @Override
      public void verifyData(String key, BundleEntry e, byte[] buffer) {
        reader.verifyData(key, e, buffer);
      }

      @Override
      public void readRange(
          String key, BundleEntry e, long offsetInTensor, byte[] buffer, int off, int length) {
        reader.readRange(key, e, offsetInTensor, buffer, off, length);
      }
    };
  }
}
