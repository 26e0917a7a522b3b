package io.rebundle.jobs.convert;

import io.rebundle.jobs.util.Sizes;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.SupportsHardLinks;
import io.rebundle.codec.plan.Committer;
import io.rebundle.codec.plan.FileReuse;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.ShardExecutor;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.plan.TemplatePlanner;
import io.rebundle.codec.plan.TemplateSpec;
import io.rebundle.codec.plan.WholeFileExecutor;
import io.rebundle.jobs.io.HadoopFileIO;
import io.rebundle.jobs.spark.ProgressListener;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.util.LongAccumulator;

/**
 * Converts one checkpoint: open the source index on the driver, plan, decide which source data files
 * are reused whole ({@link FileReuse}), schedule the other tensors onto new shards, then make every
 * output data file in the staging directory (hard links on the driver; one Spark task per copied
 * file and per new shard) and commit (data files renamed into place, index last, state file). Any
 * failure removes the staging files and leaves no index.
 */
public final class ConvertJob {
  private ConvertJob() {}

  /** Streaming buffer of each task. */
  static final int BUFFER_SIZE = 4 << 20;

  /**
   * Once source files are reused, new shards holding at most this many bytes in all (save_counter
   * and the object graph of a rename, typically a few KiB) are written by the driver itself: a Spark
   * job costs ~0.5 s before its first task runs, which would be most of a linked migration's time.
   */
  static final long DRIVER_WRITES_MAX_BYTES = 16L << 20;

  /** How long a failed job waits for its other tasks to stop before it removes the staging files. */
  static final long TASK_STOP_TIMEOUT_MILLIS = 60_000;

  /** How long to wait for Spark's status tracker to list a job that was submitted (it learns of jobs asynchronously). */
  static final long JOB_VISIBLE_GRACE_MILLIS = 2_000;

  /**
   * What to convert and how. {@code shards} 0 means "from {@code shardSize}"; with reused files both
   * apply to the new shards only, and either one given (a shard size other than the default) keeps
   * {@link FileReuse.Mode#AUTO} from reusing files. {@code reuse}: which source data files are reused
   * whole and how (default {@link FileReuse.Mode#AUTO}, no CRC read pass).
   */
  public record Options(String source, String destination, MigrationSpec spec, MappingRules rules, int shards,
      long shardSize, boolean overwrite, boolean dryRun, boolean writeStateFile, String template,
      TemplateSpec templateSpec, FileReuse.Policy reuse) {
    public Options {
      if (reuse == null) {
        reuse = FileReuse.Policy.of(FileReuse.Mode.AUTO);
      }
    }

    public Options(String source, String destination, MigrationSpec spec, MappingRules rules, int shards,
        long shardSize, boolean overwrite, boolean dryRun, boolean writeStateFile, String template,
        TemplateSpec templateSpec) {
      this(source, destination, spec, rules, shards, shardSize, overwrite, dryRun, writeStateFile, template,
          templateSpec, null);
    }

    public Options(String source, String destination, MigrationSpec spec, MappingRules rules, int shards,
        long shardSize, boolean overwrite, boolean dryRun, boolean writeStateFile) {
      this(source, destination, spec, rules, shards, shardSize, overwrite, dryRun, writeStateFile, null, null);
    }

    /** A conversion with no mapping rules and no template. */
    public Options(String source, String destination, MigrationSpec spec, int shards, long shardSize,
        boolean overwrite, boolean dryRun, boolean writeStateFile) {
      this(source, destination, spec, MappingRules.none(), shards, shardSize, overwrite, dryRun, writeStateFile);
    }

    /** These options with file reuse {@code policy}. */
    public Options withReuse(FileReuse.Policy policy) {
      return new Options(source, destination, spec, rules, shards, shardSize, overwrite, dryRun, writeStateFile,
          template, templateSpec, policy);
    }
  }

  /**
   * What happened. Times in seconds; {@code copySeconds} covers links, the Spark stage and the commit.
   * {@code layout}: the reused source files and the new shards.
   */
  public record Result(Options options, String sourcePrefix, String destination, MigrationPlan plan, int numShards,
      long[] shardBytes, long[] shardTensors, double planSeconds, double copySeconds, FileReuse.Layout layout) {
    public long bytes() {
      return plan.dataBytes();
    }

    /**
     * Whether every output tensor's bytes had their CRC32C checked on the way: always for streamed
     * tensors, for reused files only with {@code --verify-copies}.
     */
    public boolean verified() {
      return layout.reused().isEmpty() || options.reuse().verifyCopies();
    }
  }

