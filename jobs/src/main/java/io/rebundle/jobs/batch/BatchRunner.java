package io.rebundle.jobs.batch;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointLocator;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.codec.migrate.MigrationResult;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.PreparedMigration;
import io.rebundle.codec.migrate.TaskOutcome;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Runs the rows of a batch in one application, each row as its {@code convert} command line would
 * run it, with three additions: success records (a row already done is skipped, deciding from
 * indexes and records only), isolated failures (a failing row leaves nothing at its dst and the
 * others go on), and shared jobs (the tasks of several small rows run in one engine job).
 *
 * <p>How rows flow: at most {@code parallel} rows are in flight (prepared and not yet final); they
 * are prepared (source fingerprint, success record check, {@link PreparedMigration#prepare}) on a
 * pool of {@code prepareThreads}; prepared rows wait until one of {@code concurrentJobs} job slots
 * is free, and then everything waiting goes into that job (rows above {@code groupMaxBytes} alone),
 * so the less the engine keeps up, the more rows share a job. Each row commits as soon as its job's
 * tasks are done, and writes its success record. A job that fails retries its rows one by one, so
 * one bad row fails alone.
 *
 * <p>Crash safety: before a row's output is staged, a {@code started} record marks the destination
 * as the batch's (when it had none); the output appears only by the core's commit (index last);
 * then the record becomes {@code committed}. A run killed anywhere leaves either nothing, staging
 * files (under names no reader takes for a checkpoint, removed when the row is redone), or a
 * destination marked as the batch's, which the next run replaces. Not thread-safe: one run at a
 * time per runner; results go to {@code listener} on the calling thread.
 */
public final class BatchRunner {
  /**
   * {@code parallel}: rows in flight; {@code maxFailures}: stop starting rows after this many
   * failed (0: never); {@code force}: redo rows whose success record matches.
   */
  public record Options(
      int parallel,
      int maxFailures,
      boolean force,
      int prepareThreads,
      int concurrentJobs,
      long groupMaxBytes,
      int groupMaxRows) {
    public static final long DEFAULT_GROUP_MAX_BYTES = 256L << 20;
    public static final int DEFAULT_GROUP_MAX_ROWS = 256;

    public Options {
      if (parallel < 1
          || maxFailures < 0
          || prepareThreads < 1
          || concurrentJobs < 1
          || groupMaxBytes < 1
          || groupMaxRows < 1) {
        throw new IllegalArgumentException(
            "Invalid batch options: parallel "
                + parallel
                + ", max failures "
                + maxFailures
                + ", prepare threads "
                + prepareThreads
                + ", jobs "
                + concurrentJobs);
      }
    }

    /** The defaults for {@code parallel} rows in flight. */
    public static Options of(int parallel, int maxFailures, boolean force) {
      return new Options(
          parallel,
          maxFailures,
          force,
          Math.min(parallel, 8),
          Math.max(1, Math.min(4, parallel)),
          DEFAULT_GROUP_MAX_BYTES,
          DEFAULT_GROUP_MAX_ROWS);
    }
  }

  /** Receives each row's final result, on the thread that called {@link #run}. */
  public interface Listener {
    void row(RowResult result);
  }

  private final FileIO io;
  private final BatchEngine engine;
  private final UnaryOperator<String> taskLocations;
  private final Options options;
  private final BatchProgress progress;
  private final Listener listener;
  private final Consumer<String> warnings;
  private final Function<Throwable, String> errorKinds;
  private final String tool;
  private final String runId = StagingArea.newRunId();
  private final Map<String, String> templateFingerprints = new ConcurrentHashMap<>();

  /**
   * {@code taskLocations}: as for {@link PreparedMigration#prepare} (absolute locations for
   * executors); {@code errorKinds}: a failure's kind for reports (corrupt, usage, storage,
   * internal); {@code tool}: the name and version written into success records.
   */
  public BatchRunner(
      FileIO io,
      BatchEngine engine,
      UnaryOperator<String> taskLocations,
      Options options,
      BatchProgress progress,
      Listener listener,
      Consumer<String> warnings,
      Function<Throwable, String> errorKinds,
      String tool) {
    this.io = io;
    this.engine = engine;
    this.taskLocations = taskLocations;
    this.options = options;
    this.progress = progress;
    this.listener = listener;
    this.warnings = warnings;
    this.errorKinds = errorKinds;
    this.tool = tool;
  }

  /** The id of this runner's run (in success records and staging names). */
  public String runId() {
    return runId;
  }

  /** One output of a row being run: its migration and the record that marks it. */
  private record Output(
      PreparedMigration migration,
      SuccessRecord record,
      String recordLocation,
      boolean wroteRecord,
      boolean hadRecord) {}

  /** A row in flight. */
  private final class Work {
    final BatchRow row;

    /** Position in the list being run. */
    final int position;

    final long startNanos = System.nanoTime();
    final List<Output> outputs = new ArrayList<>();
    final List<String> skippedOutputs = new ArrayList<>();
    List<MigrationTask> tasks = List.of();
    long taskBytes;

    /** Set by the thread that last touched the row; read after it comes back through the queue. */
    RowResult result;

    /** The last row of a job, when it comes back: the job's slot is free again. */
    boolean endsJob;

    Work(BatchRow row, int position) {
      this.row = row;
      this.position = position;
    }

    double seconds() {
      return (System.nanoTime() - startNanos) / 1e9;
    }
  }

  /** Runs {@code rows} and returns one result per row, in order. */
  public List<RowResult> run(List<BatchRow> rows) {
    ExecutorService prepare =
        Executors.newFixedThreadPool(options.prepareThreads(), daemon("rebundle-batch-prepare"));
    ExecutorService jobs =
        Executors.newFixedThreadPool(options.concurrentJobs(), daemon("rebundle-batch-job"));
    // Rows come back here from the pools: prepared (result null) or final; the last row of a job
    // says so.
    LinkedBlockingQueue<Work> back = new LinkedBlockingQueue<>();
    RowResult[] results = new RowResult[rows.size()];
    ArrayDeque<Work> ready = new ArrayDeque<>();
    String stopReason = "not run: --max-failures " + options.maxFailures() + " reached";
    int next = 0;
    int inFlight = 0;
    int runningJobs = 0;
    int failures = 0;
    boolean stopped = false;
    try {
      while (true) {
        while (!stopped && inFlight < options.parallel() && next < rows.size()) {
          Work w = new Work(rows.get(next), next);
          next++;
          inFlight++;
          prepare.execute(
              () -> {
                try {
                  prepare(w);
                } catch (RuntimeException | Error e) {
                  w.result = fail(w, e);
                } finally {
                  back.add(w);
                }
              });
        }
        if (stopped) {
          while (!ready.isEmpty()) {
            Work r = ready.poll();
            abortAll(r);
            r.result = RowResult.notRun(r.row, stopReason);
            back.add(r);
          }
        }
        while (!ready.isEmpty() && runningJobs < options.concurrentJobs()) {
          List<Work> group = group(ready);
          runningJobs++;
          jobs.execute(
              () -> {
                try {
                  runGroup(group);
                } catch (RuntimeException | Error e) {
                  for (Work g : group) {
                    if (g.result == null) {
                      g.result = fail(g, e);
                    }
                  }
                } finally {
                  group.get(group.size() - 1).endsJob = true;
                  back.addAll(group);
                }
              });
        }
        if (inFlight == 0 && (stopped || next == rows.size())) {
          break;
        }
        // Wait for something to come back, then take everything that did.
        Work w = back.take();
        do {
          if (w.endsJob) {
            runningJobs--;
            w.endsJob = false;
          }
          if (w.result == null && stopped) {
            abortAll(w);
            w.result = RowResult.notRun(w.row, stopReason);
          }
          if (w.result == null) {
            ready.add(w);
            progress.prepared(w.taskBytes);
            continue;
          }
          results[w.position] = w.result;
          inFlight--;
          if (w.result.status() == RowResult.Status.FAILED) {
            failures++;
            stopped |= options.maxFailures() > 0 && failures >= options.maxFailures();
          }
          progress.done(w.result);
          listener.row(w.result);
        } while ((w = back.poll()) != null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running the batch", e);
    } finally {
      prepare.shutdownNow();
      jobs.shutdownNow();
    }
    for (int i = next; i < rows.size(); i++) {
      RowResult r = RowResult.notRun(rows.get(i), stopReason);
      results[i] = r;
      progress.done(r);
      listener.row(r);
    }
    progress.finish();
    return List.of(results);
  }

  /**
   * The next job's rows: the first waiting row, and if it is small, every small row waiting after
   * it (bounded).
   */
  private List<Work> group(ArrayDeque<Work> ready) {
    List<Work> group = new ArrayList<>();
    Work first = ready.poll();
    group.add(first);
    long bytes = first.taskBytes;
    if (bytes > options.groupMaxBytes()) {
      return group;
    }
    while (!ready.isEmpty()
        && group.size() < options.groupMaxRows()
        && bytes + ready.peek().taskBytes <= options.groupMaxBytes()) {
      Work w = ready.poll();
      bytes += w.taskBytes;
      group.add(w);
    }
    return group;
  }

  // ---- preparation (pool threads)

  /**
   * Decides each output of the row from metadata (skip when its record matches), and prepares the
   * others: staged, with a {@code started} record where the destination had none.
   */
  private void prepare(Work w) {
    BatchRow row = w.row;
    try {
      for (MigrationRequest request : row.requests()) {
        String prefix = CheckpointLocator.resolve(io, request.source()).prefix();
        String sourceFingerprint = Fingerprints.checkpoint(io, prefix);
        String templateFingerprint =
            row.template() == null
                ? null
                : templateFingerprints.computeIfAbsent(
                    row.template(),
                    t -> Fingerprints.checkpoint(io, CheckpointLocator.resolve(io, t).prefix()));
        String spec =
            Fingerprints.spec(
                row.row().convertArgs(),
                request.destination(),
                row.mappingFile(),
                templateFingerprint);
        String out = PreparedMigration.destinationPrefix(io, request.destination(), prefix);
        String recordLocation = SuccessRecord.location(out);
        SuccessRecord.Found found = SuccessRecord.read(io, recordLocation);
        if (!options.force()
            && found.record().isPresent()
            && found.record().get().matches(sourceFingerprint, spec, outputFingerprint(out))) {
          w.skippedOutputs.add(out);
          continue;
        }
        if (found.problem() != null) {
          warnings.accept(row.row().where() + ": " + found.problem() + "; redoing the row");
        }
        // A destination marked by a batch record (of any state) is the batch's own: replacing it is
        // what finishing or redoing the row means. Any other existing destination needs the row's
        // overwrite.
        MigrationRequest r =
            found.present() && !request.overwrite() ? withOverwrite(request) : request;
        SuccessRecord record =
            new SuccessRecord(
                SuccessRecord.STARTED,
                tool,
                request.source(),
                out,
                sourceFingerprint,
                spec,
                null,
                runId,
                System.currentTimeMillis());
        // The record comes first, so that whatever a kill leaves (staging, a half-committed output)
        // is
        // marked as this batch's and the next run cleans or replaces it.
        boolean write = !found.present();
        if (write) {
          record.write(io, recordLocation);
        }
        PreparedMigration m;
        try {
          m =
              PreparedMigration.prepare(
                  io,
                  r,
                  warning -> warnings.accept(row.row().where() + ": " + warning),
                  taskLocations);
        } catch (RuntimeException e) {
          if (write) {
            deleteQuietly(recordLocation, e);
          }
          throw e;
        }
        w.outputs.add(new Output(m, record, recordLocation, write, found.present()));
      }
    } catch (RuntimeException e) {
      abortAll(w);
      throw e;
    }
    if (w.outputs.isEmpty()) {
      w.result =
          RowResult.skipped(
              row,
              "up to date: its success record matches its source, spec and output",
              w.seconds(),
              w.skippedOutputs);
      return;
    }
    List<MigrationTask> tasks = new ArrayList<>();
    for (Output o : w.outputs) {
      tasks.addAll(o.migration().tasks());
    }
    w.tasks = tasks;
    w.taskBytes = tasks.stream().mapToLong(MigrationTask::bytes).sum();
  }

  /**
   * The output's fingerprint, or null when it is missing or unreadable (then the row is redone).
   */
  private String outputFingerprint(String prefix) {
    if (!io.exists(Naming.indexFile(prefix))) {
      return null;
    }
    try {
      return Fingerprints.checkpoint(io, prefix);
    } catch (RebundleException | UncheckedIOException e) {
      return null;
    }
  }

  private static MigrationRequest withOverwrite(MigrationRequest r) {
    return new MigrationRequest(
        r.source(),
        r.destination(),
        r.spec(),
        r.rules(),
        r.shards(),
        r.shardSize(),
        true,
        r.writeStateFile(),
        r.template(),
        r.templateSpec(),
        r.reuse(),
        r.warmStart());
  }

  // ---- jobs (job threads)

  private void runGroup(List<Work> group) {
    ProgressSink sink = engine.progress(progress);
    List<List<MigrationTask>> tasks = new ArrayList<>();
    for (Work w : group) {
      tasks.add(w.tasks);
    }
    List<List<TaskOutcome>> outcomes;
    try {
      outcomes = engine.run(tasks, describe(group), sink);
    } catch (RuntimeException e) {
      if (group.size() == 1) {
        group.get(0).result = fail(group.get(0), e);
        return;
      }
      // Which row failed? Each alone now, so the others still convert.
      for (Work w : group) {
        try {
          commit(w, engine.run(List.of(w.tasks), describe(List.of(w)), sink).get(0));
        } catch (RuntimeException again) {
          w.result = fail(w, again);
        }
      }
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      Work w = group.get(i);
      try {
        commit(w, outcomes.get(i));
      } catch (RuntimeException e) {
        w.result = fail(w, e);
      }
    }
  }

  /**
   * Commits each output of the row from its share of {@code outcomes}, then writes its committed
   * record.
   */
  private void commit(Work w, List<TaskOutcome> outcomes) {
    long bytes = 0;
    long tensors = 0;
    List<String> outputs = new ArrayList<>(w.skippedOutputs);
    int at = 0;
    for (int i = 0; i < w.outputs.size(); i++) {
      Output o = w.outputs.get(i);
      int n = o.migration().tasks().size();
      List<TaskOutcome> mine = outcomes.subList(at, at + n);
      at += n;
      MigrationResult r;
      try {
        r = o.migration().commit(mine);
      } catch (RuntimeException e) {
        // commit() removed its own staging; the outputs after it never started.
        for (int j = i + 1; j < w.outputs.size(); j++) {
          abortQuietly(w.outputs.get(j), e);
        }
        removeRecord(o, e);
        throw e;
      }
      o.record()
          .committed(Fingerprints.checkpoint(io, r.destination()), System.currentTimeMillis())
          .write(io, o.recordLocation());
      bytes += r.bytes();
      tensors += r.plan().dataTensors();
      outputs.add(r.destination());
    }
    w.result = RowResult.converted(w.row, bytes, tensors, w.seconds(), outputs);
  }

  private RowResult fail(Work w, Throwable e) {
    abortAll(w);
    Throwable cause = unwrap(e);
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    return RowResult.failed(w.row, message, errorKinds.apply(cause), w.seconds());
  }

  /** Aborts every output of the row that is still staged and removes the records this run wrote. */
  private void abortAll(Work w) {
    for (Output o : w.outputs) {
      abortQuietly(o, null);
    }
  }

  private void abortQuietly(Output o, RuntimeException failure) {
    try {
      o.migration().abort();
    } catch (RuntimeException cleanup) {
      if (failure != null) {
        failure.addSuppressed(cleanup);
      }
    }
    removeRecord(o, failure);
  }

  private void removeRecord(Output o, RuntimeException failure) {
    if (o.wroteRecord()) {
      deleteQuietly(o.recordLocation(), failure);
    }
  }

  private void deleteQuietly(String location, RuntimeException failure) {
    try {
      io.delete(location);
    } catch (RuntimeException cleanup) {
      if (failure != null) {
        failure.addSuppressed(cleanup);
      }
    }
  }

  /** Rebundle's own exception along the cause chain (Spark wraps task failures), else {@code e}. */
  static Throwable unwrap(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RebundleException
          || t instanceof UncheckedIOException
          || t instanceof io.rebundle.jobs.cli.UsageException) {
        return t;
      }
    }
    return e;
  }

  private static String describe(List<Work> group) {
    Work first = group.get(0);
    String what = first.row.row().src() + " -> " + first.row.row().dst();
    return group.size() == 1
        ? "rebundle batch: " + what
        : "rebundle batch: " + group.size() + " rows (" + what + ", ...)";
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
