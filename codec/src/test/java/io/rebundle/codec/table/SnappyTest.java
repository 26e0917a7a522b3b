package io.rebundle.codec.table;

import static io.rebundle.codec.table.TableFixtures.open;
import static io.rebundle.codec.table.TableFixtures.storedBlock;
import static io.rebundle.codec.util.TestBytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnappyTest {

  private static byte[] compress(byte[] raw) throws IOException {
    return org.xerial.snappy.Snappy.compress(raw);
  }

  private static byte[] uncompress(byte[] compressed) {
    return Snappy.uncompress(compressed, 0, compressed.length);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void uncompressesRandomData() throws IOException {
    Random random = new Random(1);
    for (int size : new int[] {0, 1, 59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 300_000}) {
      byte[] raw = new byte[size];
      random.nextBytes(raw);
      assertArrayEquals(raw, uncompress(compress(raw)), "size " + size);
    }
  }

  @Test
  void uncompressesRepetitiveData() throws IOException {
    byte[] zeros = new byte[1 << 20];
    byte[] compressed = compress(zeros);
    assertTrue(compressed.length < zeros.length / 20, "compressed to " + compressed.length);
    assertArrayEquals(zeros, uncompress(compressed));

    StringBuilder text = new StringBuilder();
    Random random = new Random(2);
    for (int i = 0; i < 20_000; i++) {
      text.append("layer_")
          .append(random.nextInt(50))
          .append("/kernel/.ATTRIBUTES/VARIABLE_VALUE;");
    }
    byte[] raw = utf8(text.toString());
    assertArrayEquals(raw, uncompress(compress(raw)));

    // Short-period runs exercise overlapping copies (offset smaller than length).
    byte[] pattern = new byte[100_000];
    for (int i = 0; i < pattern.length; i++) {
      pattern[i] = (byte) (i % 3);
    }
    assertArrayEquals(pattern, uncompress(compress(pattern)));
  }

  @Test
  void uncompressesFromAnOffset() throws IOException {
    byte[] raw = utf8("hello hello hello hello snappy");
    byte[] compressed = compress(raw);
    byte[] padded = new byte[compressed.length + 7];
    System.arraycopy(compressed, 0, padded, 3, compressed.length);
    assertArrayEquals(raw, Snappy.uncompress(padded, 3, compressed.length));
  }

  @Test
  void rejectsCopyBeforeTheStartOfOutput() {
    // Length 5, then a 1-byte-offset copy of 4 bytes from offset 0.
    io.rebundle.codec.MalformedBytesException e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class, () -> uncompress(hex("05 01 00")));
    assertEquals("copy of 4 bytes from offset 0 is out of range at output byte 0", e.getMessage());
    // Literal "a", then a copy from 2 bytes back.
    e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class,
            () -> uncompress(hex("05 00 61 01 02")));
    assertEquals("copy of 4 bytes from offset 2 is out of range at output byte 1", e.getMessage());
  }

  @Test
  void rejectsOutputShorterThanPromised() {
    io.rebundle.codec.MalformedBytesException e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class,
            () -> uncompress(hex("0a 08 61 62 63")));
    assertEquals("produced 3 bytes, header promised 10", e.getMessage());
  }

  @Test
  void rejectsOutputLongerThanPromised() {
    io.rebundle.codec.MalformedBytesException e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class,
            () -> uncompress(hex("02 08 61 62 63")));
    assertEquals("literal of 3 bytes overruns a buffer", e.getMessage());
  }

  @Test
  void rejectsLiteralRunningPastTheInput() {
    io.rebundle.codec.MalformedBytesException e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class, () -> uncompress(hex("0a 24 61 62")));
    assertEquals("literal of 10 bytes overruns a buffer", e.getMessage());
    e =
        assertThrows(
            io.rebundle.codec.MalformedBytesException.class, () -> uncompress(hex("0a f4 01")));
    assertEquals("literal length runs past the input", e.getMessage());
  }

  @Test
  void rejectsTruncatedCopyTagsAndImplausibleLengths() {
    assertEquals(
        "copy tag runs past the input",
        assertThrows(
                io.rebundle.codec.MalformedBytesException.class,
                () -> uncompress(hex("0a 00 61 02 01")))
            .getMessage());
    assertEquals(
        "copy tag runs past the input",
        assertThrows(
                io.rebundle.codec.MalformedBytesException.class,
                () -> uncompress(hex("0a 00 61 03 01 00")))
            .getMessage());
    assertEquals(
        "copy tag runs past the input",
        assertThrows(
                io.rebundle.codec.MalformedBytesException.class,
                () -> uncompress(hex("0a 00 61 01")))
            .getMessage());
    assertEquals(
        "implausible uncompressed length 268435455",
        assertThrows(
                io.rebundle.codec.MalformedBytesException.class,
                () -> uncompress(hex("ff ff ff 7f 00 61")))
            .getMessage());
    assertThrows(io.rebundle.codec.MalformedBytesException.class, () -> uncompress(hex("ff ff")));
  }

  @Test
  void corruptInputFailsWithMalformedBytesExceptionOnly() throws IOException {
    Random random = new Random(9);
    byte[] raw = new byte[4000];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt() : "abcdefgh".charAt(i % 8));
    }
    byte[] compressed = compress(raw);
    int failures = 0;
    for (int trial = 0; trial < 5000; trial++) {
      byte[] bad = compressed.clone();
      int flips = 1 + random.nextInt(3);
      for (int f = 0; f < flips; f++) {
        bad[random.nextInt(bad.length)] = (byte) random.nextInt();
      }
      if (trial % 5 == 0) {
        bad = Arrays.copyOf(bad, random.nextInt(bad.length));
      }
      try {
        uncompress(bad);
      } catch (io.rebundle.codec.MalformedBytesException expected) {
        failures++;
      }
    }
    assertTrue(failures > 1000, "only " + failures + " corrupt inputs were detected");
    for (int trial = 0; trial < 5000; trial++) {
      byte[] garbage = new byte[random.nextInt(64)];
      random.nextBytes(garbage);
      try {
        uncompress(garbage);
      } catch (io.rebundle.codec.MalformedBytesException expected) {
        // The only failure mode allowed.
      }
    }
  }

  /** A table whose single data block is Snappy-compressed, as old TensorFlow wrote them. */
  private static byte[] snappyTable(byte[] compressed) {
    byte[] stored = storedBlock(compressed, Block.SNAPPY_COMPRESSION);
    return TableReaderTest.assemble(stored, new BlockHandle(0, compressed.length), utf8("w"));
  }

  private static byte[] dataBlockContents() {
    BlockBuilder data = new BlockBuilder(16);
    data.add(new byte[0], hex("08 01 1A 02 08 01"));
    for (int i = 0; i < 100; i++) {
      data.add(utf8(String.format("v/%03d", i)), utf8("value value value value " + i));
    }
    return data.finish();
  }

  @Test
  void readsTableWithSnappyCompressedDataBlock() throws IOException {
    byte[] contents = dataBlockContents();
    byte[] compressed = compress(contents);
    assertTrue(
        compressed.length < contents.length * 7 / 8, "not compressible enough for a real test");
    TableReader reader = open(snappyTable(compressed));
    TableReader.EntryIterator it = reader.iterator();
    assertTrue(it.next());
    assertArrayEquals(new byte[0], it.key());
    assertArrayEquals(hex("08 01 1A 02 08 01"), it.value());
    for (int i = 0; i < 100; i++) {
      assertTrue(it.next());
      assertEquals(String.format("v/%03d", i), new String(it.key(), StandardCharsets.UTF_8));
      assertEquals("value value value value " + i, new String(it.value(), StandardCharsets.UTF_8));
    }
    assertFalse(it.next());
    assertArrayEquals(utf8("value value value value 57"), reader.get(utf8("v/057")));
    assertNull(reader.get(utf8("v/0570")));
  }

  @Test
  void rejectsCorruptSnappyBlockWithValidChecksum() throws IOException {
    byte[] compressed = compress(dataBlockContents());
    compressed[0] ^= 0x10; // the uncompressed length no longer matches
    TableReader reader = open(snappyTable(compressed));
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> reader.get(utf8("v/001")));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read data block in mem://test.index at offset 0: corrupted "
                    + "compressed contents: "),
        e.getMessage());
  }
}
