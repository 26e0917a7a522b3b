package io.rebundle.codec.layout;

import io.rebundle.codec.plan.PlannedTensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Assigns output tensors to output shards, balanced by bytes: largest first, each to the currently
 * lightest shard (LPT), never splitting a tensor. Inside a shard tensors are ordered by source
 * location (shard, offset) so each task reads its sources sequentially; generated tensors go last.
 */
public final class Scheduler {
  /** Default target size of one output shard. */
  public static final long DEFAULT_SHARD_SIZE = 1L << 30;

  private Scheduler() {}

  /**
   * The number of shards for {@code totalBytes} at {@code shardSize}, at least 1, at most {@code
   * tensors}.
   */
  public static int shardCount(long totalBytes, long shardSize, long tensors) {
    if (shardSize <= 0) {
      throw new IllegalArgumentException("Invalid shard size: " + shardSize);
    }
    long n = Math.max(1, (totalBytes + shardSize - 1) / shardSize);
    return (int) Math.max(1, Math.min(n, Math.max(1, Math.min(tensors, 100_000))));
  }

  public static List<List<PlannedTensor>> assign(List<PlannedTensor> tensors, int numShards) {
    if (numShards < 1) {
      throw new IllegalArgumentException("Invalid number of shards: " + numShards);
    }
    List<PlannedTensor> data =
        new ArrayList<>(tensors.stream().filter(PlannedTensor::hasData).toList());
    data.sort(
        Comparator.comparingLong(PlannedTensor::size)
            .reversed()
            .thenComparing(t -> t.targetKey(), java.util.Arrays::compareUnsigned));
    List<List<PlannedTensor>> shards = new ArrayList<>();
    PriorityQueue<long[]> load =
        new PriorityQueue<>(
            (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    for (int i = 0; i < numShards; i++) {
      shards.add(new ArrayList<>());
      load.add(new long[] {0, i});
    }
    for (PlannedTensor t : data) {
      long[] lightest = load.poll();
      shards.get((int) lightest[1]).add(t);
      lightest[0] += t.size();
      load.add(lightest);
    }
    for (List<PlannedTensor> shard : shards) {
      shard.sort(
          Comparator.comparingInt(Scheduler::sourceShard)
              .thenComparingLong(Scheduler::sourceOffset));
    }
    return shards;
  }

  private static int sourceShard(PlannedTensor t) {
    if (t instanceof PlannedTensor.Copy c) {
      return c.sourceEntry().shardId();
    }
    if (t instanceof PlannedTensor.MergedSlices m) {
      return m.parts().isEmpty() ? 0 : m.parts().get(0).entry().shardId();
    }
    return Integer.MAX_VALUE;
  }

  private static long sourceOffset(PlannedTensor t) {
    if (t instanceof PlannedTensor.Copy c) {
      return c.sourceEntry().offset();
    }
    if (t instanceof PlannedTensor.MergedSlices m) {
      return m.parts().isEmpty() ? 0 : m.parts().get(0).entry().offset();
    }
    return Long.MAX_VALUE;
  }

  /** Bytes per shard, for reports. */
  public static long[] loads(List<List<PlannedTensor>> shards) {
    long[] l = new long[shards.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = shards.get(i).stream().mapToLong(PlannedTensor::size).sum();
    }
    return l;
  }
}
