package io.rebundle.jobs.spark;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import io.rebundle.jobs.convert.TaskEngine;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.util.LongAccumulator;

/**
 * The Spark engine: a migration's tasks as the partitions of one Spark job (one task each, so each
 * output file is one task and Spark retries it alone), progress through two accumulators and a
 * {@link ProgressListener}. A {@link Job#tiny} job runs on the driver instead: scheduling it would
 * cost more than running it.
 */
public final class SparkTaskEngine implements TaskEngine, AutoCloseable {
  /**
   * How long a failed job waits for its other tasks to stop before it removes the staging files.
   */
  static final long TASK_STOP_TIMEOUT_MILLIS = 60_000;

  /**
   * How long to wait for Spark's status tracker to list a job that was submitted (it learns of jobs
   * asynchronously).
   */
  static final long JOB_VISIBLE_GRACE_MILLIS = 2_000;

  private final JavaSparkContext sc;
  private final boolean owned;

  /** On a context the caller owns (and stops): {@link #close} leaves it running. */
  public SparkTaskEngine(JavaSparkContext sc) {
    this(sc, false);
  }

  private SparkTaskEngine(JavaSparkContext sc, boolean owned) {
    this.sc = sc;
    this.owned = owned;
  }

  /**
   * Starts a context of its own ({@link SparkContexts#create(String, String, Map, PrintWriter)}),
   * stopped by {@link #close}.
   */
  public static SparkTaskEngine start(
      String appName, String master, Map<String, String> conf, PrintWriter err) {
    return new SparkTaskEngine(SparkContexts.create(appName, master, conf, err), true);
  }

  public JavaSparkContext context() {
    return sc;
  }

  /** The context's Hadoop configuration (storage of its jobs). */
  public Configuration hadoopConfiguration() {
    return sc.hadoopConfiguration();
  }

  /** Stops the context if this engine started it. */
  @Override
  public void close() {
    if (owned) {
      sc.close();
    }
  }

  @Override
  public String name() {
    return "spark";
  }

  @Override
  public List<TaskOutcome> run(FileIO io, List<MigrationTask> tasks, Job job, PrintWriter err) {
    long taskBytes = TaskEngine.bytes(tasks);
    LongAccumulator bytes = sc.sc().longAccumulator("rebundle.bytes");
    LongAccumulator tensors = sc.sc().longAccumulator("rebundle.tensors");
    AccumulatorProgress progress = new AccumulatorProgress(bytes, tensors);
    boolean onDriver = tasks.isEmpty() || job.tiny();
    ProgressListener listener =
        new ProgressListener(
            err, taskBytes, TaskEngine.tensors(tasks), tasks.size(), bytes, tensors);
    boolean shown = showProgress(sc) && !onDriver;
    if (shown) {
      sc.sc().addSparkListener(listener);
    }
    sc.setJobGroup(job.group(), job.description(), true);
    boolean submitted = false;
    try {
      if (onDriver) {
        return LocalMigration.runTasks(io, tasks, progress, 1);
      }
      submitted = true;
      List<TaskOutcome> outcomes =
          sc.parallelize(tasks, tasks.size())
              .map(task -> task.run(io, attempt(), progress))
              .collect();
      if (shown) {
        listener.succeeded(bytes.value(), tensors.value());
      }
      return outcomes;
    } catch (Exception e) {
      // Exception, not RuntimeException: a failed task reaches us as Spark's checked
      // SparkException, which Scala's collect() does not declare.
      RuntimeException failure = unwrap(e);
      if (!awaitTasksStopped(
          sc, job.group(), submitted ? JOB_VISIBLE_GRACE_MILLIS : 0, TASK_STOP_TIMEOUT_MILLIS)) {
        err.println(
            "rebundle: warning: tasks of the failed job were still running after "
                + TASK_STOP_TIMEOUT_MILLIS / 1000
                + " s; the staging files may be left behind");
      }
      throw failure;
    } finally {
      listener.finish();
      sc.sc().removeSparkListener(listener);
      sc.clearJobGroup();
    }
  }

  @Override
  public void committing(String destination) {
    sc.setJobDescription("rebundle commit " + destination);
  }

  /** This task attempt's unique name: Spark's stage attempt and task attempt id. */
  private static String attempt() {
    TaskContext ctx = TaskContext.get();
    return ctx == null ? "local" : ctx.stageAttemptNumber() + "-" + ctx.taskAttemptId();
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
   * terminal (Airflow, {@code > log}), embedded or on a cluster (the driver prints what executors'
   * heartbeats and finished tasks report). Off with {@code -q}, which sets {@value
   * #PROGRESS_PROPERTY}=false in the settings of a context the command starts and as a local
   * property of a lent one, or with {@code --conf rebundle.progress=false}.
   */
  static boolean showProgress(JavaSparkContext sc) {
    String local = sc.getLocalProperty(PROGRESS_PROPERTY);
    if (local != null) {
      return Boolean.parseBoolean(local);
    }
    return sc.getConf().getBoolean(PROGRESS_PROPERTY, true);
  }

  /** Spark setting and local property that turn progress off ({@code false}). */
  public static final String PROGRESS_PROPERTY = "rebundle.progress";

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
