package io.rebundle.codec.bundle;

import static io.rebundle.codec.bundle.BundleEntryTest.slice;
import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.MalformedBytesException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SliceKeysTest {

  private static String signed(long v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SliceKeys.writeSignedNumIncreasing(out, v);
    return spaced(out.toByteArray());
  }

  private static String unsigned(long v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SliceKeys.writeNumIncreasing(out, v);
    return spaced(out.toByteArray());
  }

  private static long readSigned(byte[] b) {
    int[] pos = {0};
    long v = SliceKeys.readSignedNumIncreasing(b, pos);
    assertEquals(b.length, pos[0], "bytes consumed");
    return v;
  }

  @Test
  void encodesSliceKeysOfEmbAsSpecExample() {
    assertEquals(
        "00 65 6d 62 00 01 01 02 80 82 80 82", spaced(SliceKeys.encode("emb", slice(0, 2, 0, 2))));
    assertEquals(
        "00 65 6d 62 00 01 01 02 82 82 80 82", spaced(SliceKeys.encode("emb", slice(2, 2, 0, 2))));
  }

  @Test
  void encodesFullDimensionAsStartZeroLengthMinusOne() {
    TensorSlice s = new TensorSlice(List.of(new TensorSlice.Extent(0, 2), TensorSlice.Extent.FULL));
    assertEquals("00 65 6d 62 00 01 01 02 80 82 80 7f", spaced(SliceKeys.encode("emb", s)));
  }

  @Test
  void encodesSignedNumbersAsSpecExamples() {
    assertEquals("80", signed(0));
    assertEquals("85", signed(5));
    assertEquals("7f", signed(-1));
    assertEquals("40", signed(-64));
    assertEquals("bf", signed(63));
    assertEquals("c0 40", signed(64));
    assertEquals("3f bf", signed(-65));
    assertEquals("f0 42 42 42", signed(0x424242));
    assertEquals("38 00", signed(-0x800));
  }

  @Test
  void encodesSignedNumbersOfEveryLength() {
    // Smallest value needing n bytes is 2^(7(n-1)-1); headers from ordered_code.cc.
    assertEquals("df ff", signed((1L << 13) - 1));
    assertEquals("e0 20 00", signed(1L << 13));
    assertEquals("f8 08 00 00 00", signed(1L << 27));
    assertEquals("fc 04 00 00 00 00", signed(1L << 34));
    assertEquals("fe 02 00 00 00 00 00", signed(1L << 41));
    assertEquals("ff 01 00 00 00 00 00 00", signed(1L << 48));
    assertEquals("ff 80 80 00 00 00 00 00 00", signed(1L << 55));
    assertEquals("ff c0 40 00 00 00 00 00 00 00", signed(1L << 62));
    assertEquals("ff c0 7f ff ff ff ff ff ff ff", signed(Long.MAX_VALUE));
    assertEquals("00 3f 80 00 00 00 00 00 00 00", signed(Long.MIN_VALUE));
  }

  @Test
  void encodesUnsignedNumbersWithLengthPrefix() {
    assertEquals("00", unsigned(0));
    assertEquals("01 02", unsigned(2));
    assertEquals("02 01 2c", unsigned(300));
    assertEquals("08 ff ff ff ff ff ff ff ff", unsigned(-1));
  }

  @Test
  void decodesSignedNumbersItEncodes() {
    Random random = new Random(17);
    List<Long> values =
        new ArrayList<>(
            List.of(
                0L,
                1L,
                -1L,
                63L,
                64L,
                -64L,
                -65L,
                0x424242L,
                -0x800L,
                Long.MAX_VALUE,
                Long.MIN_VALUE,
                Long.MAX_VALUE / 2,
                Long.MIN_VALUE / 2));
    for (int shift = 0; shift < 64; shift++) {
      values.add(1L << shift);
      values.add((1L << shift) - 1);
      values.add(-(1L << shift));
      values.add(-(1L << shift) - 1);
    }
    for (int i = 0; i < 5000; i++) {
      values.add(random.nextLong() >> random.nextInt(64));
    }
    for (long v : values) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SliceKeys.writeSignedNumIncreasing(out, v);
      assertEquals(v, readSigned(out.toByteArray()), "value " + v);
    }
  }

  @Test
  void signedEncodingPreservesOrder() {
    Random random = new Random(23);
    for (int i = 0; i < 20_000; i++) {
      long a = random.nextLong() >> random.nextInt(64);
      long b = random.nextLong() >> random.nextInt(64);
      ByteArrayOutputStream ea = new ByteArrayOutputStream();
      ByteArrayOutputStream eb = new ByteArrayOutputStream();
      SliceKeys.writeSignedNumIncreasing(ea, a);
      SliceKeys.writeSignedNumIncreasing(eb, b);
      assertEquals(
          Long.signum(Long.compare(a, b)),
          Integer.signum(Arrays.compareUnsigned(ea.toByteArray(), eb.toByteArray())),
          a + " vs " + b);
    }
  }

  @Test
  void escapesZeroBytesInNames() {
    assertEquals(
        "00 61 00 ff 62 00 01 01 01 80 7f",
        spaced(SliceKeys.encode("a\u0000b", TensorSlice.full(1))));
    // U+00FF is C3 BF in UTF-8: no escape needed.
    assertEquals(
        "00 c3 bf 00 01 01 01 80 7f", spaced(SliceKeys.encode("\u00ff", TensorSlice.full(1))));
  }

  @Test
  void decodesFfEscapeInNames() {
    // A name byte 0xFF is stored as FF 00 (§5.2 step 2).
    SliceKeys.Decoded d = SliceKeys.decode(hex("00 61 ff 00 62 00 01 01 01 82 84"));
    assertEquals(slice(2, 4), d.slice());
    assertEquals(
        3, d.name().getBytes(StandardCharsets.UTF_8).length - 2); // 'a', U+FFFD (3 bytes), 'b'
  }

  @Test
  void decodesWhatItEncodesForRandomNamesAndExtents() {
    Random random = new Random(31);
    char[] alphabet = {
      'a', 'Z', '/', '.', '_', '0', '\u0000', '\u0001', '\u007f', '\u00e9', '\u00ff', '\uffff',
      '\u4e2d'
    };
    for (int trial = 0; trial < 2000; trial++) {
      StringBuilder name = new StringBuilder();
      int len = random.nextInt(12);
      for (int i = 0; i < len; i++) {
        name.append(alphabet[random.nextInt(alphabet.length)]);
      }
      if (random.nextInt(10) == 0) {
        name.append("\uD83D\uDE00"); // a supplementary character
      }
      int rank = 1 + random.nextInt(5);
      List<TensorSlice.Extent> extents = new ArrayList<>();
      for (int d = 0; d < rank; d++) {
        switch (random.nextInt(4)) {
          case 0 -> extents.add(TensorSlice.Extent.FULL);
          case 1 ->
              extents.add(new TensorSlice.Extent(random.nextInt(100), 1 + random.nextInt(100)));
          case 2 -> extents.add(new TensorSlice.Extent(0, Long.MAX_VALUE / 2));
          default ->
              extents.add(
                  new TensorSlice.Extent(
                      (random.nextLong() >>> 2) >> random.nextInt(62),
                      1 + ((random.nextLong() >>> 2) >> random.nextInt(62))));
        }
      }
      TensorSlice s = new TensorSlice(extents);
      byte[] key = SliceKeys.encode(name.toString(), s);
      assertTrue(SliceKeys.isSliceKey(key));
      assertEquals(
          new SliceKeys.Decoded(name.toString(), s), SliceKeys.decode(key), "key " + spaced(key));
    }
  }

  @Test
  void decodesLargeExtents() {
    TensorSlice s =
        new TensorSlice(
            List.of(
                new TensorSlice.Extent(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2),
                TensorSlice.Extent.FULL,
                new TensorSlice.Extent(0, 1)));
    assertEquals(new SliceKeys.Decoded("big", s), SliceKeys.decode(SliceKeys.encode("big", s)));
  }

  @Test
  void recognisesSliceKeys() {
    assertTrue(SliceKeys.isSliceKey(hex("00 65 6d 62 00 01 01 02 80 82 80 82")));
    assertFalse(SliceKeys.isSliceKey("emb".getBytes(StandardCharsets.UTF_8)));
    assertFalse(SliceKeys.isSliceKey(new byte[0]));
  }

  @Test
  void rejectsKeysThatAreNotSliceKeys() {
    assertEquals(
        "does not start with 0",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("01 02 65")))
            .getMessage());
    assertEquals(
        "unterminated name",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 6d 62")))
            .getMessage());
    assertEquals(
        "bad escape 00 2",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 00 02")))
            .getMessage());
    assertEquals(
        "bad escape ff 1",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 ff 01")))
            .getMessage());
    assertEquals(
        "rank 0",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 00 01 00")))
            .getMessage());
    assertEquals(
        "truncated at byte 7",
        assertThrows(
                MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 00 01 01 01 80")))
            .getMessage());
    assertEquals(
        "1 trailing bytes",
        assertThrows(
                MalformedBytesException.class,
                () -> SliceKeys.decode(hex("00 65 00 01 01 01 80 7f 80")))
            .getMessage());
    assertEquals(
        "number of 9 bytes",
        assertThrows(MalformedBytesException.class, () -> SliceKeys.decode(hex("09 00")))
            .getMessage());
  }

  @Test
  void rejectsInvalidExtentsInKeys() {
    // start 0, length -2.
    MalformedBytesException e =
        assertThrows(
            MalformedBytesException.class, () -> SliceKeys.decode(hex("00 65 00 01 01 01 80 7e")));
    assertEquals("invalid extent in dimension 0: start 0, length -2", e.getMessage());
  }
}
