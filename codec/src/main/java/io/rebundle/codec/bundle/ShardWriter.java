package io.rebundle.codec.bundle;

import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Appends tensors to one data file and returns their entries (offset, size, CRC), as TensorFlow's
 * BundleWriter does: no header, no padding, tensors back to back in the order added. Owns the
 * stream. Not thread-safe.
 */
public final class ShardWriter implements AutoCloseable {
  private final PositionOutputStream out;
  private final String location;
  private final int shardId;

  public ShardWriter(PositionOutputStream out, String location, int shardId) {
    this.out = out;
    this.location = location;
    this.shardId = shardId;
  }

  public String location() {
    return location;
  }

  public int shardId() {
    return shardId;
  }

  public long position() {
    return out.position();
  }

  /** Appends a fixed-size tensor given as raw little-endian element bytes. */
  public BundleEntry add(DType dtype, TensorShape shape, byte[] data) {
    if (!dtype.isFixedSize()) {
      throw new IllegalArgumentException("Invalid dtype for raw bytes: " + dtype.displayName());
    }
    long expected = shape.numElements() * dtype.elementSize();
    if (data.length != expected) {
      throw new IllegalArgumentException("Invalid tensor data: " + data.length + " bytes for "
          + dtype.displayName() + " " + shape + ", expected " + expected);
    }
    return append(dtype, shape, data, Crc32c.mask(Crc32c.of(data)));
  }

  public BundleEntry addStrings(TensorShape shape, List<byte[]> values) {
    if (values.size() != shape.numElements()) {
      throw new IllegalArgumentException("Invalid string tensor: " + values.size() + " values for shape " + shape);
    }
    StringTensors.Encoded enc = StringTensors.encode(values);
    return append(DType.STRING, shape, enc.bytes(), enc.maskedCrc());
  }

  public BundleEntry add(Tensor t) {
    return t.dtype() == DType.STRING ? addStrings(t.shape(), t.strings()) : add(t.dtype(), t.shape(), t.data());
  }

  private BundleEntry append(DType dtype, TensorShape shape, byte[] bytes, int maskedCrc) {
    long offset = out.position();
    try {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
    return BundleEntry.of(dtype, shape, shardId, offset, bytes.length, maskedCrc);
  }

  /**
   * Copies a stored tensor's bytes unchanged from a source checkpoint, verifying the source CRC while
   * streaming; the entry keeps the source CRC and gets its new location.
   */
  public BundleEntry copyFrom(CheckpointReader source, String key, BundleEntry entry, byte[] buffer) {
    long offset = out.position();
    source.copyRaw(key, entry, out, buffer);
    return entry.withLocation(shardId, offset);
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot close " + location + ": " + e.getMessage(), e);
    }
  }
}
