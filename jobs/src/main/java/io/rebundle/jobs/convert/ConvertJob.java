package io.rebundle.jobs.convert;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.PreparedMigration;
import io.rebundle.codec.migrate.SafetensorsExport;
import io.rebundle.codec.migrate.TaskOutcome;
import io.rebundle.codec.migrate.WarmStart;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.TemplateSpec;
import io.rebundle.jobs.io.HadoopFileIO;
import io.rebundle.jobs.spark.AccumulatorProgress;
import io.rebundle.jobs.spark.ProgressListener;
import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.util.LongAccumulator;

/**
 * Converts one checkpoint as a Spark job, a caller of the codec's one orchestrator: {@link
 * PreparedMigration#prepare} (open, plan, validate, lay out, check the destination, stage) on the
 * driver, then one Spark task per {@link MigrationTask} (each makes one output data file), then
 * {@link PreparedMigration#commit} of the collected outcomes. Any failure aborts: the staging files
 * are removed and no index appears.
 */
public final class ConvertJob {
  private ConvertJob() {}

  /**
   * Once source files are reused, new shards holding at most this many bytes in all (save_counter
   * and the object graph of a rename, typically a few KiB) are written by the driver itself: a
   * Spark job costs ~0.5 s before its first task runs, which would be most of a linked migration's
   * time.
   */
  static final long DRIVER_WRITES_MAX_BYTES = 16L << 20;

  /**
   * How long a failed job waits for its other tasks to stop before it removes the staging files.
   */
  static final long TASK_STOP_TIMEOUT_MILLIS = 60_000;

  /**
   * How long to wait for Spark's status tracker to list a job that was submitted (it learns of jobs
   * asynchronously).
   */
  static final long JOB_VISIBLE_GRACE_MILLIS = 2_000;

  /**
   * What to convert and how: a {@link MigrationRequest} plus {@code dryRun}. {@code shards} 0 means
   * "from {@code shardSize}"; with reused files both apply to the new shards only, and either one
   * given (a shard size other than the default) keeps {@link FileReuse.Mode#AUTO} from reusing
   * files. {@code reuse}: which source data files are reused whole and how (default {@link
   * FileReuse.Mode#AUTO}, which the core always CRC-checks; see {@link
   * MigrationRequest#effectiveReuse}). {@code warmStart}: null for none.
   */
  public record Options(
      String source,
      String destination,
      MigrationSpec spec,
      MappingRules rules,
      int shards,
      long shardSize,
      boolean overwrite,
      boolean dryRun,
      boolean writeStateFile,
      String template,
      TemplateSpec templateSpec,
      FileReuse.Policy reuse,
      WarmStart warmStart,
      boolean setLatest) {
    public Options {
      if (reuse == null) {
        reuse = FileReuse.Policy.of(FileReuse.Mode.AUTO);
      }
    }

    /** Options that record the output in the state file without making it the latest. */
    public Options(
        String source,
        String destination,
        MigrationSpec spec,
        MappingRules rules,
        int shards,
        long shardSize,
        boolean overwrite,
        boolean dryRun,
        boolean writeStateFile,
        String template,
        TemplateSpec templateSpec,
        FileReuse.Policy reuse,
        WarmStart warmStart) {
      this(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile,
          template,
          templateSpec,
          reuse,
          warmStart,
          false);
    }

    public Options(
        String source,
        String destination,
        MigrationSpec spec,
        MappingRules rules,
        int shards,
        long shardSize,
        boolean overwrite,
        boolean dryRun,
        boolean writeStateFile,
        String template,
        TemplateSpec templateSpec,
        FileReuse.Policy reuse) {
      this(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile,
          template,
          templateSpec,
          reuse,
          null);
    }

    public Options(
        String source,
        String destination,
        MigrationSpec spec,
        MappingRules rules,
        int shards,
        long shardSize,
        boolean overwrite,
        boolean dryRun,
        boolean writeStateFile,
        String template,
        TemplateSpec templateSpec) {
      this(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile,
          template,
          templateSpec,
          (FileReuse.Policy) null);
    }

    public Options(
        String source,
        String destination,
        MigrationSpec spec,
        MappingRules rules,
        int shards,
        long shardSize,
        boolean overwrite,
        boolean dryRun,
        boolean writeStateFile) {
      this(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile,
          null,
          null);
    }

    /** A conversion with no mapping rules and no template. */
    public Options(
        String source,
        String destination,
        MigrationSpec spec,
        int shards,
        long shardSize,
        boolean overwrite,
        boolean dryRun,
        boolean writeStateFile) {
      this(
          source,
          destination,
          spec,
          MappingRules.none(),
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile);
    }

    /** These options with file reuse {@code policy}. */
    public Options withReuse(FileReuse.Policy policy) {
      return new Options(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          dryRun,
          writeStateFile,
          template,
          templateSpec,
          policy,
          warmStart,
          setLatest);
    }

    /**
     * The core's request, with locations as {@code locations} makes them (absolute for executors).
     */
    public MigrationRequest toRequest() {
      return new MigrationRequest(
          source,
          destination,
          spec,
          rules,
          shards,
          shardSize,
          overwrite,
          writeStateFile,
          template,
          templateSpec,
          reuse,
          warmStart,
          setLatest);
    }
  }

