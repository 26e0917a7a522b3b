package io.rebundle.codec.bundle;

import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Appends tensors to one data file and returns their entries (offset, size, CRC), as TensorFlow's
 * BundleWriter does: no header, no padding, tensors back to back in the order added. The one place
 * where entries of written tensors are built: fresh tensors, copies, literals, merged and
 * transformed tensors. Owns the stream. Not thread-safe.
 */
public final class ShardWriter implements AutoCloseable {
  /** Chunk size of {@link #append}: big enough to amortize calls, small enough to stay in cache. */
  public static final int STREAM_BUFFER_SIZE = 1 << 20;

  private final PositionOutputStream out;
  private final String location;
  private final int shardId;
  private byte[] streamBuffer;

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
      throw new IllegalArgumentException(
          "Invalid tensor data: "
              + data.length
              + " bytes for "
              + dtype.displayName()
              + " "
              + shape
              + ", expected "
              + expected);
    }
    return append(dtype, shape, data, Crc32c.mask(Crc32c.of(data)));
  }

  public BundleEntry addStrings(TensorShape shape, List<byte[]> values) {
    if (values.size() != shape.numElements()) {
      throw new IllegalArgumentException(
          "Invalid string tensor: " + values.size() + " values for shape " + shape);
    }
    StringTensors.Encoded enc = StringTensors.encode(values);
    return append(DType.STRING, shape, enc.bytes(), enc.maskedCrc());
  }

  public BundleEntry add(Tensor t) {
    return t.dtype() == DType.STRING
        ? addStrings(t.shape(), t.strings())
        : add(t.dtype(), t.shape(), t.data());
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
   * Appends a tensor of {@code size} stored bytes produced by {@code source}, one reusable buffer
   * ({@link #STREAM_BUFFER_SIZE}) at a time, computing the entry CRC as the bytes go by, so no
   * tensor is ever held whole. Fixed-size dtypes must give exactly elements times element size;
   * strings and variants must give their stored encoding (tensorbundle-format.md §4.4-4.5).
   */
  public BundleEntry append(DType dtype, TensorShape shape, long size, StreamSource source) {
    if (size < 0) {
      throw new IllegalArgumentException("Invalid tensor size: " + size);
    }
    if (dtype.isFixedSize() && size != shape.numElements() * dtype.elementSize()) {
      throw new IllegalArgumentException(
          "Invalid tensor data: "
              + size
              + " bytes for "
              + dtype.displayName()
              + " "
              + shape
              + ", expected "
              + shape.numElements() * dtype.elementSize());
    }
    if (streamBuffer == null) {
      streamBuffer = new byte[STREAM_BUFFER_SIZE];
    }
    TensorChecksum crc = TensorChecksum.of(dtype, shape.numElements(), false);
    long offset = out.position();
    long left = size;
    try {
      while (left > 0) {
        int n = (int) Math.min(streamBuffer.length, left);
        source.fill(streamBuffer, 0, n);
        crc.update(streamBuffer, 0, n);
        out.write(streamBuffer, 0, n);
        left -= n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
    return BundleEntry.of(dtype, shape, shardId, offset, size, Crc32c.mask(crc.value()));
  }

  /**
   * Copies a stored tensor's bytes unchanged from a source checkpoint, verifying the source CRC
   * while streaming; the entry keeps the source CRC and gets its new location.
   */
  public BundleEntry copyFrom(
      CheckpointReader source, String key, BundleEntry entry, byte[] buffer) {
    return copyFrom(source, key, entry, buffer, null, Long.MAX_VALUE);
  }

  /**
   * {@link #copyFrom(CheckpointReader, String, BundleEntry, byte[])}, reporting written bytes to
   * {@code progress} every {@code chunk} bytes (see {@link CheckpointReader#copyRaw(String,
   * BundleEntry, PositionOutputStream, java.nio.ByteBuffer, java.util.function.LongConsumer,
   * long)}).
   */
  public BundleEntry copyFrom(
      CheckpointReader source,
      String key,
      BundleEntry entry,
      byte[] buffer,
      java.util.function.LongConsumer progress,
      long chunk) {
    long offset = out.position();
    source.copyRaw(key, entry, out, directBuffer(buffer.length), progress, chunk);
    return entry.withLocation(shardId, offset);
  }

  /**
   * Copies a stored tensor's bytes unchanged (CRC verified, and kept) under a new dtype code and
   * shape that describe the same bytes: a reshape.
   */
  public BundleEntry copyAs(
      CheckpointReader source,
      String key,
      BundleEntry entry,
      int dtypeCode,
      TensorShape shape,
      byte[] buffer) {
    return copyAs(source, key, entry, dtypeCode, shape, buffer, null, Long.MAX_VALUE);
  }

  /**
   * {@link #copyAs(CheckpointReader, String, BundleEntry, int, TensorShape, byte[])}, reporting
   * written bytes to {@code progress} every {@code chunk} bytes.
   */
  public BundleEntry copyAs(
      CheckpointReader source,
      String key,
      BundleEntry entry,
      int dtypeCode,
      TensorShape shape,
      byte[] buffer,
      java.util.function.LongConsumer progress,
      long chunk) {
    long offset = out.position();
    source.copyRaw(key, entry, out, directBuffer(buffer.length), progress, chunk);
    return new BundleEntry(
        dtypeCode, shape, shardId, offset, entry.size(), entry.crc32c(), List.of());
  }

  /** Whether {@link #transferUnchecked} can copy this source entry into this file in the kernel. */
  public boolean canTransfer(CheckpointReader source, String key, BundleEntry entry) {
    return source.canTransferRaw(key, entry, out);
  }

  /**
   * Appends a stored tensor's bytes copied in the kernel and <b>not checked</b>, under {@code
   * dtypeCode} and {@code shape} (the source's, or a reshape's that describe the same bytes),
   * keeping the source CRC. The caller runs the source's {@link CheckpointReader#deferredCheck} of
   * the same entry and discards this file unless it passes. Only where {@link #canTransfer} said
   * so.
   */
  public BundleEntry transferUnchecked(
      CheckpointReader source,
      String key,
      BundleEntry entry,
      int dtypeCode,
      TensorShape shape,
      java.util.function.LongConsumer progress,
      long chunk) {
    long offset = out.position();
    source.transferRaw(key, entry, out, progress, chunk);
    return new BundleEntry(
        dtypeCode, shape, shardId, offset, entry.size(), entry.crc32c(), List.of());
  }

  /** Appends bytes whose masked CRC32C the caller already knows (a planner literal). */
  public BundleEntry addStored(int dtypeCode, TensorShape shape, byte[] bytes, int maskedCrc) {
    long offset = out.position();
    try {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
    return new BundleEntry(dtypeCode, shape, shardId, offset, bytes.length, maskedCrc, List.of());
  }

  /** Writes a tensor's bytes to the stream it is given (a merge of slices, a transform). */
  @FunctionalInterface
  public interface BytesProducer {
    void writeTo(java.io.OutputStream out) throws IOException;
  }

  /**
   * Appends the bytes {@code producer} writes, computing their CRC32C as they pass; they must be
   * exactly {@code size} bytes, or {@code mismatch} (given the byte count written) is thrown. The
   * entry is {@code dtypeCode} {@code shape} at its new location.
   */
  public BundleEntry appendProduced(
      int dtypeCode,
      TensorShape shape,
      long size,
      BytesProducer producer,
      java.util.function.LongFunction<RuntimeException> mismatch) {
    long offset = out.position();
    CrcCounter counted = new CrcCounter(out);
    try {
      producer.writeTo(counted);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
    long written = out.position() - offset;
    if (written != size) {
      throw mismatch.apply(written);
    }
    return new BundleEntry(
        dtypeCode,
        shape,
        shardId,
        offset,
        size,
        Crc32c.mask((int) counted.crc.getValue()),
        List.of());
  }

  private java.nio.ByteBuffer directBuffer(int size) {
    if (direct == null) {
      // One direct buffer per shard writer, the size of the caller's: copies then move file to file
      // without passing through the Java heap.
      direct = java.nio.ByteBuffer.allocateDirect(size);
    }
    return direct;
  }

  private java.nio.ByteBuffer direct;

  /** Passes bytes through, counting their CRC32C. */
  private static final class CrcCounter extends java.io.OutputStream {
    private final java.io.OutputStream out;
    private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();

    CrcCounter(java.io.OutputStream out) {
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

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot close " + location + ": " + e.getMessage(), e);
    }
  }
}
