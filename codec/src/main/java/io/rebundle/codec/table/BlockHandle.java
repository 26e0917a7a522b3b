package io.rebundle.codec.table;

import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;

/**
 * Where a block lies in a table file (tensorbundle-format.md §2.4): varint64 offset, varint64 size.
 * The size excludes the 5-byte trailer.
 */
public record BlockHandle(long offset, long size) {
  public static final int MAX_ENCODED_LENGTH = 20;

  public BlockHandle {
    if (offset < 0 || size < 0) {
      throw new IllegalArgumentException(
          "Invalid block handle: offset " + offset + ", size " + size);
    }
  }

  public void encodeTo(ByteArrayOutputStream out) {
    Varints.putVarint64(out, offset);
    Varints.putVarint64(out, size);
  }

  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(MAX_ENCODED_LENGTH);
    encodeTo(out);
    return out.toByteArray();
  }

  /** Decodes a handle; throws {@link MalformedBytesException} when the varints are malformed. */
  public static BlockHandle decode(Varints.Cursor cursor) {
    long offset = cursor.varint64();
    long size = cursor.varint64();
    if (offset < 0 || size < 0) {
      throw new MalformedBytesException(
          "negative block handle: offset " + offset + ", size " + size, cursor.position());
    }
    return new BlockHandle(offset, size);
  }

  /** The byte just past the block's trailer. */
  public long end() {
    return offset + size + Block.TRAILER_SIZE;
  }
}
