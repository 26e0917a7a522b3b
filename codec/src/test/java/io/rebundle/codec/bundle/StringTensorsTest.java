package io.rebundle.codec.bundle;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.TestBytes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class StringTensorsTest {

  @Test
  void encodesScalarAbcAsSpecExample() {
    StringTensors.Encoded e =
        StringTensors.encode(List.of("abc".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("03 63 3f 7f 28 61 62 63", spaced(e.bytes()));
    assertEquals(0x199AD1C3, e.maskedCrc());
  }

  @Test
  void encodesEmptyTensorAsMaskedZero() {
    StringTensors.Encoded e = StringTensors.encode(List.of());
    assertEquals("d8 ea 82 a2", spaced(e.bytes()));
    assertEquals(Crc32c.mask(Crc32c.of(hex("D8 EA 82 A2"))), e.maskedCrc());
  }

  @Test
  void checksumsLengthsAsFixed32NotAsVarints() {
    byte[] a = new byte[300];
    byte[] b = new byte[0];
    byte[] c = "\u00e9".getBytes(StandardCharsets.UTF_8);
    StringTensors.Encoded e = StringTensors.encode(List.of(a, b, c));
    // Lengths 300, 0, 2 as varints; the length CRC is over 2C 01 00 00 | 00 00 00 00 | 02 00 00 00.
    int lengthsCrc = Crc32c.mask(Crc32c.of(hex("2C 01 00 00 00 00 00 00 02 00 00 00")));
    byte[] l = new byte[4];
    io.rebundle.codec.util.Varints.putFixed32(l, 0, lengthsCrc);
    byte[] expected = TestBytes.concat(hex("AC 02 00 02"), l, a, b, c);
    assertEquals(spaced(expected), spaced(e.bytes()));
    byte[] crcInput = TestBytes.concat(hex("2C 01 00 00 00 00 00 00 02 00 00 00"), l, a, b, c);
    assertEquals(Crc32c.mask(Crc32c.of(crcInput)), e.maskedCrc());
  }

  @Test
  void checksumsLengthsAbove4GiBAsFixed64() {
    CRC32C crc = new CRC32C();
    StringTensors.updateLength(crc, new byte[8], 0x1_0000_0002L, false);
    assertEquals(Crc32c.of(hex("02 00 00 00 01 00 00 00")), (int) crc.getValue());
    CRC32C small = new CRC32C();
    StringTensors.updateLength(small, new byte[8], 0xFFFF_FFFFL, false);
    assertEquals(Crc32c.of(hex("FF FF FF FF")), (int) small.getValue());
    CRC32C big = new CRC32C();
    StringTensors.updateLength(big, new byte[8], 5, true);
    assertEquals(Crc32c.of(hex("00 00 00 05")), (int) big.getValue());
  }
}
