package io.rebundle.codec.util;

import static io.rebundle.codec.util.TestBytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Crc32cTest {

  @Test
  void computesCheckValueOf123456789() {
    assertEquals(0xE3069283, Crc32c.of("123456789".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void computesCrcOfSubrange() {
    byte[] padded = "xx123456789yy".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xE3069283, Crc32c.of(padded, 2, 9));
  }

  @Test
  void crcOfEmptyInputIsZero() {
    assertEquals(0, Crc32c.of(new byte[0]));
  }

  @Test
  void masksZeroToDelta() {
    assertEquals(0xA282EAD8, Crc32c.mask(0));
    assertEquals(0, Crc32c.unmask(0xA282EAD8));
  }

  @Test
  void maskMatchesStoredChecksumsOfTheWorkedExample() {
    // tensorbundle-format.md §2.11: entry CRC of float 1.0, data block trailer, metaindex trailer.
    assertEquals(0x2BDAA581, Crc32c.mask(Crc32c.of(hex("00 00 80 3F"))));
    byte[] dataBlockAndType =
        hex(
            "00 00 06 08 01 1A 02 08 01"
                + "00 01 0B 78 08 01 12 00 28 04 35 81 A5 DA 2B"
                + "00 00 00 00 01 00 00 00 00");
    assertEquals(0x39DF5A38, Crc32c.mask(Crc32c.of(dataBlockAndType)));
    assertEquals(0xB0A1F2C0, Crc32c.mask(Crc32c.of(hex("00 00 00 00 01 00 00 00 00"))));
  }

  @Test
  void maskRotatesRightBy15AndAddsDelta() {
    // 0x00008000 rotated right by 15 is 1.
    assertEquals(1 + 0xA282EAD8, Crc32c.mask(0x00008000));
    // 0x00000001 rotated right by 15 is 0x00020000.
    assertEquals(0x00020000 + 0xA282EAD8, Crc32c.mask(1));
  }

  @Test
  void unmaskInvertsMaskForRandomValues() {
    Random random = new Random(42);
    for (int i = 0; i < 10_000; i++) {
      int crc = random.nextInt();
      assertEquals(crc, Crc32c.unmask(Crc32c.mask(crc)));
      assertEquals(crc, Crc32c.mask(Crc32c.unmask(crc)));
    }
    for (int crc : new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x5D5D5D5D}) {
      assertEquals(crc, Crc32c.unmask(Crc32c.mask(crc)));
    }
  }

  @Test
  void maskChangesTheValue() {
    assertNotEquals(0xE3069283, Crc32c.mask(0xE3069283));
  }

  @Test
  void rendersChecksumsUnsigned() {
    assertEquals("3808858755", Crc32c.toUnsigned(0xE3069283));
    assertEquals("0", Crc32c.toUnsigned(0));
  }
}
