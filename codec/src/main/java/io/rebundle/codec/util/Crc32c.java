package io.rebundle.codec.util;

import java.util.zip.CRC32C;

/**
 * CRC-32C and TensorFlow's checksum masking (tensorbundle-format.md §4.2). Every CRC TensorFlow
 * stores on disk is masked so that a CRC of data containing CRCs stays well distributed.
 */
public final class Crc32c {
  private static final int MASK_DELTA = 0xa282ead8;

  private Crc32c() {}

  public static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  public static int unmask(int masked) {
    int rot = masked - MASK_DELTA;
    return (rot >>> 17) | (rot << 15);
  }

  public static int of(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  public static int of(byte[] bytes) {
    return of(bytes, 0, bytes.length);
  }

  /** Unsigned decimal rendering, as TensorFlow prints checksums. */
  public static String toUnsigned(int crc) {
    return Integer.toUnsignedString(crc);
  }
}
