package io.rebundle.codec.migrate;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.exec.SafetensorsShardExecutor;
import io.rebundle.codec.exec.ShardExecutor;
import io.rebundle.codec.exec.WholeFileExecutor;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.Serializable;
import java.util.List;

/**
 * One independent unit of a migration: makes exactly one output data file in the staging area.
 * Serializable, so any engine can run it anywhere that reaches the storage (a Spark executor, a
 * thread of this process). Running it twice is safe: each attempt writes its own file.
 */
public sealed interface MigrationTask extends Serializable {
  /** Streaming buffer of each task. */
  int BUFFER_SIZE = 4 << 20;

  /** The output shard this task makes. */
  int shard();

  /** Bytes the task moves (for progress totals). */
  long bytes();

  /** Tensors the task writes. */
  int tensors();

  /**
   * Makes the file as attempt {@code attempt} (unique per try, e.g. Spark's task attempt id),
   * reporting bytes to {@code progress} as they move. Corrupt or unsupported input found on the way
   * is returned as a {@link TaskOutcome.InputProblem}; storage failures and bugs are thrown (an
   * engine may retry them).
   */
  default TaskOutcome run(FileIO io, String attempt, ProgressSink progress) {
    long start = System.nanoTime();
    try {
      return new TaskOutcome.Done(write(io, attempt, progress), System.nanoTime() - start);
    } catch (CorruptCheckpointException | UnsupportedCheckpointException e) {
      return TaskOutcome.InputProblem.of(shard(), e);
    }
  }

  /** Writes the file; see {@link #run}. */
  StagedShard write(FileIO io, String attempt, ProgressSink progress);

  /** A task that writes one new output file of planned tensors, in order. */
  sealed interface NewShard extends MigrationTask {
    List<PlannedTensor> planned();

    @Override
    default long bytes() {
      return planned().stream().mapToLong(PlannedTensor::size).sum();
    }

    @Override
    default int tensors() {
      return planned().size();
    }
  }

  /** A new shard: {@code tensors} streamed from {@code sourcePrefix}, in order. */
  record WriteShard(
      int shard, List<PlannedTensor> planned, String sourcePrefix, StagingArea staging)
      implements NewShard {
    public WriteShard {
      planned = List.copyOf(planned);
    }

    @Override
    public StagedShard write(FileIO io, String attempt, ProgressSink progress) {
      return ShardExecutor.run(
          io,
          sourcePrefix,
          planned,
          staging.attemptFile(shard, attempt),
          shard,
          BUFFER_SIZE,
          progress);
    }
  }

  /**
   * A new shard whose tensors come from a safetensors model at {@code sourceLocation} (a file, an
   * index json or a model directory), streamed in ranges with their CRC32C computed on the way. See
   * {@link SafetensorsImport}.
   */
  record ImportShard(
      int shard, List<PlannedTensor> planned, String sourceLocation, StagingArea staging)
      implements NewShard {
    public ImportShard {
      planned = List.copyOf(planned);
    }

    @Override
    public StagedShard write(FileIO io, String attempt, ProgressSink progress) {
      return SafetensorsShardExecutor.run(
          io,
          sourceLocation,
          planned,
          staging.attemptFile(shard, attempt),
          shard,
          BUFFER_SIZE,
          progress);
    }
  }

  /**
   * One safetensors output file: {@code planned} (already in the file's order) streamed from {@code
   * sourcePrefix} under {@code metadata}; the header is rebuilt here from the plan, so it is the
   * one the driver laid out. See {@link SafetensorsExport}.
   */
  record WriteSafetensors(
      int shard,
      String name,
      java.util.Map<String, String> metadata,
      List<PlannedTensor> planned,
      String sourcePrefix,
      StagingArea staging)
      implements NewShard {
    public WriteSafetensors {
      planned = List.copyOf(planned);
      metadata = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata));
    }

    @Override
    public StagedShard write(FileIO io, String attempt, ProgressSink progress) {
      return SafetensorsExport.writeFile(
          io, this, staging.attemptFile(shard, attempt), BUFFER_SIZE, progress);
    }
  }

  /**
   * A reused source data file, copied whole ({@code policy} says whether its CRCs are read first).
   */
  record CopyFile(
      FileReuse.ReusedFile file, FileReuse.Policy policy, String sourcePrefix, StagingArea staging)
      implements MigrationTask {
    @Override
    public int shard() {
      return file.targetShard();
    }

    @Override
    public long bytes() {
      return file.bytes();
    }

    @Override
    public int tensors() {
      return file.tensors().size();
    }

    @Override
    public StagedShard write(FileIO io, String attempt, ProgressSink progress) {
      byte[] buffer = policy.verifyCopies() ? new byte[BUFFER_SIZE] : new byte[0];
      return WholeFileExecutor.run(
          io, sourcePrefix, file, staging.attemptFile(shard(), attempt), policy, buffer, progress);
    }
  }

  /**
   * A reused source data file the driver already hard-linked at {@code linked}: the task only reads
   * its tensors and checks every CRC32C ({@code --link --verify-copies}), in parallel with the
   * others.
   */
  record VerifyLinked(FileReuse.ReusedFile file, String linked, String sourcePrefix)
      implements MigrationTask {
    @Override
    public int shard() {
      return file.targetShard();
    }

    @Override
    public long bytes() {
      return file.bytes();
    }

    @Override
    public int tensors() {
      return file.tensors().size();
    }

    @Override
    public StagedShard write(FileIO io, String attempt, ProgressSink progress) {
      WholeFileExecutor.verify(io, sourcePrefix, file, new byte[BUFFER_SIZE]);
      progress.bytes(file.bytes());
      progress.tensors(file.tensors().size());
      return new StagedShard(file.targetShard(), linked, file.entries(), file.bytes());
    }
  }
}
