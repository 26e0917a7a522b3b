package io.rebundle.jobs.convert;

import io.rebundle.jobs.util.Sizes;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.Committer;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.Scheduler;
import io.rebundle.codec.plan.ShardExecutor;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.plan.TemplatePlanner;
import io.rebundle.codec.plan.TemplateSpec;
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
 * Converts one checkpoint: open the source index on the driver, plan, schedule tensors onto output
 * shards, copy the bytes in one Spark task per output shard, then commit (data files renamed into
 * place, index last, state file). Any failure removes the staging files and leaves no index.
 */
public final class ConvertJob {
  private ConvertJob() {}

  /** Streaming buffer of each task. */
  static final int BUFFER_SIZE = 4 << 20;

  /** How long a failed job waits for its other tasks to stop before it removes the staging files. */
  static final long TASK_STOP_TIMEOUT_MILLIS = 60_000;

  /** How long to wait for Spark's status tracker to list a job that was submitted (it learns of jobs asynchronously). */
  static final long JOB_VISIBLE_GRACE_MILLIS = 2_000;

  /** What to convert and how. {@code shards} 0 means "from {@code shardSize}". */
  public record Options(String source, String destination, MigrationSpec spec, MappingRules rules, int shards,
      long shardSize, boolean overwrite, boolean dryRun, boolean writeStateFile, String template,
      TemplateSpec templateSpec) {
    public Options(String source, String destination, MigrationSpec spec, MappingRules rules, int shards,
        long shardSize, boolean overwrite, boolean dryRun, boolean writeStateFile) {
      this(source, destination, spec, rules, shards, shardSize, overwrite, dryRun, writeStateFile, null, null);
    }

    /** A conversion with no mapping rules and no template. */
    public Options(String source, String destination, MigrationSpec spec, int shards, long shardSize,
        boolean overwrite, boolean dryRun, boolean writeStateFile) {
      this(source, destination, spec, MappingRules.none(), shards, shardSize, overwrite, dryRun, writeStateFile);
    }
  }

  /** What happened. Times in seconds; {@code copySeconds} covers the Spark stage and the commit. */
  public record Result(Options options, String sourcePrefix, String destination, MigrationPlan plan, int numShards,
      long[] shardBytes, long[] shardTensors, double planSeconds, double copySeconds) {
    public long bytes() {
      return plan.dataBytes();
    }
  }

  /** One task's input: its shard number and the tensors it writes. */
  record ShardTask(int shard, List<PlannedTensor> tensors) implements Serializable {}

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
    int numShards = o.shards() > 0 ? o.shards()
        : Scheduler.shardCount(plan.dataBytes(), o.shardSize(), plan.dataTensors());
    List<List<PlannedTensor>> assignment = Scheduler.assign(plan.tensors(), numShards);
    long[] loads = Scheduler.loads(assignment);
    long[] counts = assignment.stream().mapToLong(List::size).toArray();
    double planSeconds = (System.nanoTime() - t0) / 1e9;
    if (o.dryRun()) {
      return new Result(o, source.prefix(), destination, plan, numShards, loads, counts, planSeconds, 0);
    }
    String runId = UUID.randomUUID().toString().substring(0, 8);
    Committer committer = new Committer(io, destination, runId);
    if (committer.destinationExists() && !o.overwrite()) {
      throw new java.io.UncheckedIOException("Cannot write checkpoint " + destination
          + ": it already exists (use --overwrite to replace it once the new one is complete)",
          new java.io.IOException("exists"));
    }
    long t1 = System.nanoTime();
    List<ShardTask> tasks = new ArrayList<>();
    for (int i = 0; i < numShards; i++) {
      tasks.add(new ShardTask(i, assignment.get(i)));
    }
    LongAccumulator bytes = sc.sc().longAccumulator("rebundle.bytes");
    LongAccumulator tensors = sc.sc().longAccumulator("rebundle.tensors");
    ProgressListener listener = new ProgressListener(err, plan.dataBytes(), plan.dataTensors(), numShards, bytes, tensors);
    if (showProgress(sc)) {
      sc.sc().addSparkListener(listener);
    }
    String jobGroup = "rebundle-convert-" + runId;
    sc.setJobGroup(jobGroup, String.format("rebundle convert %s -> %s (%s): %d tensors, %s into %d shards",
        source.prefix(), destination, plan.targetFormat().id(), plan.dataTensors(),
        Sizes.human(plan.dataBytes()), numShards), true);
    // Executors of a cluster run in their own working directories: give them absolute locations.
    String sourcePrefix = forExecutors(io, source.prefix());
    String staging = forExecutors(io, committer.stagingDirectory());
    List<ShardExecutor.Result> results;
    boolean submitted = false;
    try {
      io.mkdirs(staging);
      submitted = true;
      results = new ArrayList<>(sc.parallelize(tasks, numShards)
          .map(task -> runTask(io, sourcePrefix, staging, task, bytes, tensors))
          .collect());
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
    return new Result(o, source.prefix(), destination, plan, numShards, loads, counts, planSeconds, copySeconds);
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

  private static boolean showProgress(JavaSparkContext sc) {
    return sc.getConf().getBoolean("rebundle.progress", System.console() != null);
  }

  /** Executor side: write this task's shard to an attempt-specific file in the staging directory. */
  static ShardExecutor.Result runTask(FileIO io, String sourcePrefix, String staging, ShardTask task,
      LongAccumulator bytes, LongAccumulator tensors) {
    TaskContext ctx = TaskContext.get();
    String attempt = ctx == null ? "local" : ctx.stageAttemptNumber() + "-" + ctx.taskAttemptId();
    String file = io.join(staging, String.format("shard-%05d-attempt-%s", task.shard(), attempt));
    return ShardExecutor.run(io, sourcePrefix, task.tensors(), file, task.shard(), BUFFER_SIZE, n -> {
      bytes.add(n);
      tensors.add(1);
    });
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
