package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Bytes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CheckpointReader#readHead}: the first N elements, reading and holding only those. */
class ReadHeadTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  private static final long HUGE = 536_870_000L; // float32 elements: 2,147,480,000 bytes

  @Test
  void fixedSizeHeadIsThePrefixOfTheRowMajorData() {
    String prefix = dir.resolve("f").toString();
    Tensor full = BundleFixtures.iota(7, 5);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("m", full);
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      Tensor head = r.readHead("m", r.entry("m"), 12);
      assertArrayEquals(new long[] {12}, head.shape().dims());
      assertArrayEquals(Arrays.copyOf(full.data(), 48), head.data());
      Tensor whole = r.readHead("m", r.entry("m"), 35);
      assertArrayEquals(new long[] {35}, whole.shape().dims());
      assertArrayEquals(full.data(), whole.data());
      assertArrayEquals(full.data(), r.readHead("m", r.entry("m"), 1000).data());
    }
  }

  @Test
  void stringHeadKeepsTheFirstStringsAndChecksTheLengths() {
    String prefix = dir.resolve("s").toString();
    List<byte[]> values = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      values.add(("v" + i + "-" + "x".repeat(i * 7)).getBytes(StandardCharsets.UTF_8));
    }
    values.set(3, new byte[0]);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("s", Tensor.ofStrings(TensorShape.of(4, 10), values));
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      Tensor head = r.readHead("s", r.entry("s"), 5);
      assertEquals(5, head.strings().size());
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(values.get(i), head.strings().get(i), "element " + i);
      }
      assertEquals(40, r.readHead("s", r.entry("s"), 40).strings().size());
      // An entry one byte shorter than its lengths promise is refused, head or not.
      BundleEntry e = r.entry("s");
      BundleEntry shorter =
          BundleEntry.of(e.dtype(), e.shape(), e.shardId(), e.offset(), e.size() - 1, e.crc32c());
      CorruptCheckpointException ex =
          assertThrows(CorruptCheckpointException.class, () -> r.readHead("s", shorter, 5));
      assertTrue(ex.getMessage().contains("do not match the entry size"), ex.getMessage());
    }
  }

  @Test
  void slicedHeadReadsOnlyTheLeadingRowsOfEachSlice() {
    String prefix = dir.resolve("sl").toString();
    Tensor full = BundleFixtures.iota(6, 4);
    TensorShape shape = full.shape();
    List<TensorSlice> slices =
        List.of(
            TensorSlice.parse("0,3:0,2"), TensorSlice.parse("0,3:2,2"), TensorSlice.parse("3,3:-"));
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      for (TensorSlice s : slices) {
        w.addSlice(0, "g", shape, s, BundleFixtures.extract(full, s));
      }
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      BundleEntry e = r.entry("g");
      assertTrue(e.isSliced());
      for (int k : new int[] {1, 3, 10, 13, 23}) {
        Tensor head = r.readHead("g", e, k);
        assertArrayEquals(new long[] {k}, head.shape().dims());
        assertArrayEquals(Arrays.copyOf(full.data(), 4 * k), head.data(), "first " + k);
      }
      assertArrayEquals(full.data(), r.readHead("g", e, 24).data());
    }
  }

  /**
   * A sliced tensor that claims 2 GiB and whose slice entries are absent is refused before its
   * memory is allocated: by {@code readHead} and by {@code read}.
   */
  @Test
  void aSlicedTensorClaimingTwoGibWithNoSliceEntriesIsRefusedBeforeAllocating() {
    String prefix = dir.resolve("huge").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.addEntry(
          Bytes.utf8("emb/huge"),
          BundleEntry.sliced(
              DType.FLOAT,
              TensorShape.of(HUGE),
              List.of(
                  TensorSlice.parse("0," + HUGE / 2),
                  TensorSlice.parse(HUGE / 2 + "," + HUGE / 2))));
      w.add("w", BundleFixtures.iota(2));
      w.finish();
    }
    long before = usedHeap();
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      BundleEntry e = r.entry("emb/huge");
      for (boolean head : new boolean[] {true, false}) {
        CorruptCheckpointException ex =
            assertThrows(
                CorruptCheckpointException.class,
                () -> {
                  if (head) {
                    r.readHead("emb/huge", e, 6);
                  } else {
                    r.read("emb/huge", e);
                  }
                });
        assertEquals(
            "Cannot read sliced tensor emb/huge: the entry for slice 0,268435000 is missing from "
                + prefix
                + ".index",
            ex.getMessage());
      }
    }
    assertTrue(usedHeap() - before < (256L << 20), "no 2 GiB buffer was allocated");
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }
}
