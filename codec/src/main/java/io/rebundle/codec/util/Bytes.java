package io.rebundle.codec.util;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;

/**
 * Byte-string helpers: TensorFlow's key order is unsigned bytewise (tensorbundle-format.md §2.10).
 */
public final class Bytes {
  private Bytes() {}

  public static final Comparator<byte[]> UNSIGNED = Arrays::compareUnsigned;

  /** Compares two strings by their UTF-8 bytes, unsigned, as TensorFlow orders keys. */
  public static final Comparator<String> KEY_ORDER =
      (a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b));

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  /**
   * Renders a key for messages: printable ASCII as is, everything else escaped, so binary slice
   * keys stay readable.
   */
  public static String printable(byte[] key) {
    StringBuilder sb = new StringBuilder();
    for (byte b : key) {
      int c = b & 0xFF;
      if (c >= 0x20 && c < 0x7F && c != '\\') {
        sb.append((char) c);
      } else {
        sb.append(String.format("\\x%02x", c));
      }
    }
    return sb.toString();
  }
}
