package io.rebundle.codec.table;

import static io.rebundle.codec.table.TableFixtures.open;
import static io.rebundle.codec.table.TableFixtures.table;
import static io.rebundle.codec.util.TestBytes.concat;
import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Varints;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TableWriterTest {
  /** §2.11: the header of a one-shard bundle. */
  private static final byte[] HEADER = hex("08 01 1A 02 08 01");

  /** §2.11: BundleEntryProto of float32 scalar x = 1.0 at offset 0. */
  private static final byte[] ENTRY_X = hex("08 01 12 00 28 04 35 81 A5 DA 2B");

  /** §2.11: the complete 117-byte index of a bundle holding x = 1.0. */
  static final byte[] WORKED_EXAMPLE =
      hex(
          "00 00 06 08 01 1A 02 08 01"
              + "00 01 0B 78 08 01 12 00 28 04 35 81 A5 DA 2B"
              + "00 00 00 00 01 00 00 00"
              + "00 38 5A DF 39"
              + "00 00 00 00 01 00 00 00 00 C0 F2 A1 B0"
              + "00 01 02 79 00 20 00 00 00 00 01 00 00 00"
              + "00 C2 4C 06 42"
              + "25 08 32 0E"
              + "00".repeat(36)
              + "57 FB 80 8B 24 75 47 DB");

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void writesWorkedExampleIndexByteForByte() {
    byte[] index =
        table(
            w -> {
              w.add(new byte[0], HEADER);
              w.add(utf8("x"), ENTRY_X);
            });
    assertEquals(117, WORKED_EXAMPLE.length);
    assertEquals(spaced(WORKED_EXAMPLE), spaced(index));
  }

  @Test
  void writesEmptyMetaindexBlockAndPointsTheFooterAtIt() {
    byte[] index =
        table(
            w -> {
              w.add(new byte[0], HEADER);
              w.add(utf8("x"), ENTRY_X);
            });
    assertEquals(
        "00 00 00 00 01 00 00 00 00 c0 f2 a1 b0", spaced(Arrays.copyOfRange(index, 37, 50)));
    Footer footer = open(index).footer();
    assertEquals(new BlockHandle(37, 8), footer.metaindex());
    assertEquals(new BlockHandle(50, 14), footer.index());
  }

  @Test
  void headerOnlyTableGetsTheEmptySuccessorAsIndexKey() {
    byte[] index = table(w -> w.add(new byte[0], HEADER));
    TableReader reader = open(index);
    List<TableReader.IndexEntry> entries = reader.indexEntries();
    assertEquals(1, entries.size());
    assertArrayEquals(new byte[0], entries.get(0).separator());
    assertEquals(new BlockHandle(0, 17), entries.get(0).handle());
    assertEquals(
        spaced(concat(hex("00 00 06"), HEADER, hex("00 00 00 00 01 00 00 00"))),
        spaced(Arrays.copyOf(index, 17)));
  }

  @Test
  void emptyTableHasNoDataBlocks() {
    byte[] index = table(w -> {});
    // metaindex (8 + 5) at 0, empty index block (8 + 5) at 13, then the footer.
    assertEquals(13 + 13 + 48, index.length);
    TableReader reader = open(index);
    assertEquals(List.of(), reader.indexEntries());
    assertEquals(new BlockHandle(0, 8), reader.footer().metaindex());
    assertEquals(new BlockHandle(13, 8), reader.footer().index());
    assertTrue(!reader.iterator().next());
  }

  @Test
  void shortSuccessorMatchesSpecExamples() {
    assertEquals(
        "n", new String(TableWriter.shortSuccessor(utf8("model/wte")), StandardCharsets.UTF_8));
    assertEquals(
        "h", new String(TableWriter.shortSuccessor(utf8("global_step")), StandardCharsets.UTF_8));
    assertEquals("y", new String(TableWriter.shortSuccessor(utf8("x")), StandardCharsets.UTF_8));
    assertArrayEquals(new byte[0], TableWriter.shortSuccessor(new byte[0]));
  }

  @Test
  void shortSuccessorSkipsLeading0xFFBytes() {
    assertEquals("ff ff 62", spaced(TableWriter.shortSuccessor(hex("ff ff 61 7a"))));
    assertEquals("ff ff", spaced(TableWriter.shortSuccessor(hex("ff ff"))));
    // Slice keys start with 00: the successor is the single byte 01.
    assertEquals("01", spaced(TableWriter.shortSuccessor(hex("00 65 6d 62 00 01"))));
  }

  @Test
  void shortestSeparatorIncrementsTheFirstDifferingByteWhenThereIsRoom() {
    assertEquals("hellp", sep("helloworld", "hellz"));
    assertEquals("b", sep("a", "c"));
    assertEquals("abd", sep("abc", "abf"));
    assertEquals("ff 02", spaced(TableWriter.shortestSeparator(hex("ff 01 99"), hex("ff 05"))));
    // Unsigned comparison: 0x7f + 1 = 0x80 < 0xc3.
    assertEquals("7f 80", spaced(TableWriter.shortestSeparator(hex("7f 7f 41"), hex("7f c3 a9"))));
  }

  @Test
  void shortestSeparatorKeepsStartWhenNoShorterKeyFits() {
    assertEquals("abc", sep("abc", "abd"));
    assertEquals("ab", sep("ab", "abc"));
    assertEquals("a", sep("a", "b"));
    assertEquals("", sep("", "a"));
    assertEquals("model/wte", sep("model/wte", "model/wte0"));
    assertEquals("ff 00", spaced(TableWriter.shortestSeparator(hex("ff 00"), hex("ff 01"))));
  }

  private static String sep(String start, String limit) {
    return new String(
        TableWriter.shortestSeparator(utf8(start), utf8(limit)), StandardCharsets.UTF_8);
  }

  @Test
  void cutsDataBlocksAt256KiBWithSeparatorsBetweenBlocks() {
    Random random = new Random(3);
    List<byte[]> keys = new ArrayList<>();
    byte[] index =
        table(
            w -> {
              for (int i = 0; i < 20_000; i++) {
                byte[] key = utf8(String.format("layer_%05d/kernel", i));
                keys.add(key);
                byte[] value = new byte[50 + random.nextInt(100)];
                random.nextBytes(value);
                w.add(key, value);
              }
            });
    TableReader reader = open(index);
    List<TableReader.IndexEntry> blocks = reader.indexEntries();
    assertTrue(blocks.size() >= 5, "expected several data blocks, got " + blocks.size());
    // Blocks are back to back from offset 0.
    assertEquals(0, blocks.get(0).handle().offset());
    for (int i = 1; i < blocks.size(); i++) {
      assertEquals(blocks.get(i - 1).handle().end(), blocks.get(i).handle().offset());
    }
    assertEquals(
        blocks.get(blocks.size() - 1).handle().end(), reader.footer().metaindex().offset());

    List<byte[]> firstKeys = new ArrayList<>();
    List<byte[]> lastKeys = new ArrayList<>();
    for (TableReader.IndexEntry e : blocks) {
      Block.Iterator it = reader.readBlock(e.handle(), "data").iterator();
      byte[] last = null;
      while (it.next()) {
        if (last == null) {
          firstKeys.add(it.key());
        }
        last = it.key();
      }
      lastKeys.add(last);
    }
    for (int i = 0; i < blocks.size(); i++) {
      long size = blocks.get(i).handle().size();
      byte[] sep = blocks.get(i).separator();
      if (i < blocks.size() - 1) {
        // A block is flushed as soon as its size estimate reaches 256 KiB (§2.5 step 4).
        assertTrue(
            size >= TableWriter.BLOCK_SIZE && size < TableWriter.BLOCK_SIZE + 200,
            "block " + i + " has " + size + " bytes");
        assertArrayEquals(
            TableWriter.shortestSeparator(lastKeys.get(i), firstKeys.get(i + 1)), sep);
        assertTrue(Bytes.UNSIGNED.compare(sep, firstKeys.get(i + 1)) < 0);
      } else {
        assertTrue(size < TableWriter.BLOCK_SIZE);
        assertArrayEquals(TableWriter.shortSuccessor(lastKeys.get(i)), sep);
      }
      assertTrue(Bytes.UNSIGNED.compare(lastKeys.get(i), sep) <= 0);
    }
    assertArrayEquals(keys.get(0), firstKeys.get(0));
    assertArrayEquals(keys.get(keys.size() - 1), lastKeys.get(lastKeys.size() - 1));
  }

  @Test
  void writesIndexBlockWithEveryEntryARestart() {
    byte[] index =
        table(
            w -> {
              for (int i = 0; i < 10_000; i++) {
                w.add(utf8(String.format("k%06d", i)), new byte[100]);
              }
            });
    TableReader reader = open(index);
    int n = reader.indexEntries().size();
    assertTrue(n > 2);
    BlockHandle h = reader.footer().index();
    byte[] contents = Arrays.copyOfRange(index, (int) h.offset(), (int) (h.offset() + h.size()));
    assertEquals(n, Varints.getFixed32(contents, contents.length - 4));
    int restarts = contents.length - 4 * (n + 1);
    int pos = 0;
    for (int i = 0; i < n; i++) {
      assertEquals(pos, Varints.getFixed32(contents, restarts + 4 * i));
      Varints.Cursor c = new Varints.Cursor(contents, pos, restarts);
      assertEquals(0, c.varint32(), "shared length of index entry " + i);
      int nonShared = c.varint32();
      int valueLen = c.varint32();
      pos = c.position() + nonShared + valueLen;
    }
    assertEquals(restarts, pos);
  }

  @Test
  void flushesTheCurrentBlockBeforeAHugeEntry() {
    byte[] huge = new byte[2 * TableWriter.BLOCK_SIZE];
    byte[] index =
        table(
            w -> {
              w.add(utf8("a"), hex("01"));
              w.add(utf8("b"), huge);
              w.add(utf8("c"), hex("02"));
            });
    TableReader reader = open(index);
    List<TableReader.IndexEntry> blocks = reader.indexEntries();
    // "a" alone (§2.5 step 1), then "b" alone (its block is over 256 KiB), then "c".
    assertEquals(3, blocks.size());
    assertEquals(new BlockHandle(0, 13), blocks.get(0).handle());
    assertEquals("a", new String(blocks.get(0).separator(), StandardCharsets.UTF_8));
    assertEquals("b", new String(blocks.get(1).separator(), StandardCharsets.UTF_8));
    assertEquals("d", new String(blocks.get(2).separator(), StandardCharsets.UTF_8));
    assertArrayEquals(huge, reader.get(utf8("b")));
  }

  @Test
  void rejectsKeysThatDoNotStrictlyIncrease() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                table(
                    w -> {
                      w.add(utf8("b"), hex("01"));
                      w.add(utf8("a"), hex("02"));
                    }));
    assertEquals(
        "Invalid key order in mem://test.index: keys must strictly increase, "
            + "got a key after an equal or greater one",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            table(
                w -> {
                  w.add(utf8("a"), hex("01"));
                  w.add(utf8("a"), hex("02"));
                }));
    // Unsigned order: 0x80 comes after 0x7f.
    assertThrows(
        IllegalArgumentException.class,
        () ->
            table(
                w -> {
                  w.add(hex("80"), hex("01"));
                  w.add(hex("7f"), hex("02"));
                }));
  }

  @Test
  void rejectsAddAfterFinish() {
    TableWriter writer =
        new TableWriter(
            new io.rebundle.codec.io.LocalFileIO.CountingStream(
                new java.io.ByteArrayOutputStream()),
            "mem://done.index");
    writer.add(utf8("a"), hex("01"));
    writer.finish();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> writer.add(utf8("b"), hex("01")));
    assertEquals("Cannot add to finished table mem://done.index", e.getMessage());
    assertEquals(1, writer.numEntries());
  }
}
