package io.rebundle.codec.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BytesTest {

  @Test
  void ordersKeysByUnsignedUtf8Bytes() {
    // U+00E9 is C3 A9 in UTF-8: after every ASCII key, although it is a negative Java byte.
    assertTrue(Bytes.KEY_ORDER.compare("z", "\u00e9") < 0);
    // String.compareTo would put U+FFFD (EF BF BD) before U+10000 (F0 90 80 80, a surrogate pair).
    assertTrue(Bytes.KEY_ORDER.compare("\uFFFD", "\uD800\uDC00") < 0);
    assertTrue(Bytes.KEY_ORDER.compare("a", "ab") < 0);
    assertTrue(Bytes.UNSIGNED.compare(new byte[] {(byte) 0x7F}, new byte[] {(byte) 0x80}) < 0);
    assertEquals(0, Bytes.KEY_ORDER.compare("", ""));
  }

  @Test
  void rendersBinaryKeysPrintably() {
    assertEquals(
        "\\x00emb\\x00\\x01\\x01\\x02\\x80\\x5c",
        Bytes.printable(new byte[] {0, 'e', 'm', 'b', 0, 1, 1, 2, (byte) 0x80, '\\'}));
    assertEquals("0a00ff", Bytes.hex(new byte[] {0x0A, 0, (byte) 0xFF}));
  }
}
