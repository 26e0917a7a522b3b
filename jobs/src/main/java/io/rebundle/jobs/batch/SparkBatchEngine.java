package io.rebundle.jobs.batch;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import io.rebundle.jobs.spark.AccumulatorProgress;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * The batch's engine in one Spark application: the tasks of the migrations of one call become the
 * partitions of one job (one task each), so a job carries many small checkpoints or the shards of a
 * big one. Spark runs the jobs of concurrent calls side by side (the runner calls from several
 * threads). Thread-safe.
 */
public final class SparkBatchEngine implements BatchEngine {
  private final JavaSparkContext sc;
  private final FileIO io;
  private final LongAccumulator bytes;
  private final LongAccumulator tensors;
  private final AtomicLong jobs = new AtomicLong();

  public SparkBatchEngine(JavaSparkContext sc, FileIO io) {
    this.sc = sc;
    this.io = io;
    this.bytes = sc.sc().longAccumulator("rebundle.batch.bytes");
    this.tensors = sc.sc().longAccumulator("rebundle.batch.tensors");
  }

  /** One task and the migration (position in the call) it belongs to. */
  record Keyed(int migration, MigrationTask task) implements Serializable {}

  /** One outcome and the migration it belongs to. */
  record KeyedOutcome(int migration, TaskOutcome outcome) implements Serializable {}

  @Override
  public ProgressSink progress(BatchProgress progress) {
    progress.watch(() -> bytes.value());
    return new AccumulatorProgress(bytes, tensors);
  }

  /** Bytes the tasks of every job have moved so far, as the driver knows them. */
  public long moved() {
    return bytes.value();
  }

  /** Spark jobs this engine ran (tests prove tiny rows share jobs). */
  public long jobs() {
    return jobs.get();
  }

  @Override
  public List<List<TaskOutcome>> run(
      List<List<MigrationTask>> migrations, String description, ProgressSink progress) {
    List<Keyed> keyed = new ArrayList<>();
    for (int i = 0; i < migrations.size(); i++) {
      for (MigrationTask t : migrations.get(i)) {
        keyed.add(new Keyed(i, t));
      }
    }
    List<List<TaskOutcome>> out = new ArrayList<>();
    for (int i = 0; i < migrations.size(); i++) {
      out.add(new ArrayList<>());
    }
    if (keyed.isEmpty()) {
      return out;
    }
    List<KeyedOutcome> outcomes;
    if (keyed.size() == 1 && keyed.get(0).task().bytes() <= DRIVER_TASK_MAX_BYTES) {
      // One tiny task: running it here costs less than scheduling it.
      outcomes =
          List.of(
              new KeyedOutcome(
                  keyed.get(0).migration(),
                  LocalMigration.runTasks(io, List.of(keyed.get(0).task()), progress, 1).get(0)));
    } else {
      FileIO fileIO = io;
      String group = "rebundle-batch-job-" + jobs.incrementAndGet();
      sc.setJobGroup(group, description, true);
      try {
        outcomes =
            sc.parallelize(keyed, keyed.size())
                .map(
                    k -> new KeyedOutcome(k.migration(), k.task().run(fileIO, attempt(), progress)))
                .collect();
      } catch (Exception e) {
        // Exception: a failed task arrives as Spark's checked SparkException, which collect() does
        // not declare.
        sc.cancelJobGroup(group);
        throw e instanceof RuntimeException r ? r : new JobFailedException(description, e);
      } finally {
        sc.clearJobGroup();
      }
    }
    // collect() keeps partition order, and each migration's tasks are contiguous and in order.
    for (KeyedOutcome k : outcomes) {
      out.get(k.migration()).add(k.outcome());
    }
    return out;
  }

  /** A Spark job of the batch failed; the cause is Spark's exception. */
  public static final class JobFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    JobFailedException(String description, Exception cause) {
      super("Cannot run Spark job '" + description + "': " + cause.getMessage(), cause);
    }
  }

  /** A single task this small runs on the driver (save_counter and an object graph, typically). */
  static final long DRIVER_TASK_MAX_BYTES = 1L << 20;

  private static String attempt() {
    TaskContext ctx = TaskContext.get();
    return ctx == null ? "local" : ctx.stageAttemptNumber() + "-" + ctx.taskAttemptId();
  }
}
