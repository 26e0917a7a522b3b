package io.rebundle.codec.util;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.MalformedBytesException;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VarintsTest {

  private static byte[] varint(long v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Varints.putVarint64(out, v);
    return out.toByteArray();
  }

  @Test
  void encodesVarintsLowGroupFirst() {
    assertEquals("00", spaced(varint(0)));
    assertEquals("01", spaced(varint(1)));
    assertEquals("7f", spaced(varint(127)));
    assertEquals("80 01", spaced(varint(128)));
    assertEquals("ac 02", spaced(varint(300)));
    assertEquals("80 08", spaced(varint(1024)));
    // §3.3: offset 182702864 is stored as 90 A6 8F 57.
    assertEquals("90 a6 8f 57", spaced(varint(182702864)));
    assertEquals("ff ff ff ff 0f", spaced(varint(0xFFFFFFFFL)));
    assertEquals("ff ff ff ff ff ff ff ff 7f", spaced(varint(Long.MAX_VALUE)));
    assertEquals("ff ff ff ff ff ff ff ff ff 01", spaced(varint(-1)));
  }

  @Test
  void arrayAndStreamEncodingsAgree() {
    Random random = new Random(7);
    for (int i = 0; i < 1000; i++) {
      long v = random.nextLong() >>> random.nextInt(64);
      byte[] dst = new byte[12];
      int end = Varints.putVarint64(dst, 1, v);
      byte[] expected = varint(v);
      assertEquals(1 + expected.length, end);
      assertArrayEquals(expected, java.util.Arrays.copyOfRange(dst, 1, end));
      assertEquals(expected.length, Varints.varintLength(v));
    }
  }

  @Test
  void reportsVarintLengths() {
    assertEquals(1, Varints.varintLength(0));
    assertEquals(1, Varints.varintLength(127));
    assertEquals(2, Varints.varintLength(128));
    assertEquals(2, Varints.varintLength(16383));
    assertEquals(3, Varints.varintLength(16384));
    assertEquals(9, Varints.varintLength(Long.MAX_VALUE));
    assertEquals(10, Varints.varintLength(-1));
  }

  @Test
  void decodesWhatItEncodes() {
    Random random = new Random(11);
    for (int i = 0; i < 1000; i++) {
      long v = random.nextLong() >>> random.nextInt(64);
      byte[] b = varint(v);
      Varints.Cursor c = new Varints.Cursor(b, 0, b.length);
      assertEquals(v, c.varint64());
      assertEquals(b.length, c.position());
      assertEquals(0, c.remaining());
    }
  }

  @Test
  void decodesConsecutiveVarintsAndSkips() {
    byte[] b = hex("05 ac 02 ff 00 7f");
    Varints.Cursor c = new Varints.Cursor(b, 0, b.length);
    assertEquals(5, c.varint64());
    assertEquals(300, c.varint32());
    c.skip(2);
    assertEquals(127, c.varint64());
  }

  @Test
  void rejectsVarintRunningPastLimit() {
    byte[] b = hex("80 80 01");
    Varints.Cursor c = new Varints.Cursor(b, 0, 2);
    MalformedBytesException e = assertThrows(MalformedBytesException.class, c::varint64);
    assertEquals("varint runs past the end at byte 2", e.getMessage());
  }

  @Test
  void rejectsVarintLongerThanTenBytes() {
    byte[] b = hex("ff ff ff ff ff ff ff ff ff ff 01");
    Varints.Cursor c = new Varints.Cursor(b, 0, b.length);
    MalformedBytesException e = assertThrows(MalformedBytesException.class, c::varint64);
    assertEquals("varint longer than 10 bytes at byte 10", e.getMessage());
  }

  @Test
  void rejectsVarint32OutOfRange() {
    byte[] b = varint(1L << 31);
    Varints.Cursor c = new Varints.Cursor(b, 0, b.length);
    MalformedBytesException e = assertThrows(MalformedBytesException.class, c::varint32);
    assertEquals("varint32 out of range: 2147483648", e.getMessage());
    byte[] max = varint(Integer.MAX_VALUE);
    assertEquals(Integer.MAX_VALUE, new Varints.Cursor(max, 0, max.length).varint32());
  }

  @Test
  void writesAndReadsFixedWidthLittleEndian() {
    byte[] b = new byte[12];
    Varints.putFixed32(b, 0, 0x0A0B0C0D);
    Varints.putFixed64(b, 4, 0xdb4775248b80fb57L);
    assertEquals("0d 0c 0b 0a 57 fb 80 8b 24 75 47 db", spaced(b));
    assertEquals(0x0A0B0C0D, Varints.getFixed32(b, 0));
    assertEquals(0xdb4775248b80fb57L, Varints.getFixed64(b, 4));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Varints.putFixed32(out, 0xA282EAD8);
    assertEquals("d8 ea 82 a2", spaced(out.toByteArray()));
    assertEquals(0xA282EAD8, Varints.getFixed32(out.toByteArray(), 0));
  }
}
