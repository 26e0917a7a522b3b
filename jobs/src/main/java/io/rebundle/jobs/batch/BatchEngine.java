package io.rebundle.jobs.batch;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import java.util.List;

/**
 * Runs the tasks of several prepared migrations together, as one job: tiny checkpoints share a job
 * instead of paying a start-up each, and a big one still spreads over its shard tasks. The batch
 * runner calls it from several threads at once (one job per call); implementations are thread-safe.
 */
public interface BatchEngine {
  /**
   * Runs every task of {@code migrations} (one list per migration) and returns their outcomes, one
   * list per migration in the same order (a task's outcome at its task's position). Throws if the
   * job failed (a task threw after its retries): the caller then retries the migrations one by one
   * to find the failing one. {@code description} names the job (Spark UI).
   */
  List<List<TaskOutcome>> run(
      List<List<MigrationTask>> migrations, String description, ProgressSink progress);

  /**
   * The progress sink that {@link #run} callers should pass: one that reaches the driver from
   * wherever tasks run.
   */
  ProgressSink progress(BatchProgress progress);
}
