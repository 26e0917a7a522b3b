package io.rebundle.codec.migrate;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.util.function.UnaryOperator;

/**
 * The conversion {@link KillTest} runs in a JVM of its own, so that it can kill it: {@code SRC DST
 * OVERWRITE SHARDS}. Prepares, runs the tasks and commits as {@code convert} does, printing the
 * warnings (recovery reports) to stderr and "committed" at the end.
 */
public final class KillTestMain {
  private KillTestMain() {}

  public static void main(String[] args) {
    LocalFileIO io = new LocalFileIO();
    MigrationRequest request =
        new MigrationRequest(
            args[0],
            args[1],
            MigrationSpec.to(CheckpointFormat.TF2),
            MappingRules.none(),
            Integer.parseInt(args[3]),
            Scheduler.DEFAULT_SHARD_SIZE,
            Boolean.parseBoolean(args[2]),
            true,
            null,
            null,
            null,
            null);
    PreparedMigration m =
        PreparedMigration.prepare(
            io, request, w -> System.err.println("warning: " + w), UnaryOperator.identity());
    m.commit(LocalMigration.runTasks(io, m.tasks(), ProgressSink.NONE, 1));
    System.out.println("committed");
  }
}
