package io.rebundle.codec.table;

import static io.rebundle.codec.table.TableFixtures.open;
import static io.rebundle.codec.table.TableFixtures.storedBlock;
import static io.rebundle.codec.table.TableFixtures.table;
import static io.rebundle.codec.util.TestBytes.concat;
import static io.rebundle.codec.util.TestBytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TableReaderTest {
  private static final int N = 50_000;
  private static final List<byte[]> KEYS = new ArrayList<>();
  private static final List<byte[]> VALUES = new ArrayList<>();
  private static byte[] bigTable;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @BeforeAll
  static void writeFiftyThousandEntries() {
    Random random = new Random(2024);
    for (int i = 0; i < N; i++) {
      // Gaps of 2 leave room for absent keys between any two stored ones.
      KEYS.add(utf8(String.format("model/layer_%07d/w", 2 * i)));
      byte[] v = new byte[90 + random.nextInt(21)];
      random.nextBytes(v);
      VALUES.add(v);
    }
    bigTable =
        table(
            w -> {
              for (int i = 0; i < N; i++) {
                w.add(KEYS.get(i), VALUES.get(i));
              }
            });
  }

  @Test
  void iteratesAllEntriesInKeyOrderAcrossBlocks() {
    TableReader reader = open(bigTable);
    assertTrue(reader.indexEntries().size() >= 20, "blocks: " + reader.indexEntries().size());
    TableReader.EntryIterator it = reader.iterator();
    int blockChanges = 0;
    long lastBlock = -1;
    for (int i = 0; i < N; i++) {
      assertTrue(it.next());
      assertArrayEquals(KEYS.get(i), it.key());
      assertArrayEquals(VALUES.get(i), it.value());
      if (it.blockOffset() != lastBlock) {
        blockChanges++;
        lastBlock = it.blockOffset();
      }
    }
    assertFalse(it.next());
    assertEquals(reader.indexEntries().size(), blockChanges);
  }

  @Test
  void getsPresentKeysIncludingFirstAndLastOfEveryBlock() {
    TableReader reader = open(bigTable);
    List<Integer> probes = new ArrayList<>(blockBoundaries(reader));
    Random random = new Random(5);
    for (int i = 0; i < 200; i++) {
      probes.add(random.nextInt(N));
    }
    probes.add(0);
    probes.add(N - 1);
    for (int i : probes) {
      assertArrayEquals(VALUES.get(i), reader.get(KEYS.get(i)), "key " + str(KEYS.get(i)));
    }
  }

  @Test
  void returnsNullForAbsentKeysBetweenInsideBeforeAndAfterBlocks() {
    TableReader reader = open(bigTable);
    for (int i : blockBoundaries(reader)) {
      // Just after key i and just before key i: the gaps straddling a block boundary.
      assertNull(reader.get(concat(KEYS.get(i), hex("00"))));
      assertNull(reader.get(utf8(String.format("model/layer_%07d/w", 2 * i - 1))));
    }
    for (TableReader.IndexEntry e : reader.indexEntries()) {
      // Separators are usually not keys themselves.
      byte[] v = reader.get(e.separator());
      int at = indexOf(e.separator());
      if (at < 0) {
        assertNull(v, "separator " + str(e.separator()));
      } else {
        assertArrayEquals(VALUES.get(at), v);
      }
    }
    assertNull(reader.get(new byte[0]));
    assertNull(reader.get(utf8("a")));
    assertNull(reader.get(utf8("model/layer_0000001/w")));
    assertNull(reader.get(utf8("model/layer_")));
    assertNull(reader.get(utf8("model/layer_9999999/w")));
    assertNull(reader.get(utf8("zzz")));
    assertNull(reader.get(hex("ff ff ff")));
  }

  private static int indexOf(byte[] key) {
    for (int i = 0; i < N; i++) {
      if (Arrays.equals(KEYS.get(i), key)) {
        return i;
      }
    }
    return -1;
  }

  /** Indexes of the first entry of every data block after the first. */
  private static List<Integer> blockBoundaries(TableReader reader) {
    List<Integer> firsts = new ArrayList<>();
    TableReader.EntryIterator it = reader.iterator();
    long block = -1;
    for (int i = 0; it.next(); i++) {
      if (it.blockOffset() != block) {
        if (block >= 0) {
          firsts.add(i);
        }
        block = it.blockOffset();
      }
    }
    assertTrue(firsts.size() >= 19);
    return firsts;
  }

  @Test
  void rejectsDataBlockWithFlippedByte() {
    TableReader clean = open(bigTable);
    BlockHandle second = clean.indexEntries().get(1).handle();
    byte[] corrupt = bigTable.clone();
    corrupt[(int) second.offset() + 1000] ^= 0x01;
    TableReader reader = open(corrupt);
    // The first block still reads; the damage shows when the second one is read.
    assertArrayEquals(VALUES.get(0), reader.get(KEYS.get(0)));
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> {
              TableReader.EntryIterator it = reader.iterator();
              while (it.next()) {
                it.key();
              }
            });
    assertTrue(
        e.getMessage()
            .startsWith(
                "Checksum mismatch for data block in mem://test.index (offset "
                    + second.offset()
                    + ", "),
        e.getMessage());
    assertEquals(second.offset(), e.offset());
  }

  @Test
  void rejectsFlippedTrailerChecksum() {
    byte[] index = table(w -> w.add(utf8("x"), hex("01 02 03")));
    index[index.length - 48 - 1] ^= 0x40;
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> open(index));
    assertTrue(
        e.getMessage().startsWith("Checksum mismatch for index block in mem://test.index (offset "),
        e.getMessage());
  }

  @Test
  void rejectsFooterWithBadMagic() {
    byte[] index = table(w -> w.add(utf8("x"), hex("01")));
    index[index.length - 1] = 0x00;
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> open(index));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read table mem://test.index at offset "
                    + (index.length - 8)
                    + ": not an sstable (bad magic number): "),
        e.getMessage());
  }

  @Test
  void rejectsFileShorterThanTheFooter() {
    byte[] index = table(w -> {});
    byte[] tiny = Arrays.copyOfRange(index, index.length - 47, index.length);
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, () -> open(tiny));
    assertEquals(
        "Cannot read table mem://test.index: unexpected end of file: 47 bytes, need at least 48",
        e.getMessage());
    assertThrows(CorruptCheckpointException.class, () -> open(new byte[0]));
  }

  @Test
  void rejectsTruncatedFile() {
    byte[] index = table(w -> w.add(utf8("x"), hex("01")));
    byte[] truncated = Arrays.copyOf(index, index.length - 10);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> open(truncated));
    assertTrue(e.getMessage().contains("bad magic number"), e.getMessage());
  }

  @Test
  void rejectsBadBlockType() {
    // One data block with type byte 2 and a checksum that matches it.
    BlockBuilder data = new BlockBuilder(16);
    data.add(utf8("x"), hex("01"));
    byte[] dataBlock = storedBlock(data.finish(), (byte) 2);
    byte[] file = assemble(dataBlock, new BlockHandle(0, dataBlock.length - 5), utf8("y"));
    TableReader reader = open(file);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> reader.get(utf8("x")));
    assertEquals(
        "Cannot read data block in mem://test.index at offset 0: bad block type 2", e.getMessage());
  }

  @Test
  void rejectsIndexHandlePastTheFooter() {
    byte[] meta = storedBlock(new BlockBuilder(16).finish(), Block.NO_COMPRESSION);
    byte[] file = concat(meta, new Footer(new BlockHandle(0, 8), new BlockHandle(5, 100)).encode());
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, () -> open(file));
    assertEquals(
        "Cannot read index block in mem://test.index at offset 5: its 100 bytes and trailer run past "
            + "the footer at 13",
        e.getMessage());
  }

  @Test
  void rejectsDataHandlePastTheFooter() {
    byte[] file = assemble(new byte[0], new BlockHandle(1000, 10), utf8("y"));
    TableReader reader = open(file);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> reader.get(utf8("x")));
    assertTrue(
        e.getMessage()
            .contains(
                "data block in mem://test.index at offset 1000: its 10 bytes and trailer run past the footer"),
        e.getMessage());
  }

  @Test
  void rejectsBadHandleInIndexEntry() {
    BlockBuilder index = new BlockBuilder(1);
    index.add(utf8("y"), hex("ff ff"));
    byte[] meta = storedBlock(new BlockBuilder(16).finish(), Block.NO_COMPRESSION);
    byte[] indexBlock = storedBlock(index.finish(), Block.NO_COMPRESSION);
    byte[] file =
        concat(
            meta,
            indexBlock,
            new Footer(new BlockHandle(0, 8), new BlockHandle(13, indexBlock.length - 5)).encode());
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> open(file).indexEntries());
    assertEquals(
        "Cannot read index block in mem://test.index at offset 13: bad block handle in the entry at "
            + "byte 0: varint runs past the end at byte 2",
        e.getMessage());
  }

  @Test
  void rejectsKeysOutOfOrderWhileIterating() {
    BlockBuilder data = new BlockBuilder(16);
    data.add(utf8("b"), hex("01"));
    data.add(utf8("a"), hex("02"));
    byte[] dataBlock = storedBlock(data.finish(), Block.NO_COMPRESSION);
    byte[] file = assemble(dataBlock, new BlockHandle(0, dataBlock.length - 5), utf8("c"));
    TableReader.EntryIterator it = open(file).iterator();
    assertTrue(it.next());
    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, it::next);
    assertEquals(
        "Cannot read index mem://test.index: out-of-order key a in data block at offset 0 (keys must "
            + "strictly increase)",
        e.getMessage());
    assertEquals("a", e.key());
  }

  /** data block bytes, empty metaindex, a one-entry index, footer. */
  static byte[] assemble(byte[] storedData, BlockHandle dataHandle, byte[] separator) {
    byte[] meta = storedBlock(new BlockBuilder(16).finish(), Block.NO_COMPRESSION);
    BlockBuilder index = new BlockBuilder(1);
    index.add(separator, dataHandle.encode());
    byte[] indexBlock = storedBlock(index.finish(), Block.NO_COMPRESSION);
    BlockHandle metaHandle = new BlockHandle(storedData.length, meta.length - 5);
    BlockHandle indexHandle =
        new BlockHandle(storedData.length + meta.length, indexBlock.length - 5);
    return concat(storedData, meta, indexBlock, new Footer(metaHandle, indexHandle).encode());
  }
}
