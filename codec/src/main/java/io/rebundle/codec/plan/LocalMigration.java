package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.SupportsHardLinks;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A whole migration in one process, shard after shard: the same plan, file reuse, shard executor and
 * commit protocol the Spark job distributes. For libraries, tests and small checkpoints.
 */
public final class LocalMigration {
  private LocalMigration() {}

  /** What a migration did: its plan and the output layout (reused source files, new shards). */
  public record Result(MigrationPlan plan, FileReuse.Layout layout) {}

  /** Streams every tensor into {@code numShards} new shards (no file reuse). */
  public static MigrationPlan run(FileIO io, String source, String destination, MigrationSpec spec,
      int numShards, boolean overwrite) {
    return run(io, source, destination, spec, MappingRules.none(), numShards, overwrite);
  }

  /** Streams every tensor into {@code numShards} new shards (no file reuse). */
  public static MigrationPlan run(FileIO io, String source, String destination, MigrationSpec spec,
      MappingRules rules, int numShards, boolean overwrite) {
    return run(io, source, destination, spec, rules, numShards, overwrite, FileReuse.Policy.never()).plan();
  }

  /**
   * Migrates reusing source data files as {@code reuse} asks ({@link FileReuse}). {@code numShards}
   * is the number of new shards for what is not reused (0: one per ~1 GiB).
   */
  public static Result run(FileIO io, String source, String destination, MigrationSpec spec,
      MappingRules rules, int numShards, boolean overwrite, FileReuse.Policy reuse) {
    if (reuse.mode() == FileReuse.Mode.LINK && !(io instanceof SupportsHardLinks)) {
      throw WholeFileExecutor.notLinkable(io, destination);
    }
    SourceIndex index;
    try (CheckpointReader reader = CheckpointReader.open(io, source)) {
      index = SourceIndex.read(reader);
    }
    MigrationPlan plan = Planner.plan(index, spec, rules);
    FileReuse.Layout layout = FileReuse.layout(io, plan, index, reuse.mode(), numShards, Scheduler.DEFAULT_SHARD_SIZE);
    Committer committer = new Committer(io, destination, UUID.randomUUID().toString().substring(0, 8));
    try {
      io.mkdirs(committer.stagingDirectory());
      List<ShardExecutor.Result> results = new ArrayList<>();
      FileReuse.Policy how = new FileReuse.Policy(layout.mode(), reuse.verifyCopies());
      byte[] buffer = new byte[1 << 20];
      for (FileReuse.ReusedFile f : layout.reused()) {
        results.add(WholeFileExecutor.run(io, index.prefix(), f, committer.attemptFile(f.targetShard(), "local"), how,
            buffer));
      }
      for (int i = 0; i < layout.newShards().size(); i++) {
        int shard = layout.firstNewShard() + i;
        results.add(ShardExecutor.run(io, index.prefix(), layout.newShards().get(i),
            committer.attemptFile(shard, "local"), shard, buffer.length, null));
      }
      List<IndexRecord> metadata = new ArrayList<>();
      for (PlannedTensor t : plan.tensors()) {
        if (!t.hasData()) {
          metadata.add(new IndexRecord(t.targetKey(), t.toEntry(0, 0, 0)));
        }
      }
      committer.commit(results, metadata, overwrite, true);
    } catch (RuntimeException e) {
      committer.abort();
      throw e;
    }
    return new Result(plan, layout);
  }
}