  /** One task's input: an output data file to make. */
  sealed interface Task extends Serializable permits ShardTask, FileTask {}

  /** A new shard: its number and the tensors it writes. */
  record ShardTask(int shard, List<PlannedTensor> tensors) implements Task {}

  /**
   * A reused source data file: copied whole by the task ({@code policy.mode()} {@link FileReuse.Mode#COPY},
   * {@code linked} null), or hard-linked by the driver at {@code linked} and only CRC-checked by the
   * task ({@code --link --verify-copies}: the read pass runs in parallel, the links stay on the driver).
   */
  record FileTask(FileReuse.ReusedFile file, FileReuse.Policy policy, String linked) implements Task {}

  public static Result run(JavaSparkContext sc, FileIO io, Options o, PrintWriter err) {
    long t0 = System.nanoTime();
    SourceIndex source;
    try (CheckpointReader reader = CheckpointReader.open(io, o.source())) {
      reader.warnings().forEach(w -> err.println("rebundle: warning: " + w));
      source = SourceIndex.read(reader);
    }
    MigrationPlan plan;
    if (o.template() != null) {
      SourceIndex template;
      try (CheckpointReader reader = CheckpointReader.open(io, o.template())) {
        reader.warnings().forEach(w -> err.println("rebundle: warning: " + w));
        template = SourceIndex.read(reader);
      }
      plan = TemplatePlanner.plan(source, template, o.templateSpec(), o.rules());
    } else {
      plan = Planner.plan(source, o.spec(), o.rules());
    }
    String destination = destinationPrefix(io, o.destination(), source.prefix());
    if (o.reuse().mode() == FileReuse.Mode.LINK && !(io instanceof SupportsHardLinks)) {
      throw WholeFileExecutor.notLinkable(io, destination);
    }
    FileReuse.Layout layout = FileReuse.layout(io, plan, source, o.reuse().mode(), o.shards(), o.shardSize());
    int numShards = layout.numShards();
    long[] loads = layout.loads();
    long[] counts = layout.counts();
    double planSeconds = (System.nanoTime() - t0) / 1e9;
    if (o.dryRun()) {
      return new Result(o, source.prefix(), destination, plan, numShards, loads, counts, planSeconds, 0, layout);
    }
    String runId = UUID.randomUUID().toString().substring(0, 8);
    Committer committer = new Committer(io, destination, runId);
    if (committer.destinationExists() && !o.overwrite()) {
      throw new java.io.UncheckedIOException("Cannot write checkpoint " + destination
          + ": it already exists (use --overwrite to replace it once the new one is complete)",
          new java.io.IOException("exists"));
    }
    long t1 = System.nanoTime();
    // Executors of a cluster run in their own working directories: give them absolute locations.
    String sourcePrefix = forExecutors(io, source.prefix());
    String staging = forExecutors(io, committer.stagingDirectory());
    FileReuse.Policy how = new FileReuse.Policy(layout.mode(), o.reuse().verifyCopies());
    List<Task> tasks = new ArrayList<>();
    if (layout.mode() == FileReuse.Mode.COPY || how.verifyCopies()) {
      // Whole files first: they are the big tasks, and the new shards fill the gaps after them.
      layout.reused().forEach(f -> tasks.add(new FileTask(f, how,
          layout.mode() == FileReuse.Mode.LINK ? linkLocation(io, staging, f) : null)));
    }
    for (int i = 0; i < layout.newShards().size(); i++) {
      tasks.add(new ShardTask(layout.firstNewShard() + i, layout.newShards().get(i)));
    }
    long taskBytes = 0;
    long taskTensors = 0;
    for (Task t : tasks) {
      List<PlannedTensor> written = t instanceof ShardTask st ? st.tensors() : ((FileTask) t).file().tensors();
      taskBytes += written.stream().mapToLong(PlannedTensor::size).sum();
      taskTensors += written.size();
    }
    LongAccumulator bytes = sc.sc().longAccumulator("rebundle.bytes");
    LongAccumulator tensors = sc.sc().longAccumulator("rebundle.tensors");
    ProgressListener listener = new ProgressListener(err, taskBytes, taskTensors, tasks.size(), bytes, tensors);
    if (showProgress(sc) && !tasks.isEmpty()) {
      sc.sc().addSparkListener(listener);
    }
    String jobGroup = "rebundle-convert-" + runId;
    String reused = layout.reused().isEmpty() ? "" : String.format(" (%d source data files %s, %s)",
        layout.reused().size(), layout.mode() == FileReuse.Mode.LINK ? "hard-linked" : "copied whole",
        Sizes.human(layout.reusedBytes()));
    sc.setJobGroup(jobGroup, String.format("rebundle convert %s -> %s (%s): %d tensors, %s into %d shards%s",
        source.prefix(), destination, plan.targetFormat().id(), plan.dataTensors(),
        Sizes.human(plan.dataBytes()), numShards, reused), true);
    List<ShardExecutor.Result> results = new ArrayList<>();
    boolean submitted = false;
    try {
      io.mkdirs(staging);
      if (layout.mode() == FileReuse.Mode.LINK) {
        // A link is one metadata call: the driver makes them all, before any task starts, so a link that
        // cannot be made (another file system) fails the job before a byte is copied.
        // With --verify-copies the CRC read pass runs in the tasks, which return these files' results.
        for (FileReuse.ReusedFile f : layout.reused()) {
          ShardExecutor.Result linked = WholeFileExecutor.run(io, sourcePrefix, f, linkLocation(io, staging, f),
              FileReuse.Policy.of(FileReuse.Mode.LINK), new byte[0]);
          if (!how.verifyCopies()) {
            results.add(linked);
          }
        }
      }
      boolean onDriver = !layout.reused().isEmpty() && taskBytes <= DRIVER_WRITES_MAX_BYTES
          && tasks.stream().allMatch(t -> t instanceof ShardTask);
      if (onDriver) {
        for (Task t : tasks) {
          results.add(runTask(io, sourcePrefix, staging, t, bytes, tensors));
        }
      } else if (!tasks.isEmpty()) {
        submitted = true;
        results.addAll(sc.parallelize(tasks, tasks.size())
            .map(task -> runTask(io, sourcePrefix, staging, task, bytes, tensors))
            .collect());
      }
      results.sort(Comparator.comparingInt(ShardExecutor.Result::shard));
      List<IndexRecord> metadata = new ArrayList<>();
      for (PlannedTensor t : plan.tensors()) {
        if (!t.hasData()) {
          metadata.add(new IndexRecord(t.targetKey(), t.toEntry(0, 0, 0)));
        }
      }
      sc.setJobDescription("rebundle commit " + destination);
      committer.commit(results, metadata, o.overwrite(), o.writeStateFile());
    } catch (Exception e) {
      // Exception, not RuntimeException: a failed task reaches us as Spark's checked SparkException,
      // which Scala's collect() does not declare.
      Exception failure = unwrap(e);
      if (!awaitTasksStopped(sc, jobGroup, submitted ? JOB_VISIBLE_GRACE_MILLIS : 0, TASK_STOP_TIMEOUT_MILLIS)) {
        err.println("rebundle: warning: tasks of the failed job were still running after "
            + TASK_STOP_TIMEOUT_MILLIS / 1000 + " s; " + staging + " may be left behind");
      }
      try {
        committer.abort();
      } catch (RuntimeException cleanup) {
        failure.addSuppressed(cleanup);
      }
      if (failure instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    } finally {
      listener.finish();
      sc.sc().removeSparkListener(listener);
      sc.clearJobGroup();
    }
    double copySeconds = (System.nanoTime() - t1) / 1e9;
    return new Result(o, source.prefix(), destination, plan, numShards, loads, counts, planSeconds, copySeconds,
        layout);
  }

  /**
   * DST names the output prefix; a DST that is an existing directory or ends with '/' is a model
   * directory, and the output keeps the source's checkpoint name inside it.
   */
  static String destinationPrefix(FileIO io, String dst, String sourcePrefix) {
    if (dst.endsWith("/") || io.isDirectory(dst)) {
      String dir = dst.endsWith("/") && dst.length() > 1 ? dst.substring(0, dst.length() - 1) : dst;
      return io.join(dir, io.fileName(sourcePrefix));
    }
    return dst;
  }

  /**
   * When a task fails, Spark fails the job at once and kills the other running tasks only
   * afterwards; one still running could write into the staging directory after the cleanup (and on
   * HDFS or an object store recreate it). Waits until no task of the job group is active, polling
   * Spark's status tracker, which learns of jobs and tasks asynchronously: a group with no job yet
   * counts as active for {@code graceMillis}. False if tasks still ran after {@code timeoutMillis}.
   */
  static boolean awaitTasksStopped(JavaSparkContext sc, String jobGroup, long graceMillis, long timeoutMillis) {
    JavaSparkStatusTracker tracker = sc.statusTracker();
    long start = System.nanoTime();
    while (true) {
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      int[] jobs = tracker.getJobIdsForGroup(jobGroup);
      boolean active = jobs.length == 0 ? elapsedMillis < graceMillis : anyTaskActive(tracker, jobs);
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
   * Progress on a terminal and, for embedded runs, as log lines everywhere else (Airflow, {@code > log});
   * {@code -q} sets rebundle.progress=false. On a cluster without a terminal the listener stays off:
   * with it registered, StandaloneClusterIT's two-worker split came out uneven (6/2) twice in a row.
   */
  private static boolean showProgress(JavaSparkContext sc) {
    return sc.getConf().getBoolean("rebundle.progress", System.console() != null || sc.isLocal());
  }

  /**
   * Executor side: make this task's output data file at an attempt-specific location in the staging
   * directory (a new shard written tensor by tensor, or a source data file copied whole).
   */
  static ShardExecutor.Result runTask(FileIO io, String sourcePrefix, String staging, Task task,
      LongAccumulator bytes, LongAccumulator tensors) {
    TaskContext ctx = TaskContext.get();
    String attempt = ctx == null ? "local" : ctx.stageAttemptNumber() + "-" + ctx.taskAttemptId();
    if (task instanceof FileTask ft) {
      FileReuse.ReusedFile f = ft.file();
      byte[] buffer = ft.policy().verifyCopies() ? new byte[BUFFER_SIZE] : new byte[0];
      ShardExecutor.Result r;
      if (ft.linked() != null) {
        WholeFileExecutor.verify(io, sourcePrefix, f, buffer);
        r = new ShardExecutor.Result(f.targetShard(), ft.linked(), f.entries(), f.bytes());
      } else {
        String file = io.join(staging, String.format("shard-%05d-attempt-%s", f.targetShard(), attempt));
        r = WholeFileExecutor.run(io, sourcePrefix, f, file, ft.policy(), buffer);
      }
      bytes.add(f.bytes());
      tensors.add(f.tensors().size());
      return r;
    }
    ShardTask st = (ShardTask) task;
    String file = io.join(staging, String.format("shard-%05d-attempt-%s", st.shard(), attempt));
    return ShardExecutor.run(io, sourcePrefix, st.tensors(), file, st.shard(), BUFFER_SIZE, n -> {
      bytes.add(n);
      tensors.add(1);
    });
  }

  /** Where the driver hard-links reused file {@code f} in the staging directory. */
  private static String linkLocation(FileIO io, String staging, FileReuse.ReusedFile f) {
    return io.join(staging, String.format("shard-%05d-attempt-link", f.targetShard()));
  }

  /**
   * A location as every JVM of the job can resolve it: a relative location becomes absolute against
   * this (the driver's) working directory, or is qualified against Hadoop's default file system.
   */
  static String forExecutors(FileIO io, String location) {
    if (io.isAbsolute(location)) {
      return location;
    }
    if (io instanceof HadoopFileIO hadoop) {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
      try {
        return p.getFileSystem(hadoop.conf()).makeQualified(p).toString();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("Cannot resolve " + location + ": " + e.getMessage(), e);
      }
    }
    return Path.of(location).toAbsolutePath().toString();
  }

  /**
   * Spark wraps task failures; surface Rebundle's own exception (and its exit code) when there is one,
   * else {@code e} itself.
   */
  static Exception unwrap(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RebundleException r) {
        return r;
      }
      if (t instanceof java.io.UncheckedIOException u && t != e) {
        return u;
      }
    }
    String msg = e.getMessage();
    if (msg != null) {
      for (String marker : new String[] {"io.rebundle.codec.CorruptCheckpointException: ",
          "io.rebundle.codec.CheckpointNotFoundException: ", "io.rebundle.codec.UnsupportedCheckpointException: "}) {
        int i = msg.indexOf(marker);
        if (i >= 0) {
          String detail = msg.substring(i + marker.length()).split("\n", 2)[0];
          return switch (marker.substring(18, 23)) {
            case "Corru" -> new io.rebundle.codec.CorruptCheckpointException(detail, e);
            case "Check" -> new io.rebundle.codec.CheckpointNotFoundException(detail);
            default -> new io.rebundle.codec.UnsupportedCheckpointException(detail);
          };
        }
      }
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(msg, e);
  }
}
