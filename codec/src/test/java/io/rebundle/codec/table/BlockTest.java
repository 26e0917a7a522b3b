package io.rebundle.codec.table;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.util.Varints;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static byte[] fortyEntries(int interval) {
    BlockBuilder b = new BlockBuilder(interval);
    for (int i = 0; i < 40; i++) {
      b.add(utf8(String.format("key-%03d", i)), utf8("v" + i));
    }
    return b.finish();
  }

  @Test
  void emptyBlockIsOneRestartAtZero() {
    BlockBuilder b = new BlockBuilder(16);
    assertTrue(b.isEmpty());
    assertEquals(8, b.currentSizeEstimate());
    assertEquals("00 00 00 00 01 00 00 00", spaced(b.finish()));
  }

  @Test
  void restartsEvery16thEntryWithSharedLengthZero() {
    byte[] block = fortyEntries(16);
    int numRestarts = Varints.getFixed32(block, block.length - 4);
    assertEquals(3, numRestarts);
    int restartsOffset = block.length - 4 * (numRestarts + 1);
    List<Integer> restarts = new ArrayList<>();
    for (int i = 0; i < numRestarts; i++) {
      restarts.add(Varints.getFixed32(block, restartsOffset + 4 * i));
    }
    int pos = 0;
    for (int i = 0; i < 40; i++) {
      Varints.Cursor c = new Varints.Cursor(block, pos, restartsOffset);
      int shared = c.varint32();
      int nonShared = c.varint32();
      int valueLen = c.varint32();
      if (i == 0 || i == 16 || i == 32) {
        // Entries 1, 17 and 33 (1-based) are restart points.
        assertEquals(0, shared, "entry " + (i + 1));
        assertEquals(7, nonShared);
        assertEquals(restarts.get(i / 16), pos);
      } else {
        // "key-0ab" shares "key-0" or "key-0a" with its predecessor.
        assertEquals(i % 10 == 0 ? 5 : 6, shared, "entry " + (i + 1));
        assertEquals(7 - shared, nonShared);
      }
      assertEquals(utf8("v" + i).length, valueLen);
      pos = c.position() + nonShared + valueLen;
    }
    assertEquals(restartsOffset, pos);
    assertEquals(0, restarts.get(0));
  }

  @Test
  void encodesEntriesWithSharedPrefixes() {
    BlockBuilder b = new BlockBuilder(16);
    b.add(utf8("abc"), hex("01"));
    b.add(utf8("abd"), hex("02 03"));
    assertEquals(
        "00 03 01 61 62 63 01" + " 02 01 02 64 02 03" + " 00 00 00 00 01 00 00 00",
        spaced(b.finish()));
  }

  @Test
  void resetStartsAFreshBlock() {
    BlockBuilder b = new BlockBuilder(16);
    b.add(utf8("zzz"), hex("01"));
    b.finish();
    assertThrows(IllegalStateException.class, () -> b.add(utf8("zzzz"), hex("01")));
    b.reset();
    b.add(utf8("a"), hex("02"));
    assertEquals("00 01 01 61 02 00 00 00 00 01 00 00 00", spaced(b.finish()));
  }

  @Test
  void rejectsRestartIntervalBelowOne() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new BlockBuilder(0));
    assertEquals("Invalid restart interval: 0", e.getMessage());
  }

  @Test
  void iteratesEntriesInOrder() {
    Block block = new Block(fortyEntries(16), "f", 0);
    assertEquals(3, block.numRestarts());
    Block.Iterator it = block.iterator();
    for (int i = 0; i < 40; i++) {
      assertTrue(it.next());
      assertEquals(String.format("key-%03d", i), str(it.key()));
      assertEquals("v" + i, str(it.value()));
    }
    assertFalse(it.next());
  }

  @Test
  void seeksToFirstKeyAtOrAfterTarget() {
    for (int interval : new int[] {1, 3, 16, 100}) {
      Block block = new Block(fortyEntries(interval), "f", 0);
      for (int i = 0; i < 40; i++) {
        Block.Iterator it = block.iterator();
        it.seek(utf8(String.format("key-%03d", i)));
        assertTrue(it.next());
        assertEquals(String.format("key-%03d", i), str(it.key()), "interval " + interval);
        // Between key i and key i+1.
        it = block.iterator();
        it.seek(utf8(String.format("key-%03d!", i)));
        if (i < 39) {
          assertTrue(it.next());
          assertEquals(String.format("key-%03d", i + 1), str(it.key()));
        } else {
          assertFalse(it.next());
        }
      }
      Block.Iterator before = block.iterator();
      before.seek(utf8("a"));
      assertTrue(before.next());
      assertEquals("key-000", str(before.key()));
      Block.Iterator after = block.iterator();
      after.seek(utf8("zzz"));
      assertFalse(after.next());
    }
  }

  @Test
  void rejectsBlockShorterThanFourBytes() {
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> new Block(hex("00 00 00"), "t.index", 77));
    assertEquals(
        "Cannot read data block in t.index at offset 77: bad block contents: 3 bytes, fewer than 4",
        e.getMessage());
  }

  @Test
  void rejectsRestartCountThatDoesNotFit() {
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> new Block(hex("00 00 00 00 02 00 00 00"), "t.index", 5));
    assertEquals(
        "Cannot read data block in t.index at offset 5: bad block contents: 2 restart points do not "
            + "fit in 8 bytes",
        e.getMessage());
  }

  @Test
  void acceptsZeroRestartsAsEmptyBlock() {
    Block block = new Block(hex("00 00 00 00"), "t.index", 0);
    Block.Iterator it = block.iterator();
    assertFalse(it.next());
    it.seek(utf8("a"));
    assertFalse(it.next());
  }

  @Test
  void rejectsEntrySharingMoreThanThePreviousKey() {
    Block block = new Block(hex("03 01 00 61 00 00 00 00 01 00 00 00"), "t.index", 9);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> block.iterator().next());
    assertEquals(
        "Cannot read data block in t.index at offset 9: bad entry at byte 0: shares 3 bytes with a "
            + "previous key of 0",
        e.getMessage());
  }

  @Test
  void rejectsEntryOverrunningTheEntryArea() {
    Block block = new Block(hex("00 01 09 61 62 00 00 00 00 01 00 00 00"), "t.index", 0);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> block.iterator().next());
    assertEquals(
        "Cannot read data block in t.index at offset 0: bad entry at byte 0: lengths 1+9 overrun the "
            + "entry area",
        e.getMessage());
  }

  @Test
  void rejectsTruncatedEntryHeader() {
    Block block = new Block(hex("00 81 00 00 00 00 01 00 00 00"), "t.index", 0);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> block.iterator().next());
    assertTrue(
        e.getMessage()
            .startsWith("Cannot read data block in t.index at offset 0: bad entry at byte 0: "),
        e.getMessage());
  }

  @Test
  void valueIsACopy() {
    Block block = new Block(fortyEntries(16), "f", 0);
    Block.Iterator it = block.iterator();
    it.next();
    it.value()[0] = 'X';
    assertArrayEquals(utf8("v0"), it.value());
  }
}
