package io.rebundle.codec.bundle;

import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * DT_STRING encoding (tensorbundle-format.md §4.4): varint64 lengths, a fixed32 masked CRC of the
 * lengths, then the string bytes. The entry CRC runs over the lengths (as fixed32, or fixed64 when
 * a length does not fit 32 bits), the 4 bytes of the length checksum, and the string bytes.
 */
public final class StringTensors {
  private StringTensors() {}

  /** An encoded string tensor and the masked CRC its entry stores. */
  public record Encoded(byte[] bytes, int maskedCrc) {}

  public static Encoded encode(List<byte[]> values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CRC32C crc = new CRC32C();
    byte[] scratch = new byte[8];
    for (byte[] v : values) {
      Varints.putVarint64(out, v.length);
      updateLength(crc, scratch, v.length, false);
    }
    int lengthsCrc = Crc32c.mask((int) crc.getValue());
    byte[] l = new byte[4];
    Varints.putFixed32(l, 0, lengthsCrc);
    out.write(l, 0, 4);
    crc.update(l);
    for (byte[] v : values) {
      out.write(v, 0, v.length);
      crc.update(v);
    }
    return new Encoded(out.toByteArray(), Crc32c.mask((int) crc.getValue()));
  }

  /** Extends {@code crc} with one length as TensorFlow checksums it. */
  static void updateLength(CRC32C crc, byte[] scratch, long length, boolean bigEndian) {
    if (length <= 0xFFFFFFFFL) {
      int v = (int) length;
      if (bigEndian) {
        v = Integer.reverseBytes(v);
      }
      Varints.putFixed32(scratch, 0, v);
      crc.update(scratch, 0, 4);
    } else {
      long v = bigEndian ? Long.reverseBytes(length) : length;
      Varints.putFixed64(scratch, 0, v);
      crc.update(scratch, 0, 8);
    }
  }
}
