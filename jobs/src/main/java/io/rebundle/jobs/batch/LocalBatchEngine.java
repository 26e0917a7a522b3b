package io.rebundle.jobs.batch;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The batch's in-process engine: the tasks of one call run on a thread pool of this JVM ({@link
 * LocalMigration#runTasks}), one thread per core up to {@code threads}, with no Spark. Thread-safe:
 * concurrent calls (the runner's job threads) get pools of their own.
 */
public final class LocalBatchEngine implements BatchEngine {
  private final FileIO io;
  private final int threads;
  private final AtomicLong moved = new AtomicLong();

  public LocalBatchEngine(FileIO io, int threads) {
    this.io = io;
    this.threads = threads;
  }

  /** Bytes the tasks of every call have moved so far. */
  public long moved() {
    return moved.get();
  }

  @Override
  public ProgressSink progress(BatchProgress progress) {
    progress.watch(moved::get);
    return new Counter(moved);
  }

  @Override
  public List<List<TaskOutcome>> run(
      List<List<MigrationTask>> migrations, String description, ProgressSink progress) {
    List<MigrationTask> all = new ArrayList<>();
    migrations.forEach(all::addAll);
    List<TaskOutcome> outcomes = LocalMigration.runTasks(io, all, progress, threads);
    // Outcomes come back in task order: each migration's are the next tasks().size() of them.
    List<List<TaskOutcome>> out = new ArrayList<>();
    int at = 0;
    for (List<MigrationTask> m : migrations) {
      out.add(new ArrayList<>(outcomes.subList(at, at + m.size())));
      at += m.size();
    }
    return out;
  }

  /** Counts moved bytes for the batch's progress line. */
  private record Counter(AtomicLong bytes) implements ProgressSink {
    @Override
    public void bytes(long n) {
      bytes.addAndGet(n);
    }

    @Override
    public void tensors(long n) {}
  }
}
