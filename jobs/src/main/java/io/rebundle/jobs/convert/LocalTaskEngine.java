package io.rebundle.jobs.convert;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import io.rebundle.jobs.cli.Progress;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process engine: a migration's tasks on a thread pool of this JVM ({@link
 * LocalMigration#runTasks}), one thread per core up to {@value #MAX_THREADS}, with no Spark at all.
 * For one machine it does what Spark's {@code local[*]} does without the ~2.5 s of starting Spark.
 * Progress is rendered by the same {@link Progress} line as the Spark engine's, with the same
 * detail.
 */
public final class LocalTaskEngine implements TaskEngine {
  /** More threads than this rarely help one disk or one network link. */
  public static final int MAX_THREADS = 16;

  private final int threads;
  private final boolean showProgress;

  /** {@code threads} 0: one per core, at most {@value #MAX_THREADS}. */
  public LocalTaskEngine(int threads, boolean showProgress) {
    this.threads =
        threads > 0
            ? threads
            : Math.min(MAX_THREADS, Math.max(1, Runtime.getRuntime().availableProcessors()));
    this.showProgress = showProgress;
  }

  @Override
  public String name() {
    return "local";
  }

  /** Threads the pool gets (fewer when there are fewer tasks). */
  public int threads() {
    return threads;
  }

  @Override
  public List<TaskOutcome> run(FileIO io, List<MigrationTask> tasks, Job job, PrintWriter err) {
    if (tasks.isEmpty()) {
      return List.of();
    }
    long totalTensors = TaskEngine.tensors(tasks);
    Progress progress = Progress.create(err, "convert", TaskEngine.bytes(tasks), !showProgress);
    Counter counter = new Counter(progress, totalTensors, tasks.size());
    try {
      return LocalMigration.runTasks(io, tasks, counter, threads, t -> counter.taskDone());
    } finally {
      progress.finish();
    }
  }

  /** Counts what the pool's threads report and feeds the progress line. */
  private static final class Counter implements ProgressSink {
    private static final long serialVersionUID = 1L;

    /** Between two updates of the line; {@link Progress} throttles its rendering again. */
    private static final long UPDATE_NANOS = 50_000_000L;

    private final transient Progress progress;
    private final long totalTensors;
    private final int totalTasks;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong tensors = new AtomicLong();
    private final AtomicInteger tasksDone = new AtomicInteger();
    private final AtomicLong lastUpdate = new AtomicLong(System.nanoTime());

    Counter(Progress progress, long totalTensors, int totalTasks) {
      this.progress = progress;
      this.totalTensors = totalTensors;
      this.totalTasks = totalTasks;
    }

    @Override
    public void bytes(long n) {
      bytes.addAndGet(n);
      long now = System.nanoTime();
      long last = lastUpdate.get();
      if (now - last >= UPDATE_NANOS && lastUpdate.compareAndSet(last, now)) {
        update();
      }
    }

    @Override
    public void tensors(long n) {
      tensors.addAndGet(n);
    }

    void taskDone() {
      tasksDone.incrementAndGet();
      update();
    }

    private void update() {
      progress.update(
          bytes.get(),
          TaskEngine.progressDetail(tensors.get(), totalTensors, tasksDone.get(), totalTasks));
    }
  }
}