  /**
   * What happened. Times in seconds; {@code copySeconds} covers links, the Spark stage and the
   * commit. {@code layout}: the reused source files and the new shards. {@code verified}: whether
   * every output tensor's bytes had their CRC32C checked on the way (always for streamed tensors;
   * for reused files unless copy or link was asked without {@code --verify-copies}).
   */
  public record Result(
      Options options,
      String sourcePrefix,
      String destination,
      MigrationPlan plan,
      int numShards,
      long[] shardBytes,
      long[] shardTensors,
      double planSeconds,
      double copySeconds,
      OutputLayout layout,
      boolean verified) {
    public long bytes() {
      return plan.dataBytes();
    }
  }

  public static Result run(JavaSparkContext sc, FileIO io, Options o, PrintWriter err) {
    MigrationRequest request = o.toRequest();
    if (o.dryRun()) {
      PreparedMigration m =
          PreparedMigration.preview(io, request, w -> err.println("rebundle: warning: " + w));
      return result(o, m, 0);
    }
    // Executors of a cluster run in their own working directories: tasks get absolute locations.
    PreparedMigration m =
        PreparedMigration.prepare(
            io,
            request,
            w -> err.println("rebundle: warning: " + w),
            location -> forExecutors(io, location));
    long t1 = System.nanoTime();
    List<MigrationTask> tasks = m.tasks();
    long taskBytes = tasks.stream().mapToLong(MigrationTask::bytes).sum();
    long taskTensors = tasks.stream().mapToLong(MigrationTask::tensors).sum();
    LongAccumulator bytes = sc.sc().longAccumulator("rebundle.bytes");
    LongAccumulator tensors = sc.sc().longAccumulator("rebundle.tensors");
    AccumulatorProgress progress = new AccumulatorProgress(bytes, tensors);
    ProgressListener listener =
        new ProgressListener(err, taskBytes, taskTensors, tasks.size(), bytes, tensors);
    boolean onDriver =
        !m.layout().reused().isEmpty()
            && taskBytes <= DRIVER_WRITES_MAX_BYTES
            && tasks.stream().allMatch(t -> t instanceof MigrationTask.WriteShard);
    if (showProgress(sc) && !tasks.isEmpty() && !onDriver) {
      sc.sc().addSparkListener(listener);
    }
    String jobGroup = "rebundle-convert-" + m.staging().runId();
    try {
      runAndCommit(
          sc,
          io,
          tasks,
          onDriver || tasks.isEmpty(),
          progress,
          jobGroup,
          describe(m),
          outcomes -> {
            sc.setJobDescription("rebundle commit " + m.destination());
            m.commit(outcomes);
          },
          m::abort,
          m.staging().toString(),
          err);
    } finally {
      listener.finish();
      sc.sc().removeSparkListener(listener);
    }
    return result(o, m, (System.nanoTime() - t1) / 1e9);
  }

