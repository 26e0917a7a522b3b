package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import java.util.ArrayList;
import java.util.List;

/** Executes an already made plan in one process (what the Spark job does with tasks). */
final class LocalMigrationTestSupport {
  private LocalMigrationTestSupport() {}

  static void execute(FileIO io, MigrationPlan plan, SourceIndex source, String destination) {
    List<List<PlannedTensor>> shards = Scheduler.assign(plan.tensors(), 1);
    Committer c = new Committer(io, destination, "test");
    io.mkdirs(c.stagingDirectory());
    List<ShardExecutor.Result> results = new ArrayList<>();
    for (int i = 0; i < shards.size(); i++) {
      results.add(ShardExecutor.run(io, source.prefix(), shards.get(i), c.attemptFile(i, "t"), i, 1 << 16, null));
    }
    List<IndexRecord> metadata = new ArrayList<>();
    plan.tensors().stream().filter(t -> !t.hasData()).forEach(t -> metadata.add(new IndexRecord(t.targetKey(), t.toEntry(0, 0, 0))));
    c.commit(results, metadata, false, true);
  }
}
