package io.rebundle.jobs.convert;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import java.io.PrintWriter;
import java.util.List;

/**
 * Where a prepared migration's tasks run: on a thread pool of this JVM ({@link LocalTaskEngine}) or
 * as one Spark job ({@code io.rebundle.jobs.spark.SparkTaskEngine}). Planning, staging, the commit
 * and the abort are the same code on both ({@link ConvertJob}); an engine only runs tasks. This
 * interface names no Spark type, so the in-process path never loads Spark.
 */
public interface TaskEngine {
  /** The engine's name, as the report records it: {@code local} or {@code spark}. */
  String name();

  /**
   * Runs {@code tasks} and returns their outcomes in task order, showing progress on {@code err}
   * (unless quiet). If a task fails, this returns only once none of the tasks still runs (so
   * nothing writes into the staging area after the caller's abort) and throws the failure, the
   * Rebundle or storage exception itself rather than an engine's wrapper.
   */
  List<TaskOutcome> run(FileIO io, List<MigrationTask> tasks, Job job, PrintWriter err);

  /** Called once the tasks are done, before the commit (the Spark engine relabels its jobs). */
  default void committing(String destination) {}

  /**
   * What the tasks are for: a unique group name, a one-line description (the Spark UI shows it),
   * and whether they are so small that scheduling them costs more than running them (a few KiB of
   * new shards beside reused source files): the Spark engine then runs them on its driver.
   */
  record Job(String group, String description, boolean tiny) {}

  /**
   * Picks the engine once a migration is prepared, when its tasks (and so the bytes to move) are
   * known: {@code --engine auto} decides by their size.
   */
  @FunctionalInterface
  interface Choice {
    TaskEngine forTasks(List<MigrationTask> tasks);

    /** Always {@code engine}. */
    static Choice always(TaskEngine engine) {
      return tasks -> engine;
    }
  }

  /** Bytes the tasks move in all. */
  static long bytes(List<MigrationTask> tasks) {
    return tasks.stream().mapToLong(MigrationTask::bytes).sum();
  }

  /** Tensors the tasks write in all. */
  static long tensors(List<MigrationTask> tasks) {
    return tasks.stream().mapToLong(MigrationTask::tensors).sum();
  }

  /** The progress line's detail, the same on every engine. */
  static String progressDetail(long tensors, long totalTensors, int tasksDone, int totalTasks) {
    return String.format(
        "%d of %d tensors, tasks %d/%d", tensors, totalTensors, tasksDone, totalTasks);
  }
}
