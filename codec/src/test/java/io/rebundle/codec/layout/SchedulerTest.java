package io.rebundle.codec.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  /** A copy of {@code size} uint8 bytes stored at {@code (shard, offset)} of the source. */
  private static PlannedTensor copy(String name, long size, int shard, long offset) {
    return PlannedTensor.copy(
        Bytes.utf8(name),
        Bytes.utf8("src/" + name),
        BundleEntry.of(DType.UINT8, TensorShape.of(size), shard, offset, size, 0));
  }

  private static PlannedTensor literal(String name, int size) {
    return PlannedTensor.literal(
        Bytes.utf8(name), DType.UINT8, TensorShape.of(size), new byte[size], 0);
  }

  private static List<List<String>> names(List<List<PlannedTensor>> shards) {
    return shards.stream().map(s -> s.stream().map(PlannedTensor::targetName).toList()).toList();
  }

  /** Sizes 100, 90, ..., 10; source offsets in reverse of size order, so offset order differs. */
  private static List<PlannedTensor> seven() {
    long[] sizes = {100, 90, 50, 40, 30, 20, 10};
    List<PlannedTensor> t = new ArrayList<>();
    long offset = 0;
    for (int i = sizes.length - 1; i >= 0; i--) {
      t.add(copy("t" + sizes[i], sizes[i], 0, offset));
      offset += sizes[i];
    }
    return t;
  }

  @Test
  void balancesLargestFirstOntoTheLightestShard() {
    List<List<PlannedTensor>> shards = Scheduler.assign(seven(), 3);
    // 100 -> 0; 90 -> 1; 50 -> 2; 40 -> 2 (50); 30 -> 1 (90, ties go to the lower shard);
    // 20 -> 2 (90); 10 -> 0 (100).
    assertArrayEquals(new long[] {110, 120, 110}, Scheduler.loads(shards));
    // Inside a shard: source order (offsets grow from t10 to t100).
    assertEquals(
        List.of(List.of("t10", "t100"), List.of("t30", "t90"), List.of("t20", "t40", "t50")),
        names(shards));
  }

  @Test
  void putsEveryTensorInOneShardWhenAskedForOne() {
    List<List<PlannedTensor>> shards = Scheduler.assign(seven(), 1);
    assertArrayEquals(new long[] {340}, Scheduler.loads(shards));
    assertEquals(List.of(List.of("t10", "t20", "t30", "t40", "t50", "t90", "t100")), names(shards));
  }

  @Test
  void leavesSurplusShardsEmpty() {
    List<List<PlannedTensor>> shards =
        Scheduler.assign(List.of(copy("a", 5, 0, 0), copy("b", 7, 0, 5)), 3);
    assertEquals(List.of(List.of("b"), List.of("a"), List.of()), names(shards));
  }

  @Test
  void shardCountNeverExceedsTheNumberOfTensors() {
    assertEquals(3, Scheduler.shardCount(340, 128, 7));
    assertEquals(7, Scheduler.shardCount(340, 1, 7));
    assertEquals(1, Scheduler.shardCount(340, 340, 7));
    assertEquals(2, Scheduler.shardCount(341, 340, 7));
    assertEquals(1, Scheduler.shardCount(0, 1024, 0));
    assertEquals(1, Scheduler.shardCount(1L << 40, 1, 1));
    assertEquals(5, Scheduler.shardCount(1L << 40, 1L << 30, 5));
    assertEquals(1024, Scheduler.shardCount(1L << 40, Scheduler.DEFAULT_SHARD_SIZE, 5000));
  }

  @Test
  void rejectsNonPositiveShardSizesAndCounts() {
    IllegalArgumentException size =
        assertThrows(IllegalArgumentException.class, () -> Scheduler.shardCount(1, 0, 1));
    assertEquals("Invalid shard size: 0", size.getMessage());
    IllegalArgumentException count =
        assertThrows(IllegalArgumentException.class, () -> Scheduler.assign(seven(), 0));
    assertEquals("Invalid number of shards: 0", count.getMessage());
  }

  @Test
  void ordersByTheSourceShardThenOffsetWithGeneratedTensorsLast() {
    List<PlannedTensor> t =
        List.of(
            literal("graph", 3),
            copy("x", 4, 1, 0),
            literal("counter", 8),
            copy("y", 4, 0, 100),
            copy("z", 4, 0, 8),
            copy("w", 4, 1, 4));
    List<List<PlannedTensor>> shards = Scheduler.assign(t, 1);
    // Literals keep their size order (counter 8 bytes before graph 3 bytes).
    assertEquals(List.of(List.of("z", "y", "x", "w", "counter", "graph")), names(shards));
  }

  @Test
  void ordersMergesByTheirFirstSlice() {
    TensorShape shape = TensorShape.of(4);
    TensorSlice low = new TensorSlice(List.of(new TensorSlice.Extent(0, 2)));
    TensorSlice high = new TensorSlice(List.of(new TensorSlice.Extent(2, 2)));
    BundleEntry full = BundleEntry.sliced(DType.UINT8, shape, List.of(low, high));
    PlannedTensor merge =
        PlannedTensor.merge(
            Bytes.utf8("m"),
            Bytes.utf8("m"),
            full,
            List.of(
                new PlannedTensor.SlicePart(
                    low,
                    Bytes.utf8("m0"),
                    BundleEntry.of(DType.UINT8, TensorShape.of(2), 0, 50, 2, 0)),
                new PlannedTensor.SlicePart(
                    high,
                    Bytes.utf8("m1"),
                    BundleEntry.of(DType.UINT8, TensorShape.of(2), 0, 10, 2, 0))));
    List<List<PlannedTensor>> shards =
        Scheduler.assign(List.of(copy("a", 4, 0, 60), merge, copy("b", 4, 0, 0)), 1);
    assertEquals(List.of(List.of("b", "m", "a")), names(shards));
  }

  @Test
  void leavesSlicedFullEntriesOut() {
    BundleEntry full =
        BundleEntry.sliced(
            DType.UINT8,
            TensorShape.of(4),
            List.of(new TensorSlice(List.of(new TensorSlice.Extent(0, 4)))));
    PlannedTensor sliced = PlannedTensor.sliced(Bytes.utf8("s"), Bytes.utf8("s"), full);
    List<List<PlannedTensor>> shards = Scheduler.assign(List.of(sliced, copy("a", 4, 0, 0)), 2);
    assertEquals(List.of(List.of("a"), List.of()), names(shards));
  }

  @Test
  void isDeterministicWhateverTheInputOrder() {
    List<PlannedTensor> t = new ArrayList<>();
    Random random = new Random(1);
    for (int i = 0; i < 200; i++) {
      // Many equal sizes: ties are broken by target key, not by input order.
      t.add(
          copy(
              String.format("v%03d", i),
              1 + random.nextInt(5),
              random.nextInt(3),
              random.nextInt(1000)));
    }
    List<List<String>> first = names(Scheduler.assign(t, 7));
    for (int round = 0; round < 5; round++) {
      List<PlannedTensor> shuffled = new ArrayList<>(t);
      Collections.shuffle(shuffled, new Random(round));
      assertEquals(first, names(Scheduler.assign(shuffled, 7)));
    }
    long[] loads = Scheduler.loads(Scheduler.assign(t, 7));
    long max = 0;
    long min = Long.MAX_VALUE;
    for (long l : loads) {
      max = Math.max(max, l);
      min = Math.min(min, l);
    }
    // LPT: no shard exceeds the lightest by more than the largest tensor.
    assertTrue(max - min <= 5, java.util.Arrays.toString(loads));
  }
}
