package io.rebundle.codec.table;

import io.rebundle.codec.Errors;
import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;

/**
 * The last 48 bytes of a table (tensorbundle-format.md §2.8): metaindex handle, index handle, zero
 * padding to byte 40, then the fixed64 magic number.
 */
public record Footer(BlockHandle metaindex, BlockHandle index) {
  public static final int ENCODED_LENGTH = 48;
  public static final long MAGIC = 0xdb4775248b80fb57L;
  private static final int MAGIC_OFFSET = 40;

  public byte[] encode() {
    ByteArrayOutputStream handles = new ByteArrayOutputStream(2 * BlockHandle.MAX_ENCODED_LENGTH);
    metaindex.encodeTo(handles);
    index.encodeTo(handles);
    byte[] out = new byte[ENCODED_LENGTH];
    byte[] h = handles.toByteArray();
    System.arraycopy(h, 0, out, 0, h.length);
    Varints.putFixed64(out, MAGIC_OFFSET, MAGIC);
    return out;
  }

  public static boolean hasMagic(byte[] footer) {
    return footer.length == ENCODED_LENGTH && Varints.getFixed64(footer, MAGIC_OFFSET) == MAGIC;
  }

  /** Decodes a footer read at {@code footerOffset} of {@code file}. */
  public static Footer decode(byte[] footer, String file, long footerOffset) {
    if (!hasMagic(footer)) {
      throw Errors.badMagic(
          file, footerOffset + MAGIC_OFFSET, MAGIC, Varints.getFixed64(footer, MAGIC_OFFSET));
    }
    try {
      Varints.Cursor cursor = new Varints.Cursor(footer, 0, MAGIC_OFFSET);
      return new Footer(BlockHandle.decode(cursor), BlockHandle.decode(cursor));
    } catch (MalformedBytesException e) {
      throw Errors.malformed("footer", file, null, footerOffset, e);
    }
  }

  /**
   * Offset (within the footer) of the first byte that differs from the canonical encoding of the
   * same handles (minimal varints, zero padding, magic), or -1 if the footer is canonical.
   * TensorFlow never looks at the padding and accepts padded varints; {@code verify} does not.
   */
  public int firstNonCanonicalByte(byte[] footer) {
    byte[] canonical = encode();
    for (int i = 0; i < ENCODED_LENGTH; i++) {
      if (canonical[i] != footer[i]) {
        return i;
      }
    }
    return -1;
  }
}
