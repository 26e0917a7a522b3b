package io.rebundle.codec.migrate;

import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.commit.Committer;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.exec.ShardExecutor;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.SourceIndex;
import java.util.ArrayList;
import java.util.List;

/** Executes an already made plan in one process (what the Spark job does with tasks). */
public final class LocalMigrationTestSupport {
  private LocalMigrationTestSupport() {}

  public static void execute(
      FileIO io, MigrationPlan plan, SourceIndex source, String destination) {
    List<List<PlannedTensor>> shards = Scheduler.assign(plan.tensors(), 1);
    Committer c = new Committer(io, destination, "test");
    io.mkdirs(c.stagingDirectory());
    List<StagedShard> results = new ArrayList<>();
    for (int i = 0; i < shards.size(); i++) {
      results.add(
          ShardExecutor.run(
              io,
              source.prefix(),
              shards.get(i),
              c.attemptFile(i, "t"),
              i,
              1 << 16,
              ProgressSink.NONE));
    }
    List<IndexRecord> metadata = new ArrayList<>();
    plan.tensors().stream()
        .filter(t -> !t.hasData())
        .forEach(t -> metadata.add(new IndexRecord(t.targetKey(), t.toEntry(0, 0, 0))));
    c.commit(results, metadata, false, true);
  }
}
