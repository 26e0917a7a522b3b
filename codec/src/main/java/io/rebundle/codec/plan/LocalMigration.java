package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A whole migration in one process, shard after shard: the same plan, shard executor and commit
 * protocol the Spark job distributes. For libraries, tests and small checkpoints.
 */
public final class LocalMigration {
  private LocalMigration() {}

  public static MigrationPlan run(FileIO io, String source, String destination, MigrationSpec spec,
      int numShards, boolean overwrite) {
    return run(io, source, destination, spec, MappingRules.none(), numShards, overwrite);
  }

  public static MigrationPlan run(FileIO io, String source, String destination, MigrationSpec spec,
      MappingRules rules, int numShards, boolean overwrite) {
    SourceIndex index;
    try (CheckpointReader reader = CheckpointReader.open(io, source)) {
      index = SourceIndex.read(reader);
    }
    MigrationPlan plan = Planner.plan(index, spec, rules);
    List<List<PlannedTensor>> shards = Scheduler.assign(plan.tensors(), numShards);
    Committer committer = new Committer(io, destination, UUID.randomUUID().toString().substring(0, 8));
    try {
      io.mkdirs(committer.stagingDirectory());
      List<ShardExecutor.Result> results = new ArrayList<>();
      for (int i = 0; i < shards.size(); i++) {
        results.add(ShardExecutor.run(io, index.prefix(), shards.get(i), committer.attemptFile(i, "local"), i,
            1 << 20, null));
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
    return plan;
  }
}
