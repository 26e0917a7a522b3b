package io.rebundle.codec.io;

/** {@code length} bytes at {@code offset} of one file. */
public record ByteRange(long offset, long length) {
  public ByteRange {
    if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
      throw new IllegalArgumentException(
          "Invalid byte range: " + length + " bytes at offset " + offset);
    }
  }

  public long end() {
    return offset + length;
  }
}