  /**
   * Runs a prepared migration's tasks (in this process, or as one Spark job in {@code jobGroup}),
   * then commits their outcomes. On any failure it waits for the job's tasks to stop, aborts (so
   * nothing is left at the destination) and rethrows the failure, unwrapped by type: the one
   * execution path of {@link #run} and {@link #export}.
   */
  private static void runAndCommit(
      JavaSparkContext sc,
      FileIO io,
      List<MigrationTask> tasks,
      boolean inProcess,
      AccumulatorProgress progress,
      String jobGroup,
      String description,
      java.util.function.Consumer<List<TaskOutcome>> commit,
      Runnable abort,
      String leftBehind,
      PrintWriter err) {
    sc.setJobGroup(jobGroup, description, true);
    boolean submitted = false;
    try {
      List<TaskOutcome> outcomes;
      if (inProcess) {
        outcomes = LocalMigration.runTasks(io, tasks, progress, 1);
      } else {
        submitted = true;
        outcomes =
            sc.parallelize(tasks, tasks.size())
                .map(task -> task.run(io, attempt(), progress))
                .collect();
      }
      commit.accept(outcomes);
    } catch (Exception e) {
      // Exception, not RuntimeException: a failed task reaches us as Spark's checked
      // SparkException, which Scala's collect() does not declare.
      RuntimeException failure = unwrap(e);
      if (!awaitTasksStopped(
          sc, jobGroup, submitted ? JOB_VISIBLE_GRACE_MILLIS : 0, TASK_STOP_TIMEOUT_MILLIS)) {
        err.println(
            "rebundle: warning: tasks of the failed job were still running after "
                + TASK_STOP_TIMEOUT_MILLIS / 1000
                + " s; "
                + leftBehind
                + " may be left behind");
      }
      try {
        abort.run();
      } catch (RuntimeException cleanup) {
        failure.addSuppressed(cleanup);
      }
      throw failure;
    } finally {
      sc.clearJobGroup();
    }
  }

  /**
   * What a safetensors export did: the plan (its drops name the training state left out), the files
   * written (relative to {@code destination}, or the file itself) with their tensor bytes, and
   * times.
   */
  public record ExportResult(
      Options options,
      String sourcePrefix,
      String destination,
      MigrationPlan plan,
      List<String> files,
      long[] fileBytes,
      double planSeconds,
      double copySeconds) {
    public long bytes() {
      return plan.dataBytes();
    }
  }

  /**
   * {@code convert --to safetensors}: {@link SafetensorsExport#prepare} on the driver, one Spark
   * task per output file (the in-process runner for a single small file), then the commit, which
   * moves the files into place and the index json last. Failures abort as {@link #run} does.
   */
  public static ExportResult export(JavaSparkContext sc, FileIO io, Options o, PrintWriter err) {
    MigrationRequest request = o.toRequest();
    if (o.dryRun()) {
      SafetensorsExport e =
          SafetensorsExport.preview(io, request, w -> err.println("rebundle: warning: " + w));
      return exportResult(o, e, 0);
    }
    SafetensorsExport e =
        SafetensorsExport.prepare(
            io,
            request,
            w -> err.println("rebundle: warning: " + w),
            location -> forExecutors(io, location));
    long t1 = System.nanoTime();
    List<MigrationTask> tasks = e.tasks();
    long taskBytes = tasks.stream().mapToLong(MigrationTask::bytes).sum();
    LongAccumulator bytes = sc.sc().longAccumulator("rebundle.bytes");
    LongAccumulator tensors = sc.sc().longAccumulator("rebundle.tensors");
    AccumulatorProgress progress = new AccumulatorProgress(bytes, tensors);
    boolean onDriver = tasks.size() == 1 && taskBytes <= DRIVER_WRITES_MAX_BYTES;
    String jobGroup = "rebundle-export-" + e.destination().hashCode();
    String description =
        "rebundle convert "
            + e.plan().sourcePrefix()
            + " -> "
            + e.destination()
            + " (safetensors): "
            + e.plan().dataTensors()
            + " tensors, "
            + Sizes.human(e.plan().dataBytes())
            + " into "
            + tasks.size()
            + " files";
    runAndCommit(
        sc,
        io,
        tasks,
        onDriver,
        progress,
        jobGroup,
        description,
        e::commit,
        e::abort,
        "staging files",
        err);
    return exportResult(o, e, (System.nanoTime() - t1) / 1e9);
  }

  private static ExportResult exportResult(Options o, SafetensorsExport e, double copySeconds) {
    List<String> files = new java.util.ArrayList<>();
    long[] sizes = new long[e.layout().files().size()];
    for (int i = 0; i < sizes.length; i++) {
      files.add(e.layout().files().get(i).name());
      sizes[i] = e.layout().files().get(i).header().dataLength();
    }
    return new ExportResult(
        o,
        e.plan().sourcePrefix(),
        e.destination(),
        e.plan(),
        files,
        sizes,
        e.planNanos() / 1e9,
        copySeconds);
  }

  private static Result result(Options o, PreparedMigration m, double copySeconds) {
    OutputLayout layout = m.layout();
    return new Result(
        o,
        m.sourcePrefix(),
        m.destination(),
        m.plan(),
        layout.numShards(),
        layout.loads(),
        layout.counts(),
        m.planNanos() / 1e9,
        copySeconds,
        layout,
        m.verified());
  }

