package io.rebundle.codec.bundle;

import static io.rebundle.codec.bundle.BundleFixtures.extract;
import static io.rebundle.codec.bundle.BundleFixtures.iota;
import static io.rebundle.codec.bundle.BundleFixtures.list;
import static io.rebundle.codec.bundle.BundleFixtures.random;
import static io.rebundle.codec.bundle.BundleFixtures.strings;
import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointRoundTripTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String prefix() {
    return dir.resolve("ckpt-1").toString();
  }

  private void write(Map<String, Tensor> tensors) {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      tensors.forEach(w::add);
      w.finish();
    }
  }

  private void assertReadsBack(Map<String, Tensor> tensors) {
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        assertEquals(e.getValue(), r.read(e.getKey()), e.getKey());
        if (e.getValue().dtype() == DType.STRING) {
          // Tensor.equals compares strings only pairwise; make sure the counts agree too.
          assertEquals(e.getValue().strings().size(), r.read(e.getKey()).strings().size());
        }
      }
    }
  }

  @Test
  void writesWorkedExampleByteForByte() throws IOException {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      w.add("x", Tensor.of(DType.FLOAT, TensorShape.SCALAR, hex("00 00 80 3F")));
      w.finish();
    }
    byte[] expected =
        hex(
            "00 00 06 08 01 1A 02 08 01"
                + "00 01 0B 78 08 01 12 00 28 04 35 81 A5 DA 2B"
                + "00 00 00 00 01 00 00 00 00 38 5A DF 39"
                + "00 00 00 00 01 00 00 00 00 C0 F2 A1 B0"
                + "00 01 02 79 00 20 00 00 00 00 01 00 00 00 00 C2 4C 06 42"
                + "25 08 32 0E"
                + "00".repeat(36)
                + "57 FB 80 8B 24 75 47 DB");
    assertEquals(spaced(expected), spaced(Files.readAllBytes(dir.resolve("ckpt-1.index"))));
    assertEquals(
        "00 00 80 3f", spaced(Files.readAllBytes(dir.resolve("ckpt-1.data-00000-of-00001"))));
    // No temporary files are left behind.
    assertEquals(List.of("ckpt-1.data-00000-of-00001", "ckpt-1.index"), list(dir));
  }

  @Test
  void roundTripsEveryFixedSizeDtype() {
    Random random = new Random(1);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (DType t : DType.values()) {
      if (t.isFixedSize()) {
        tensors.put("v/" + t.displayName(), random(t, random, 2, 3));
      }
    }
    assertEquals(30, tensors.size());
    write(tensors);
    assertReadsBack(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        BundleEntry entry = r.entry(e.getKey());
        Tensor t = e.getValue();
        assertEquals(t.dtype(), entry.dtype());
        assertEquals(TensorShape.of(2, 3), entry.shape());
        assertEquals(6L * t.dtype().elementSize(), entry.size());
        assertEquals(Crc32c.mask(Crc32c.of(t.data())), entry.crc32c());
      }
    }
  }

  @Test
  void storesTensorsBackToBackInTheOrderAdded() {
    Random random = new Random(2);
    Tensor b = random(DType.INT32, random, 5);
    Tensor a = random(DType.DOUBLE, random, 3);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("b", b);
    tensors.put("a", a);
    write(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(0, r.entry("b").offset());
      assertEquals(20, r.entry("a").offset());
      List<String> keys = new ArrayList<>();
      r.records().forEach(rec -> keys.add(rec.name()));
      assertEquals(List.of("a", "b"), keys);
    }
  }

  @Test
  void roundTripsScalars() {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put(
        "global_step", Tensor.of(DType.INT64, TensorShape.SCALAR, hex("2a 00 00 00 00 00 00 00")));
    tensors.put("flag", Tensor.of(DType.BOOL, TensorShape.SCALAR, hex("01")));
    tensors.put("lr", Tensor.of(DType.FLOAT, TensorShape.SCALAR, hex("6f 12 83 3a")));
    tensors.put("name", strings(new long[0], "abc".getBytes(StandardCharsets.UTF_8)));
    write(tensors);
    assertReadsBack(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      BundleEntry name = r.entry("name");
      assertEquals(8, name.size());
      assertEquals(0x199AD1C3, name.crc32c());
    }
  }

  @Test
  void roundTripsZeroElementTensors() {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("f0", Tensor.of(DType.FLOAT, TensorShape.of(0), new byte[0]));
    tensors.put("f20", Tensor.of(DType.FLOAT, TensorShape.of(2, 0), new byte[0]));
    tensors.put("s0", strings(new long[] {0}));
    tensors.put("s20", strings(new long[] {2, 0}));
    write(tensors);
    assertReadsBack(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(0, r.entry("f0").size());
      assertEquals(0xA282EAD8, r.entry("f0").crc32c());
      assertEquals(TensorShape.of(2, 0), r.entry("f20").shape());
      assertEquals(4, r.entry("s0").size());
      assertEquals(Crc32c.mask(Crc32c.of(hex("D8 EA 82 A2"))), r.entry("s20").crc32c());
      assertEquals(0, r.read("s20").strings().size());
    }
  }

  @Test
  void roundTripsStringTensors() {
    byte[] empty = new byte[0];
    byte[] utf8 =
        "h\u00e9llo w\u00f6rld \u4e2d\u6587 \uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
    byte[] binary = {0, (byte) 0xFF, (byte) 0x80, 0x0A, 0, (byte) 0xC3};
    byte[] long300 = new byte[300];
    new Random(3).nextBytes(long300);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("strings", strings(new long[] {2, 2}, empty, utf8, binary, long300));
    tensors.put("one", strings(new long[] {1}, long300));
    write(tensors);
    assertReadsBack(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      // Varint lengths 1+1+1+2 bytes, the 4-byte length checksum, then the bytes.
      assertEquals(5 + 4 + utf8.length + binary.length + 300, r.entry("strings").size());
      List<byte[]> read = r.read("strings").strings();
      assertEquals(4, read.size());
      assertArrayEquals(empty, read.get(0));
      assertArrayEquals(utf8, read.get(1));
      assertArrayEquals(binary, read.get(2));
      assertArrayEquals(long300, read.get(3));
    }
  }

  @Test
  void verifiesAndCopiesTensorsInAnyChunkSize() throws IOException {
    byte[] long300 = new byte[300];
    new Random(6).nextBytes(long300);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put(
        "s", strings(new long[] {3}, long300, new byte[0], "xyz".getBytes(StandardCharsets.UTF_8)));
    tensors.put("f", iota(7));
    write(tensors);
    byte[] data = Files.readAllBytes(dir.resolve("ckpt-1.data-00000-of-00001"));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      for (int chunk : new int[] {1, 2, 3, 5, 64, CheckpointReader.BUFFER_SIZE}) {
        for (String key : tensors.keySet()) {
          BundleEntry e = r.entry(key);
          java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
          r.copyRaw(key, e, out, new byte[chunk]);
          assertArrayEquals(
              java.util.Arrays.copyOfRange(data, (int) e.offset(), (int) (e.offset() + e.size())),
              out.toByteArray(),
              key + " in chunks of " + chunk);
          r.verifyData(key, e, new byte[chunk]);
        }
      }
    }
  }

  @Test
  void writesSeveralShards() {
    Random random = new Random(4);
    Tensor a = random(DType.FLOAT, random, 3);
    Tensor b = random(DType.INT64, random, 2);
    Tensor c = strings(new long[] {2}, "x".getBytes(StandardCharsets.UTF_8), new byte[7]);
    Tensor d = random(DType.UINT8, random, 9);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 3, false)) {
      assertEquals(3, w.numShards());
      w.add(0, "a", a);
      w.add(1, "b", b);
      w.add(2, "c", c);
      w.add(1, "d", d);
      w.finish();
    }
    assertEquals(
        List.of(
            "ckpt-1.data-00000-of-00003",
            "ckpt-1.data-00001-of-00003",
            "ckpt-1.data-00002-of-00003",
            "ckpt-1.index"),
        list(dir));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(BundleHeader.of(3), r.header());
      assertEquals(0, r.entry("a").shardId());
      assertEquals(1, r.entry("b").shardId());
      assertEquals(2, r.entry("c").shardId());
      assertEquals(1, r.entry("d").shardId());
      assertEquals(16, r.entry("d").offset());
      assertEquals(a, r.read("a"));
      assertEquals(b, r.read("b"));
      assertEquals(c, r.read("c"));
      assertEquals(d, r.read("d"));
      assertEquals(dir.resolve("ckpt-1.data-00001-of-00003").toString(), r.dataFile(1));
    }
  }

  /** A source handing out {@code bytes} in whatever chunks the writer asks for. */
  private static StreamSource sourceOf(byte[] bytes) {
    int[] at = {0};
    return (buffer, offset, length) -> {
      System.arraycopy(bytes, at[0], buffer, offset, length);
      at[0] += length;
    };
  }

  @Test
  void streamedTensorsAndSlicesMatchTheirInMemoryTwins() {
    Random random = new Random(9);
    // Larger than one stream buffer, so the CRC runs over several chunks.
    Tensor big = random(DType.INT32, random, ShardWriter.STREAM_BUFFER_SIZE / 4 + 3, 1);
    Tensor strings = strings(new long[] {2}, "ab".getBytes(StandardCharsets.UTF_8), new byte[3]);
    StringTensors.Encoded enc = StringTensors.encode(strings.strings());
    Tensor emb = random(DType.FLOAT, random, 4, 3);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 2, false)) {
      BundleEntry e = w.append(0, "big", DType.INT32, big.shape(), sourceOf(big.data()));
      assertEquals(Crc32c.mask(Crc32c.of(big.data())), e.crc32c());
      BundleEntry s =
          w.shard(1)
              .append(DType.STRING, strings.shape(), enc.bytes().length, sourceOf(enc.bytes()));
      assertEquals(enc.maskedCrc(), s.crc32c());
      w.addEntry("s".getBytes(StandardCharsets.UTF_8), s);
      for (String slice : List.of("0,1:-", "1,3:-")) {
        TensorSlice ts = TensorSlice.parse(slice);
        w.appendSlice(1, "emb", DType.FLOAT, emb.shape(), ts, sourceOf(extract(emb, ts).data()));
      }
      IllegalArgumentException bad =
          assertThrows(
              IllegalArgumentException.class,
              () -> w.shard(0).append(DType.FLOAT, TensorShape.of(2), 7, sourceOf(new byte[7])));
      assertEquals("Invalid tensor data: 7 bytes for float32 [2], expected 8", bad.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> w.append(0, "t", DType.STRING, TensorShape.SCALAR, sourceOf(new byte[5])));
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(big, r.read("big"));
      assertEquals(strings, r.read("s"));
      assertEquals(emb, r.read("emb"));
    }
    assertTrue(CheckpointVerifier.verify(io, prefix(), null).ok());
  }

  private void writeSliced(String key, Tensor full, List<TensorSlice> slices) {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 2, false)) {
      for (int i = 0; i < slices.size(); i++) {
        w.addSlice(i % 2, key, full.shape(), slices.get(i), extract(full, slices.get(i)));
      }
      w.finish();
    }
  }

  private void assertAssembles(Tensor full, String... slices) {
    List<TensorSlice> parsed = new ArrayList<>();
    for (String s : slices) {
      parsed.add(TensorSlice.parse(s));
    }
    writeSliced("emb", full, parsed);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      BundleEntry entry = r.entry("emb");
      assertTrue(entry.isSliced());
      assertEquals(parsed, entry.slices());
      assertEquals(full, r.read("emb"));
      for (TensorSlice s : parsed) {
        BundleEntry part = r.findEntry(SliceKeys.encode("emb", s));
        assertEquals(s.sliceShape(full.shape()), part.shape());
      }
    }
  }

  @Test
  void assemblesTensorSlicedAlongFirstDimension() {
    assertAssembles(iota(4, 6), "0,2:-", "2,2:-");
  }

  @Test
  void assemblesTensorSlicedAlongSecondDimension() {
    assertAssembles(iota(4, 6), "-:0,1", "-:1,3", "-:4,2");
  }

  @Test
  void assemblesTensorSlicedIntoAGrid() {
    assertAssembles(iota(4, 6), "0,2:0,3", "0,2:3,3", "2,2:0,3", "2,2:3,3");
  }

  @Test
  void assemblesRank3TensorSlicedInTheMiddleDimension() {
    assertAssembles(iota(2, 5, 3), "-:0,2:-", "-:2,3:-");
  }

  @Test
  void assemblesSlicesOfOtherDtypes() {
    Random random = new Random(5);
    for (DType t : List.of(DType.INT64, DType.BOOL, DType.COMPLEX128, DType.INT8)) {
      Tensor full = random(t, random, 3, 4);
      List<TensorSlice> slices =
          List.of(TensorSlice.parse("0,3:0,1"), TensorSlice.parse("0,3:1,3"));
      writeSliced("emb", full, slices);
      try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
        assertEquals(full, r.read("emb"), t.name());
      }
      for (String f : list(dir)) {
        io.delete(dir.resolve(f).toString());
      }
    }
  }

  @Test
  void listsSliceEntriesBeforeTensorNames() {
    writeSliced(
        "emb", iota(4, 2), List.of(TensorSlice.parse("0,2:0,2"), TensorSlice.parse("2,2:0,2")));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      List<String> names = new ArrayList<>();
      List<Boolean> sliceFlags = new ArrayList<>();
      for (IndexRecord rec : r.records()) {
        names.add(rec.name());
        sliceFlags.add(rec.isSliceEntry());
      }
      assertEquals(List.of("emb[0,2:0,2]", "emb[2,2:0,2]", "emb"), names);
      assertEquals(List.of(true, true, false), sliceFlags);
      assertArrayEquals(
          hex("00 65 6D 62 00 01 01 02 80 82 80 82"), r.records().iterator().next().key());
      assertEquals(spaced(hex(BundleEntryTest.EMB_FULL_ENTRY)), spaced(r.entry("emb").encode()));
    }
  }

  @Test
  void rejectsSliceOutsideTheTensor() {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.addSlice(
                      0, "emb", TensorShape.of(4, 2), TensorSlice.parse("3,2:-"), iota(2, 2)));
      assertEquals(
          "Invalid slice for emb: extent in dimension 0 out of bounds: 3,2 of 4", e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.addSlice(
                      0, "emb", TensorShape.of(4, 2), TensorSlice.parse("0,2:-"), iota(2, 1)));
      assertEquals(
          "Invalid slice data for emb: shape [2, 1], slice 0,2:- of [4, 2] needs [2, 2]",
          e.getMessage());
    }
  }

  @Test
  void readsObjectGraph() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("v").variable("v");
    ObjectGraph graph = b.build();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("v/.ATTRIBUTES/VARIABLE_VALUE", iota(2));
    tensors.put(Naming.OBJECT_GRAPH_KEY, strings(new long[0], graph.encode()));
    write(tensors);
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertTrue(r.isObjectBased());
      assertEquals(graph, r.objectGraph());
    }
  }

  @Test
  void nameBasedCheckpointHasNoObjectGraph() {
    write(Map.of("w", iota(3)));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertFalse(r.isObjectBased());
      assertNull(r.objectGraph());
    }
  }

  @Test
  void closeWithoutFinishLeavesNoFiles() {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 2, false)) {
      w.add(1, "w", iota(3));
    }
    assertEquals(List.of(), list(dir));
  }

  @Test
  void refusesToReplaceAnExistingCheckpointUnlessAskedTo() {
    write(Map.of("w", iota(3)));
    DestinationExistsException e =
        assertThrows(DestinationExistsException.class, () -> CheckpointWriter.create(io, prefix()));
    assertEquals(
        "Cannot write checkpoint "
            + prefix()
            + ": it already exists (use --overwrite to replace it once the new one is complete)",
        e.getMessage());
    assertEquals(prefix(), e.prefix());
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix(), 1, true)) {
      w.add("w", iota(5));
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertEquals(iota(5), r.read("w"));
    }
    assertEquals(List.of("ckpt-1.data-00000-of-00001", "ckpt-1.index"), list(dir));
  }

  @Test
  void rejectsDuplicateKeys() {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix())) {
      w.add("w", iota(3));
      w.add("w", iota(3));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::finish);
      assertEquals("Invalid entries: duplicate key w", e.getMessage());
    }
    assertFalse(Files.exists(dir.resolve("ckpt-1.index")));
  }
}
