package io.rebundle.codec.util;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;

/** Test helpers: hex literals as the spec prints them, and byte-array concatenation. */
public final class TestBytes {
  private TestBytes() {}

  /** Parses hex written with or without spaces and separators, e.g. {@code "08 01 1A 02"}. */
  public static byte[] hex(String text) {
    return HexFormat.of().parseHex(text.replaceAll("[\\s|]", ""));
  }

  /** Lower-case hex with single spaces, for readable assertion failures. */
  public static String spaced(byte[] bytes) {
    return HexFormat.ofDelimiter(" ").formatHex(bytes);
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.write(p, 0, p.length);
    }
    return out.toByteArray();
  }
}
