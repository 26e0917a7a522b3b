package io.rebundle.codec.migrate;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The in-process engine: a {@link PreparedMigration}'s tasks on a thread pool of this JVM. For
 * libraries, tests and checkpoints that fit one machine; the Spark job is the same with executors.
 */
public final class LocalMigration {
  private LocalMigration() {}

  /** What a migration did: its plan and the output layout (reused source files, new shards). */
  public record Result(MigrationPlan plan, OutputLayout layout) {}

  /** Prepares, runs on {@code threads} threads (0: one per core) and commits {@code request}. */
  public static MigrationResult run(
      FileIO io, MigrationRequest request, ProgressSink progress, int threads) {
    PreparedMigration m = PreparedMigration.prepare(io, request);
    List<TaskOutcome> outcomes;
    try {
      outcomes = runTasks(io, m.tasks(), progress, threads);
    } catch (RuntimeException e) {
      try {
        m.abort();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    return m.commit(outcomes);
  }

  /**
   * Runs {@code tasks} on {@code threads} threads (0: one per core, at most one per task) and
   * returns their outcomes in task order. If one throws, the others are interrupted and awaited
   * before the failure propagates, so nothing still writes into the staging area afterwards.
   */
  public static List<TaskOutcome> runTasks(
      FileIO io, List<MigrationTask> tasks, ProgressSink progress, int threads) {
    return runTasks(io, tasks, progress, threads, t -> {});
  }

  /**
   * As {@link #runTasks(FileIO, List, ProgressSink, int)}, telling {@code finished} of each task
   * that returned an outcome, from the thread that ran it (a progress display counts tasks so).
   */
  public static List<TaskOutcome> runTasks(
      FileIO io,
      List<MigrationTask> tasks,
      ProgressSink progress,
      int threads,
      java.util.function.Consumer<MigrationTask> finished) {
    if (tasks.isEmpty()) {
      return List.of();
    }
    int n =
        Math.max(
            1,
            Math.min(
                tasks.size(), threads > 0 ? threads : Runtime.getRuntime().availableProcessors()));
    if (n == 1) {
      List<TaskOutcome> out = new ArrayList<>();
      for (MigrationTask t : tasks) {
        out.add(t.run(io, "local", progress));
        finished.accept(t);
      }
      return out;
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            n,
            r -> {
              Thread th = new Thread(r, "rebundle-task");
              th.setDaemon(true);
              return th;
            });
    try {
      List<Future<TaskOutcome>> futures = new ArrayList<>();
      for (MigrationTask t : tasks) {
        futures.add(
            pool.submit(
                () -> {
                  TaskOutcome o = t.run(io, "local", progress);
                  finished.accept(t);
                  return o;
                }));
      }
      List<TaskOutcome> out = new ArrayList<>();
      for (Future<TaskOutcome> f : futures) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          if (e.getCause() instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException("Task failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted while waiting for tasks", e);
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
      try {
        if (!pool.awaitTermination(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("Tasks still running 60 s after the migration stopped");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Streams every tensor into {@code numShards} new shards (no file reuse). */
  public static MigrationPlan run(
      FileIO io,
      String source,
      String destination,
      MigrationSpec spec,
      int numShards,
      boolean overwrite) {
    return run(io, source, destination, spec, MappingRules.none(), numShards, overwrite);
  }

  /** Streams every tensor into {@code numShards} new shards (no file reuse). */
  public static MigrationPlan run(
      FileIO io,
      String source,
      String destination,
      MigrationSpec spec,
      MappingRules rules,
      int numShards,
      boolean overwrite) {
    return run(io, source, destination, spec, rules, numShards, overwrite, FileReuse.Policy.never())
        .plan();
  }

  /**
   * Migrates reusing source data files as {@code reuse} asks ({@link FileReuse}). {@code numShards}
   * is the number of new shards for what is not reused (0: one per ~1 GiB).
   */
  public static Result run(
      FileIO io,
      String source,
      String destination,
      MigrationSpec spec,
      MappingRules rules,
      int numShards,
      boolean overwrite,
      FileReuse.Policy reuse) {
    MigrationRequest request =
        new MigrationRequest(
            source,
            destination,
            spec,
            rules,
            numShards,
            Scheduler.DEFAULT_SHARD_SIZE,
            overwrite,
            true,
            null,
            null,
            reuse,
            null);
    MigrationResult r = run(io, request, ProgressSink.NONE, 1);
    return new Result(r.plan(), r.layout());
  }
}
