package io.rebundle.codec.layout;

import io.rebundle.codec.plan.PlannedTensor;
import java.io.Serializable;
import java.util.List;

/**
 * The output's data files: {@code reused} source files as shards {@code 0..k-1}, then {@code
 * newShards} (tensors per shard) as shards {@code k..}. {@code mode} is how the reused files are
 * made ({@link FileReuse.Mode#COPY} or {@link FileReuse.Mode#LINK}; {@link FileReuse.Mode#NEVER}
 * when none are), {@code reason} says why in a sentence, {@code rejected} lists the source files
 * that did not qualify (empty when none were examined).
 */
public record OutputLayout(
    FileReuse.Mode mode,
    String reason,
    List<FileReuse.ReusedFile> reused,
    List<List<PlannedTensor>> newShards,
    List<FileReuse.Rejected> rejected)
    implements Serializable {
  public OutputLayout {
    if (mode == FileReuse.Mode.AUTO || (mode == FileReuse.Mode.NEVER) != reused.isEmpty()) {
      throw new IllegalArgumentException(
          "Invalid layout: mode " + mode + " with " + reused.size() + " reused files");
    }
    reused = List.copyOf(reused);
    newShards = newShards.stream().map(List::copyOf).toList();
    rejected = List.copyOf(rejected);
  }

  public int numShards() {
    return reused.size() + newShards.size();
  }

  /** The output shard number of {@code newShards().get(0)}. */
  public int firstNewShard() {
    return reused.size();
  }

  public long reusedBytes() {
    return reused.stream().mapToLong(FileReuse.ReusedFile::bytes).sum();
  }

  /** Bytes per output shard. */
  public long[] loads() {
    long[] loads = new long[numShards()];
    for (int i = 0; i < reused.size(); i++) {
      loads[i] = reused.get(i).bytes();
    }
    long[] fresh = Scheduler.loads(newShards);
    System.arraycopy(fresh, 0, loads, reused.size(), fresh.length);
    return loads;
  }

  /** Tensors with bytes per output shard. */
  public long[] counts() {
    long[] counts = new long[numShards()];
    for (int i = 0; i < reused.size(); i++) {
      counts[i] = reused.get(i).tensors().size();
    }
    for (int i = 0; i < newShards.size(); i++) {
      counts[reused.size() + i] = newShards.get(i).size();
    }
    return counts;
  }
}
