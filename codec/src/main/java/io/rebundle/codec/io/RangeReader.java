package io.rebundle.codec.io;

import java.io.Closeable;

/**
 * Positioned reads of one open file. There is no cursor: every read names its position, so one
 * reader may serve several consumers in sequence. Not thread-safe unless an implementation says so.
 * A read that cannot be satisfied in full is an error, never a silent short read.
 */
public interface RangeReader extends Closeable {
  String location();

  long length();

  /** Reads exactly {@code length} bytes at {@code position} into {@code buffer[offset..]}. */
  void readFully(long position, byte[] buffer, int offset, int length);

  /**
   * Reads exactly {@code dst.remaining()} bytes at {@code position} into {@code dst}, advancing its
   * position. Implementations over file channels read straight into a direct buffer, without the
   * heap copies of the {@code byte[]} form.
   */
  default void readFully(long position, java.nio.ByteBuffer dst) {
    if (dst.hasArray()) {
      int n = dst.remaining();
      readFully(position, dst.array(), dst.arrayOffset() + dst.position(), n);
      dst.position(dst.position() + n);
      return;
    }
    byte[] chunk = new byte[Math.min(dst.remaining(), 1 << 20)];
    long at = position;
    while (dst.hasRemaining()) {
      int n = Math.min(chunk.length, dst.remaining());
      readFully(at, chunk, 0, n);
      dst.put(chunk, 0, n);
      at += n;
    }
  }

  /**
   * Reads several ranges, {@code ranges.get(i)} into {@code dsts[i]} (each buffer's remaining bytes
   * must equal its range's length), as one batch: storage with a vectored read (Hadoop's {@code
   * readVectored}) fetches them in parallel requests; this default reads them one by one. Throws if
   * any range cannot be read in full.
   */
  default void readRanges(java.util.List<ByteRange> ranges, java.nio.ByteBuffer[] dsts) {
    if (ranges.size() != dsts.length) {
      throw new IllegalArgumentException(
          "Cannot read " + ranges.size() + " ranges into " + dsts.length + " buffers");
    }
    for (int i = 0; i < dsts.length; i++) {
      if (dsts[i].remaining() != ranges.get(i).length()) {
        throw new IllegalArgumentException(
            "Cannot read " + ranges.get(i) + " into a buffer of " + dsts[i].remaining());
      }
      readFully(ranges.get(i).offset(), dsts[i]);
    }
  }

  /**
   * Copies {@code count} bytes at {@code position} to the end of {@code out} inside the kernel
   * (sendfile / copy_file_range) when both ends allow it, and returns true; returns false, having
   * written nothing, when they do not. Callers verify checksums separately.
   */
  default boolean transferTo(long position, long count, PositionOutputStream out) {
    return false;
  }

  /** Whether {@link #transferTo} would copy to {@code out} in the kernel. */
  default boolean canTransferTo(PositionOutputStream out) {
    return false;
  }

  default byte[] readFully(long position, int length) {
    byte[] bytes = new byte[length];
    readFully(position, bytes, 0, length);
    return bytes;
  }

  @Override
  void close();

  /**
   * Fails with a corruption naming the file unless {@code [position, position + length)} lies
   * inside a file of {@code fileLength} bytes. For implementations, before they read.
   */
  static void checkRange(String location, long position, long length, long fileLength) {
    if (position < 0 || length < 0 || position > fileLength - length) {
      throw io.rebundle.codec.Errors.pastEnd("bytes", location, null, position, length, fileLength);
    }
  }
}
