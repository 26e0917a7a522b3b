package io.rebundle.codec.exec;

import static io.rebundle.codec.bundle.BundleFixtures.extract;
import static io.rebundle.codec.bundle.BundleFixtures.random;
import static io.rebundle.codec.util.TestBytes.concat;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.io.CountingFileIO;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlanFixtures;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.RecordingFileIO;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardExecutorTest {
  private final FileIO io = new LocalFileIO();

  /** A sink recording each byte report. */
  private static ProgressSink recordBytes(List<Long> reports) {
    return new ProgressSink() {
      @Override
      public void bytes(long n) {
        reports.add(n);
      }

      @Override
      public void tensors(long n) {}
    };
  }

  @TempDir Path dir;

  private String source() {
    return dir.resolve("src/ckpt").toString();
  }

  private String output() {
    return dir.resolve("out/shard-00001").toString();
  }

  private static TensorSlice slice(long... startLength) {
    List<TensorSlice.Extent> e = new ArrayList<>();
    for (int i = 0; i < startLength.length; i += 2) {
      e.add(
          startLength[i + 1] < 0
              ? TensorSlice.Extent.FULL
              : new TensorSlice.Extent(startLength[i], startLength[i + 1]));
    }
    return new TensorSlice(e);
  }

  private void writeSource(Tensor... tensors) {
    try (CheckpointWriter w = CheckpointWriter.create(io, source())) {
      for (int i = 0; i < tensors.length; i++) {
        w.add("t" + i, tensors[i]);
      }
      w.finish();
    }
  }

  /**
   * Writes {@code full} as the given slices (in that order) under {@code key}, entry by entry, so
   * that tests can also store slicings the writer itself refuses (overlaps, gaps).
   */
  private void writeSliced(String key, Tensor full, TensorSlice... slices) {
    try (CheckpointWriter w = CheckpointWriter.create(io, source())) {
      w.add("plain", Tensor.of(DType.INT32, TensorShape.of(2), new byte[8]));
      List<TensorSlice> stored = new ArrayList<>();
      for (TensorSlice s : slices) {
        w.addEntry(SliceKeys.encode(key, s), w.shard(0).add(extract(full, s)));
        stored.add(s);
      }
      w.addEntry(Bytes.utf8(key), BundleEntry.sliced(full.dtype(), full.shape(), stored));
      w.finish();
    }
  }

  private List<PlannedTensor> copies(String... keys) {
    List<PlannedTensor> t = new ArrayList<>();
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      for (String k : keys) {
        t.add(PlannedTensor.copy(Bytes.utf8("new/" + k), Bytes.utf8(k), r.entry(k)));
      }
    }
    return t;
  }

  private byte[] storedBytes(String key) throws IOException {
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      BundleEntry e = r.entry(key);
      byte[] all =
          Files.readAllBytes(
              Path.of(Naming.dataFile(source(), e.shardId(), r.header().numShards())));
      return Arrays.copyOfRange(all, (int) e.offset(), (int) (e.offset() + e.size()));
    }
  }

  private PlannedTensor mergePlan(String key) {
    MigrationPlan plan =
        Planner.plan(
            PlanFixtures.read(io, source()),
            new MigrationSpec(CheckpointFormat.TF1, "vars", false, true));
    return PlanFixtures.tensor(plan, key);
  }

  private Tensor sourceTensor(String key) {
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      return r.read(key);
    }
  }

  @Test
  void copiesStoredBytesUnchangedAndKeepsTheirCrc() throws IOException {
    Random random = new Random(1);
    writeSource(
        random(DType.FLOAT, random, 3),
        Tensor.ofStrings(
            TensorShape.of(2), List.of("héllo".getBytes(StandardCharsets.UTF_8), new byte[0])),
        random(DType.INT64, random, 2, 2),
        random(DType.FLOAT, random, 0));
    List<PlannedTensor> plan = new ArrayList<>(copies("t1", "t3", "t0", "t2"));
    plan.add(
        PlannedTensor.literal(
            Bytes.utf8("lit"), DType.INT64, TensorShape.SCALAR, PlanFixtures.int64(1), 77));
    List<Long> progress = new ArrayList<>();
    StagedShard result =
        ShardExecutor.run(io, source(), plan, output(), 1, 5, recordBytes(progress));

    byte[] expected =
        concat(
            storedBytes("t1"),
            storedBytes("t3"),
            storedBytes("t0"),
            storedBytes("t2"),
            PlanFixtures.int64(1));
    assertEquals(spaced(expected), spaced(Files.readAllBytes(Path.of(output()))));
    assertEquals(1, result.shard());
    assertEquals(output(), result.file());
    assertEquals(expected.length, result.bytes());
    // One report per tensor that has bytes; the empty one reports nothing.
    assertEquals(List.of(12L, 12L, 32L, 8L), progress);
    List<String> keys = result.entries().stream().map(r -> r.name()).toList();
    assertEquals(List.of("new/t1", "new/t3", "new/t0", "new/t2", "lit"), keys);
    long offset = 0;
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      for (int i = 0; i < 4; i++) {
        BundleEntry src = r.entry(keys.get(i).substring(4));
        assertEquals(src.withLocation(1, offset), result.entries().get(i).entry(), keys.get(i));
        offset += src.size();
      }
    }
    assertEquals(
        BundleEntry.of(DType.INT64, TensorShape.SCALAR, 1, offset, 8, 77),
        result.entries().get(4).entry());
  }

  @Test
  void deletesItsOutputWhenASourceCrcDoesNotMatch() throws IOException {
    Random random = new Random(2);
    writeSource(random(DType.FLOAT, random, 3), random(DType.INT64, random, 2));
    List<PlannedTensor> plan = copies("t1", "t0");
    BundleEntry t0 = ((PlannedTensor.Copy) plan.get(1)).sourceEntry();
    Path data = Path.of(Naming.dataFile(source(), 0, 1));
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) t0.offset() + 5] ^= 0x01;
    Files.write(data, bytes);
    int computed = Crc32c.of(bytes, (int) t0.offset(), (int) t0.size());

    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> ShardExecutor.run(io, source(), plan, output(), 0, 4, ProgressSink.NONE));
    assertEquals(
        String.format(
            "Checksum mismatch for tensor t0 in %s (shard 0, offset 0, 12 bytes): "
                + "stored %08x, computed %08x",
            data, Crc32c.unmask(t0.crc32c()), computed),
        e.getMessage());
    assertFalse(Files.exists(Path.of(output())), "partial output must be deleted");
  }

  @Test
  void deletesAndClosesItsOutputWhenTheSourceIsMissing() {
    RecordingFileIO recording = new RecordingFileIO(dir.toString());
    PlannedTensor t =
        PlannedTensor.literal(Bytes.utf8("x"), DType.UINT8, TensorShape.of(1), new byte[1], 0);
    CheckpointNotFoundException e =
        assertThrows(
            CheckpointNotFoundException.class,
            () ->
                ShardExecutor.run(
                    recording, source(), List.of(t), output(), 0, 4, ProgressSink.NONE));
    assertEquals(
        "Cannot find checkpoint " + source() + ": no " + source() + ".index found", e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
    assertEquals(List.of(), List.copyOf(recording.openStreams), "output stream left open");
    assertEquals(
        List.of("create out/shard-00001", "close out/shard-00001", "delete out/shard-00001"),
        recording.log);
  }

  @Test
  void leavesAnExistingOutputFileAlone() throws IOException {
    writeSource(Tensor.of(DType.UINT8, TensorShape.of(1), new byte[] {9}));
    Files.createDirectories(Path.of(output()).getParent());
    Files.write(Path.of(output()), new byte[] {1, 2, 3});
    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () -> ShardExecutor.run(io, source(), copies("t0"), output(), 0, 4, ProgressSink.NONE));
    assertEquals("Cannot create " + output() + ": it already exists", e.getMessage());
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(Path.of(output())));
  }

  @Test
  void rejectsSlicedFullEntries() {
    writeSliced(
        "emb", random(DType.FLOAT, new Random(3), 4, 2), slice(0, 2, 0, -1), slice(2, 2, 0, -1));
    MigrationPlan plan =
        Planner.plan(PlanFixtures.read(io, source()), MigrationSpec.to(CheckpointFormat.TF1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ShardExecutor.run(
                    io,
                    source(),
                    List.of(PlanFixtures.tensor(plan, "emb")),
                    output(),
                    0,
                    4,
                    ProgressSink.NONE));
    assertEquals("Invalid shard plan: sliced full entry emb has no bytes", e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }

  private void assertMergesToTheFullTensor(Tensor full, int bufferSize) throws IOException {
    PlannedTensor merge = mergePlan("emb");
    assertEquals(PlannedTensor.Kind.MERGE_SLICES, merge.kind());
    StagedShard result =
        ShardExecutor.run(io, source(), List.of(merge), output(), 2, bufferSize, ProgressSink.NONE);
    byte[] expected = sourceTensor("emb").data();
    assertArrayEquals(full.data(), expected, "CheckpointReader assembles the source");
    assertEquals(spaced(expected), spaced(Files.readAllBytes(Path.of(output()))));
    assertEquals(
        BundleEntry.of(
            full.dtype(), full.shape(), 2, 0, expected.length, Crc32c.mask(Crc32c.of(expected))),
        result.entries().get(0).entry());
    assertEquals("emb", result.entries().get(0).name());
  }

  @Test
  void mergesSlicesAlongDimensionZero() throws IOException {
    Tensor full = random(DType.FLOAT, new Random(4), 5, 3);
    // Stored out of order, explicit and "full" extents mixed.
    writeSliced("emb", full, slice(3, 2, 0, 3), slice(0, 1, 0, -1), slice(1, 2, 0, 3));
    assertMergesToTheFullTensor(full, 7);
  }

  @Test
  void mergesARankOneTensor() throws IOException {
    Tensor full = random(DType.INT64, new Random(5), 6);
    writeSliced("emb", full, slice(4, 2), slice(0, 4));
    assertMergesToTheFullTensor(full, 3);
  }

  @Test
  void mergesATwoByTwoGrid() throws IOException {
    Tensor full = random(DType.FLOAT, new Random(6), 4, 6);
    writeSliced(
        "emb", full, slice(2, 2, 3, 3), slice(0, 2, 0, 3), slice(2, 2, 0, 3), slice(0, 2, 3, 3));
    assertMergesToTheFullTensor(full, 5);
  }

  @Test
  void mergesUnevenBlocksOfARankThreeTensor() throws IOException {
    Tensor full = random(DType.INT16, new Random(7), 2, 3, 4);
    writeSliced(
        "emb", full, slice(0, 2, 1, 2, 0, 3), slice(0, -1, 0, 1, 0, 4), slice(0, 2, 1, 2, 3, 1));
    assertMergesToTheFullTensor(full, 1 << 20);
  }

  @Test
  void rejectsAGridWithAHole() {
    Tensor full = random(DType.FLOAT, new Random(8), 4, 6);
    writeSliced(
        "emb", full, slice(0, 2, 0, 3), slice(2, 2, 0, 3), slice(0, 2, 3, 3), slice(2, 2, 4, 2));
    PlannedTensor merge = mergePlan("emb");
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                ShardExecutor.run(
                    io, source(), List.of(merge), output(), 0, 64, ProgressSink.NONE));
    assertEquals("Cannot merge slices of emb: row 2 is not covered at column 3", e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }

  @Test
  void rejectsOverlappingSlicesAlongDimensionZero() {
    // Rows 0-1 and 1-2 of 4: as many bytes as the full tensor, but row 1 twice and row 3 never.
    Tensor full = random(DType.FLOAT, new Random(9), 4, 2);
    writeSliced("emb", full, slice(0, 2, 0, -1), slice(1, 2, 0, -1));
    PlannedTensor merge = mergePlan("emb");
    assertEquals(32, merge.size());
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                ShardExecutor.run(
                    io, source(), List.of(merge), output(), 0, 64, ProgressSink.NONE));
    assertEquals(
        "Cannot merge slices of emb: slice 1,2:- starts at row 1, expected row 2", e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }

  @Test
  void rejectsSlicesThatLeaveRowsUncoveredAlongDimensionZero() {
    Tensor full = random(DType.FLOAT, new Random(10), 4, 2);
    writeSliced("emb", full, slice(0, 1, 0, -1), slice(2, 2, 0, -1));
    PlannedTensor merge = mergePlan("emb");
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                ShardExecutor.run(
                    io, source(), List.of(merge), output(), 0, 64, ProgressSink.NONE));
    assertEquals(
        "Cannot merge slices of emb: slice 2,2:- starts at row 2, expected row 1", e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }

  @Test
  void deletesItsOutputWhenASliceCrcDoesNotMatch() throws IOException {
    Tensor full = random(DType.FLOAT, new Random(11), 4, 6);
    writeSliced(
        "emb", full, slice(0, 2, 0, 3), slice(0, 2, 3, 3), slice(2, 2, 0, 3), slice(2, 2, 3, 3));
    PlannedTensor merge = mergePlan("emb");
    PlannedTensor.SlicePart last = ((PlannedTensor.MergedSlices) merge).parts().get(3);
    Path data = Path.of(Naming.dataFile(source(), 0, 1));
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) last.entry().offset()] ^= (byte) 0x80;
    Files.write(data, bytes);
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                ShardExecutor.run(
                    io, source(), List.of(merge), output(), 0, 64, ProgressSink.NONE));
    assertEquals(
        String.format(
            "Checksum mismatch for tensor emb[2,2:3,3] in %s (shard 0, offset %d, 24 bytes): "
                + "stored %08x, computed %08x",
            data,
            last.entry().offset(),
            Crc32c.unmask(last.entry().crc32c()),
            Crc32c.of(bytes, (int) last.entry().offset(), 24)),
        e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }

  @Test
  void resultEntriesAreIndexRecordsUnderTargetKeys() {
    writeSource(Tensor.of(DType.UINT8, TensorShape.of(2), new byte[] {4, 5}));
    StagedShard r =
        ShardExecutor.run(io, source(), copies("t0"), output(), 0, 1, ProgressSink.NONE);
    IndexRecord only = r.entries().get(0);
    assertArrayEquals(Bytes.utf8("new/t0"), only.key());
    assertTrue(Files.exists(Path.of(output())));
  }

  private static long sum(List<Long> reports) {
    return reports.stream().mapToLong(Long::longValue).sum();
  }

  @Test
  void aLargeCopiedTensorIsReportedInChunksThatSumToItsSize() throws IOException {
    Random random = new Random(3);
    // 5 MiB + 512 bytes of floats: five 1 MiB chunks and a tail, taken by the kernel copy.
    Tensor big = random(DType.FLOAT, random, (5 << 18) + 128);
    writeSource(big, random(DType.INT32, random, 3));
    List<Long> progress = new ArrayList<>();
    long chunk = 1 << 20;
    StagedShard result =
        ShardExecutor.run(
            io, source(), copies("t0", "t1"), output(), 0, 64 << 10, recordBytes(progress), chunk);

    assertEquals(List.of(chunk, chunk, chunk, chunk, chunk, 512L, 12L), progress);
    assertEquals((5L << 20) + 512 + 12, sum(progress));
    assertEquals(result.bytes(), sum(progress));
    assertEquals(
        spaced(concat(storedBytes("t0"), storedBytes("t1"))),
        spaced(Files.readAllBytes(Path.of(output()))));
  }

  @Test
  void aLargeCastTensorIsReportedInChunksOfItsOutput() throws IOException {
    Random random = new Random(4);
    Tensor big = random(DType.FLOAT, random, 3 << 18);
    writeSource(big);
    PlannedTensor cast;
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      cast =
          PlannedTensor.transform(
              Bytes.utf8("half"),
              Bytes.utf8("t0"),
              r.entry("t0"),
              new io.rebundle.codec.plan.MappingRules.Transform(
                  java.util.regex.Pattern.compile("t0"), DType.HALF, null, null));
    }
    List<Long> progress = new ArrayList<>();
    long chunk = 256 << 10;
    StagedShard result =
        ShardExecutor.run(
            io, source(), List.of(cast), output(), 0, 64 << 10, recordBytes(progress), chunk);

    long halfBytes = (3 << 18) * 2L;
    assertEquals(halfBytes, result.bytes());
    assertEquals(halfBytes, sum(progress));
    // 1.5 MiB of output in 256 KiB reports: at least six while the cast ran, not one at the end.
    assertTrue(progress.stream().filter(n -> n > 0).count() >= 6, progress.toString());
    assertTrue(progress.stream().allMatch(n -> n < 2 * chunk), progress.toString());
    assertEquals(halfBytes, Files.size(Path.of(output())));
  }

  /** Three tensors of 1-2 MiB with small ones between them, all copied under new names. */
  private List<PlannedTensor> writeLargeAndSmall() {
    Random random = new Random(11);
    writeSource(
        random(DType.FLOAT, random, 1 << 18),
        random(DType.INT32, random, 3),
        random(DType.FLOAT, random, (1 << 19) + 7),
        random(DType.INT8, random, 5),
        random(DType.DOUBLE, random, 1 << 17));
    return copies("t0", "t1", "t2", "t3", "t4");
  }

  @Test
  void largeCopiesGoThroughTheKernelAndAreCheckedOnAnotherThread() throws IOException {
    List<PlannedTensor> plan = writeLargeAndSmall();
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    StagedShard result =
        ShardExecutor.run(counting, source(), plan, output(), 2, 64 << 10, ProgressSink.NONE);

    long large = (1L << 20) + (2L << 20) + 28 + (1L << 20);
    assertEquals(large, counting.kernelBytes.get(), "bytes the kernel copied");
    // Every large tensor is still read once for its CRC, and the small ones once on the way.
    long small = 12 + 5;
    long indexAndData = counting.bytes.get();
    assertTrue(indexAndData >= large + small, "read " + indexAndData);
    assertTrue(
        counting.readingThreads.stream().anyMatch(n -> n.startsWith("rebundle-check ")),
        counting.readingThreads.toString());
    assertEquals(
        spaced(
            concat(
                storedBytes("t0"),
                storedBytes("t1"),
                storedBytes("t2"),
                storedBytes("t3"),
                storedBytes("t4"))),
        spaced(Files.readAllBytes(Path.of(output()))));
    long offset = 0;
    for (int i = 0; i < 5; i++) {
      BundleEntry source = ((PlannedTensor.Copy) plan.get(i)).sourceEntry();
      assertEquals(
          source.withLocation(2, offset), result.entries().get(i).entry(), "entry of t" + i);
      offset += source.size();
    }
  }

  /** Flips one byte in the middle of tensor {@code key} of the source's data file. */
  private void damage(String key) throws IOException {
    BundleEntry e;
    try (CheckpointReader r = CheckpointReader.open(io, source())) {
      e = r.entry(key);
    }
    Path data = Path.of(Naming.dataFile(source(), 0, 1));
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) (e.offset() + e.size() / 2)] ^= 0x10;
    Files.write(data, bytes);
  }

  @Test
  void aDamagedLargeTensorInTheMiddleFailsTheShardAndLeavesNoFile() throws IOException {
    List<PlannedTensor> plan = writeLargeAndSmall();
    damage("t2");
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> ShardExecutor.run(io, source(), plan, output(), 0, 64 << 10, ProgressSink.NONE));
    assertTrue(
        e.getMessage()
            .startsWith("Checksum mismatch for tensor t2 in " + Naming.dataFile(source(), 0, 1)),
        e.getMessage());
    assertFalse(Files.exists(Path.of(output())), "a shard with an unchecked copy must go");
  }

  @Test
  void aDamagedLastTensorIsFoundAfterItsCopyEndedAndTheFileGoes() throws IOException {
    List<PlannedTensor> plan = writeLargeAndSmall();
    damage("t4");
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> ShardExecutor.run(io, source(), plan, output(), 0, 64 << 10, ProgressSink.NONE));
    assertTrue(e.getMessage().startsWith("Checksum mismatch for tensor t4 in "), e.getMessage());
    assertFalse(Files.exists(Path.of(output())));
  }
}