  private static String describe(PreparedMigration m) {
    OutputLayout layout = m.layout();
    String reused =
        layout.reused().isEmpty()
            ? ""
            : String.format(
                " (%d source data files %s, %s)",
                layout.reused().size(),
                layout.mode() == FileReuse.Mode.LINK ? "hard-linked" : "copied whole",
                Sizes.human(layout.reusedBytes()));
    return String.format(
        "rebundle convert %s -> %s (%s): %d tensors, %s into %d shards%s",
        m.sourcePrefix(),
        m.destination(),
        m.plan().targetFormat().id(),
        m.plan().dataTensors(),
        Sizes.human(m.plan().dataBytes()),
        layout.numShards(),
        reused);
  }

  /** This task attempt's unique name: Spark's stage attempt and task attempt id. */
  private static String attempt() {
    TaskContext ctx = TaskContext.get();
    return ctx == null ? "local" : ctx.stageAttemptNumber() + "-" + ctx.taskAttemptId();
  }

  /** DST as a prefix: see {@link PreparedMigration#destinationPrefix}. */
  static String destinationPrefix(FileIO io, String dst, String sourcePrefix) {
    return PreparedMigration.destinationPrefix(io, dst, sourcePrefix);
  }

  /**
   * When a task fails, Spark fails the job at once and kills the other running tasks only
   * afterwards; one still running could write into the staging directory after the cleanup (and on
   * HDFS or an object store recreate it). Waits until no task of the job group is active, polling
   * Spark's status tracker, which learns of jobs and tasks asynchronously: a group with no job yet
   * counts as active for {@code graceMillis}. False if tasks still ran after {@code timeoutMillis}.
   */
  static boolean awaitTasksStopped(
      JavaSparkContext sc, String jobGroup, long graceMillis, long timeoutMillis) {
    JavaSparkStatusTracker tracker = sc.statusTracker();
    long start = System.nanoTime();
    while (true) {
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      int[] jobs = tracker.getJobIdsForGroup(jobGroup);
      boolean active =
          jobs.length == 0 ? elapsedMillis < graceMillis : anyTaskActive(tracker, jobs);
      if (!active) {
        return true;
      }
      if (elapsedMillis > timeoutMillis) {
        return false;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  private static boolean anyTaskActive(JavaSparkStatusTracker tracker, int[] jobIds) {
    for (int jobId : jobIds) {
      SparkJobInfo job = tracker.getJobInfo(jobId);
      if (job == null) {
        continue;
      }
      if (job.status() == JobExecutionStatus.RUNNING) {
        // The tracker has not yet seen the job end, so its view of the tasks is not final either.
        return true;
      }
      for (int stageId : job.stageIds()) {
        SparkStageInfo stage = tracker.getStageInfo(stageId);
        if (stage != null && stage.numActiveTasks() > 0) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Progress for every Spark run: a terminal line, or log lines every interval when stderr is not a
   * terminal (Airflow, {@code > log}), embedded or on a cluster. Off with {@code -q}, which sets
   * the local property {@value #PROGRESS_PROPERTY}=false on the context (so it also holds for a
   * context the command did not create), or with {@code --conf rebundle.progress=false}.
   */
  static boolean showProgress(JavaSparkContext sc) {
    String local = sc.getLocalProperty(PROGRESS_PROPERTY);
    if (local != null) {
      return Boolean.parseBoolean(local);
    }
    return sc.getConf().getBoolean(PROGRESS_PROPERTY, true);
  }

  /** Spark setting and local property that turn convert's progress off ({@code false}). */
  public static final String PROGRESS_PROPERTY = "rebundle.progress";

  /**
   * A location as every JVM of the job can resolve it: a relative location becomes absolute against
   * this (the driver's) working directory, or is qualified against Hadoop's default file system.
   */
  public static String forExecutors(FileIO io, String location) {
    if (io.isAbsolute(location)) {
      return location;
    }
    if (io instanceof HadoopFileIO hadoop) {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
      try {
        return p.getFileSystem(hadoop.conf()).makeQualified(p).toString();
      } catch (java.io.IOException e) {
        throw new UncheckedIOException("Cannot resolve " + location + ": " + e.getMessage(), e);
      }
    }
    return Path.of(location).toAbsolutePath().toString();
  }

  /**
   * The exception a failed run reports: the first Rebundle exception or storage failure along the
   * cause chain (Spark wraps task failures in its own exceptions), else {@code e} itself. By type
   * only, never by message text.
   */
  static RuntimeException unwrap(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RebundleException r) {
        return r;
      }
      if (t instanceof UncheckedIOException u) {
        return u;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
  }
}
