package io.rebundle.codec.bundle;

import static io.rebundle.codec.bundle.BundleFixtures.flipByte;
import static io.rebundle.codec.bundle.BundleFixtures.iota;
import static io.rebundle.codec.util.TestBytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.table.TableWriter;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointReaderTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String prefix() {
    return dir.resolve("ckpt-1").toString();
  }

  private String dataFile(int shard, int numShards) {
    return Naming.dataFile(prefix(), shard, numShards);
  }

  /** a = iota(6) at offset 0 (24 bytes), b = iota(2, 3) at offset 24 (24 bytes). */
  private void writeTwoTensors() {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      w.add("a", iota(6));
      w.add("b", iota(2, 3));
      w.finish();
    }
  }

  /** An index written by hand with {@link IndexWriter}, and a data file with {@code data}. */
  private void writeByHand(BundleHeader header, byte[] data, IndexRecord... records)
      throws IOException {
    Files.write(Path.of(dataFile(0, header.numShards())), data);
    IndexWriter.write(io.newOutputFile(Naming.indexFile(prefix())), header, List.of(records));
  }

  private static IndexRecord record(String key, BundleEntry e) {
    return new IndexRecord(key.getBytes(StandardCharsets.UTF_8), e);
  }

  @Test
  void rejectsTensorWithFlippedDataByte() {
    writeTwoTensors();
    flipByte(Path.of(dataFile(0, 1)), 30);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(iota(6), r.read("a"));
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("b"));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Checksum mismatch for tensor b in "
                      + dataFile(0, 1)
                      + " (shard 0, offset 24, 24 bytes): stored "),
          e.getMessage());
      // verifyData streams the same check.
      CorruptCheckpointException v =
          assertThrows(
              CorruptCheckpointException.class, () -> r.verifyData("b", r.entry("b"), new byte[7]));
      assertEquals(e.getMessage(), v.getMessage());
    }
  }

  @Test
  void rejectsStringTensorWithFlippedByte() {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      w.add(
          "s",
          Tensor.ofStrings(TensorShape.SCALAR, List.of("abc".getBytes(StandardCharsets.UTF_8))));
      w.finish();
    }
    flipByte(Path.of(dataFile(0, 1)), 6);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("s"));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Checksum mismatch for tensor s in "
                      + dataFile(0, 1)
                      + " (shard 0, offset 0, 8 bytes): stored "
                      + String.format("%08x", Crc32c.unmask(0x199AD1C3))
                      + ", computed "),
          e.getMessage());
    }
  }

  @Test
  void reportsMissingDataShard() throws IOException {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 3, false)) {
      w.add(0, "a", iota(2));
      w.add(1, "b", iota(3));
      w.finish();
    }
    Files.delete(Path.of(dataFile(1, 3)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(iota(2), r.read("a"));
      // A missing data file of an existing checkpoint is corruption (exit 3), not "not found".
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("b"));
      assertEquals(
          "Cannot read tensor b: data file " + dataFile(1, 3) + " (shard 1 of 3) is missing",
          e.getMessage());
      assertEquals(dataFile(1, 3), e.location());
      assertEquals("b", e.key());
    }
  }

  @Test
  void rejectsTruncatedDataFile() throws IOException {
    writeTwoTensors();
    try (RandomAccessFile f = new RandomAccessFile(dataFile(0, 1), "rw")) {
      f.setLength(40);
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(iota(6), r.read("a"));
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("b"));
      assertEquals(
          "Cannot read tensor b in "
              + dataFile(0, 1)
              + ": bytes [24, 48) lie past the end of the file "
              + "(40 bytes)",
          e.getMessage());
      assertEquals(24L, e.offset());
    }
  }

  @Test
  void rejectsEntrySizeThatDoesNotMatchDtypeAndShape() throws IOException {
    byte[] data = hex("00 00 80 3F");
    writeByHand(
        BundleHeader.of(1),
        data,
        record(
            "x",
            BundleEntry.of(DType.FLOAT, TensorShape.of(2), 0, 0, 4, Crc32c.mask(Crc32c.of(data)))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("x"));
      assertEquals(
          "Invalid size in bundle entry: key x in "
              + prefix()
              + ".index; stored size 4; expected size 8",
          e.getMessage());
    }
  }

  @Test
  void rejectsStringEntrySmallerThanItsElementCount() throws IOException {
    writeByHand(
        BundleHeader.of(1),
        new byte[4],
        record("s", BundleEntry.of(DType.STRING, TensorShape.of(5), 0, 0, 4, 0)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("s"));
      assertEquals(
          "Invalid size in bundle entry: key s in "
              + prefix()
              + ".index; stored size 4; expected size is at least 5",
          e.getMessage());
    }
  }

  @Test
  void rejectsStringTensorWithBadLengthChecksum() throws IOException {
    // "abc" with a wrong length checksum, under an entry CRC that matches the bytes.
    byte[] data = hex("03 00 00 00 00 61 62 63");
    // The entry CRC covers the length as fixed32, the stored length checksum, then the bytes
    // (§4.4).
    int crc = Crc32c.mask(Crc32c.of(hex("03 00 00 00 00 00 00 00 61 62 63")));
    writeByHand(
        BundleHeader.of(1),
        data,
        record("s", BundleEntry.of(DType.STRING, TensorShape.SCALAR, 0, 0, 8, crc)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("s"));
      assertEquals(
          String.format(
              "Cannot read string tensor s in %s at offset 0: checksum mismatch for the "
                  + "string lengths: stored %08x, computed %08x",
              dataFile(0, 1), Crc32c.unmask(0), Crc32c.of(hex("03 00 00 00"))),
          e.getMessage());
    }
  }

  @Test
  void rejectsStringLengthsThatOverrunTheEntry() throws IOException {
    byte[] data = hex("09 63 3F 7F 28 61 62 63");
    int crc = Crc32c.mask(Crc32c.of(hex("09 00 00 00 63 3F 7F 28 61 62 63")));
    writeByHand(
        BundleHeader.of(1),
        data,
        record("s", BundleEntry.of(DType.STRING, TensorShape.SCALAR, 0, 0, 8, crc)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("s"));
      assertEquals(
          "Cannot read string tensor s in "
              + dataFile(0, 1)
              + " at offset 0: a string length of 9 bytes exceeds the entry size 8",
          e.getMessage());
    }
  }

  @Test
  void listsUnknownDtypeButRefusesToReadIt() throws IOException {
    byte[] data = hex("01 02 03 04");
    writeByHand(
        BundleHeader.of(1),
        data,
        record(
            "odd",
            new BundleEntry(
                99, TensorShape.of(4), 0, 0, 4, Crc32c.mask(Crc32c.of(data)), List.of())),
        record(
            "x",
            BundleEntry.of(DType.UINT8, TensorShape.of(4), 0, 0, 4, Crc32c.mask(Crc32c.of(data)))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      List<String> listed = new ArrayList<>();
      for (IndexRecord rec : r.records()) {
        listed.add(rec.name() + " " + rec.entry().dtypeName() + " " + rec.entry().shape());
      }
      assertEquals(List.of("odd dtype<99> [4]", "x uint8 [4]"), listed);
      UnsupportedCheckpointException e =
          assertThrows(UnsupportedCheckpointException.class, () -> r.read("odd"));
      assertTrue(e.getMessage().contains("99"), e.getMessage());
      assertEquals(Tensor.of(DType.UINT8, TensorShape.of(4), data), r.read("x"));
    }
  }

  @Test
  void refusesToDecodeVariantTensors() throws IOException {
    byte[] data = hex("00 D8 EA 82 A2");
    writeByHand(
        BundleHeader.of(1),
        data,
        record(
            "it",
            BundleEntry.of(
                DType.VARIANT, TensorShape.SCALAR, 0, 0, 5, Crc32c.mask(Crc32c.of(data)))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      UnsupportedCheckpointException e =
          assertThrows(UnsupportedCheckpointException.class, () -> r.read("it"));
      assertEquals(
          "Cannot decode tensor it: DT_VARIANT values need TensorFlow's variant decoders; they can be "
              + "copied, not read",
          e.getMessage());
    }
  }

  @Test
  void swapsBigEndianData() throws IOException {
    byte[] data = hex("3F 80 00 00 40 00 00 00");
    writeByHand(
        new BundleHeader(1, true, 1, 0, List.of()),
        data,
        record(
            "x",
            BundleEntry.of(DType.FLOAT, TensorShape.of(2), 0, 0, 8, Crc32c.mask(Crc32c.of(data)))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(
          Tensor.of(DType.FLOAT, TensorShape.of(2), hex("00 00 80 3F 00 00 00 40")), r.read("x"));
    }
  }

  @Test
  void rejectsEntryNamingAShardThatDoesNotExist() throws IOException {
    writeByHand(
        BundleHeader.of(1),
        new byte[4],
        record("x", BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 5, 0, 4, 0)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("x"));
      assertEquals(
          "Cannot read tensor x: its entry in "
              + prefix()
              + ".index names shard 5, but the checkpoint "
              + "has 1 shard",
          e.getMessage());
    }
  }

  @Test
  void reportsMissingKeyAndMissingIndex() {
    writeTwoTensors();
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CheckpointNotFoundException e =
          assertThrows(CheckpointNotFoundException.class, () -> r.read("nope"));
      assertEquals("Key nope not found in checkpoint " + prefix(), e.getMessage());
    }
    String other = dir.resolve("other").toString();
    CheckpointNotFoundException e =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointReader.openPrefix(io, other));
    assertEquals(
        "Cannot find checkpoint " + other + ": no " + other + ".index found", e.getMessage());
  }

  @Test
  void rejectsIndexWithoutHeader() throws IOException {
    try (PositionOutputStream out = io.newOutputFile(Naming.indexFile(prefix())).create()) {
      TableWriter t = new TableWriter(out, "x");
      t.add("a".getBytes(StandardCharsets.UTF_8), hex("08 01"));
      t.finish();
    }
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> CheckpointReader.openPrefix(io, prefix()));
    assertEquals(
        "Cannot read entry (header) in "
            + prefix()
            + ".index: no bundle header (the first entry must "
            + "have the empty key); the file is corrupt or was produced by a newer TensorFlow",
        e.getMessage());
  }

  @Test
  void rejectsCorruptIndex() throws IOException {
    writeTwoTensors();
    // Byte 12 lies in the header/entries of the only data block.
    flipByte(Path.of(Naming.indexFile(prefix())), 12);
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> CheckpointReader.openPrefix(io, prefix()));
    assertTrue(
        e.getMessage()
            .startsWith("Checksum mismatch for data block in " + prefix() + ".index (offset 0, "),
        e.getMessage());
    assertEquals(prefix() + ".index", e.location());
    assertEquals(0L, e.offset());
  }

  @Test
  void rejectsSlicedTensorWithMissingSliceEntry() throws IOException {
    TensorSlice top = TensorSlice.parse("0,2:-");
    TensorSlice bottom = TensorSlice.parse("2,2:-");
    Tensor part = iota(2, 2);
    writeByHand(
        BundleHeader.of(1),
        part.data(),
        record("emb", BundleEntry.sliced(DType.FLOAT, TensorShape.of(4, 2), List.of(top, bottom))),
        new IndexRecord(
            SliceKeys.encode("emb", top),
            BundleEntry.of(
                DType.FLOAT, TensorShape.of(2, 2), 0, 0, 16, Crc32c.mask(Crc32c.of(part.data())))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("emb"));
      assertEquals(
          "Cannot read sliced tensor emb: the entry for slice 2,2:- is missing from "
              + prefix()
              + ".index",
          e.getMessage());
    }
  }

  @Test
  void rejectsSlicesThatDoNotCoverOrOverlap() throws IOException {
    writeByHand(
        BundleHeader.of(1),
        new byte[0],
        record(
            "gap",
            BundleEntry.sliced(
                DType.FLOAT, TensorShape.of(4, 2), List.of(TensorSlice.parse("0,2:-")))),
        record(
            "overlap",
            BundleEntry.sliced(
                DType.FLOAT,
                TensorShape.of(4, 2),
                List.of(TensorSlice.parse("0,3:-"), TensorSlice.parse("2,2:-")))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.read("gap"));
      assertEquals(
          "Cannot read sliced tensor gap in "
              + prefix()
              + ".index: its 1 slices cover 4 of 8 elements",
          e.getMessage());
      e = assertThrows(CorruptCheckpointException.class, () -> r.read("overlap"));
      assertEquals(
          "Cannot read sliced tensor overlap in "
              + prefix()
              + ".index: overlapping slices 0,3:- and 2,2:-",
          e.getMessage());
    }
  }
}
