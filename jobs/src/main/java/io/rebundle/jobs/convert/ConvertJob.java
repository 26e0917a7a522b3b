package io.rebundle.jobs.convert;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.OutputLayout;
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
import io.rebundle.jobs.spark.SparkTaskEngine;
import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;

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
   * and the object graph of a rename, typically a few KiB), or a single safetensors file this
   * small, are written by the Spark engine's driver itself ({@link TaskEngine.Job#tiny}): a Spark
   * job costs ~0.5 s before its first task runs, which would be most of a linked migration's time.
   */
  static final long DRIVER_WRITES_MAX_BYTES = 16L << 20;

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
      boolean verified,
      String engine) {
    public long bytes() {
      return plan.dataBytes();
    }
  }

  /**
   * As {@link #run(TaskEngine.Choice, FileIO, Options, PrintWriter)} on Spark context {@code sc}.
   */
  public static Result run(JavaSparkContext sc, FileIO io, Options o, PrintWriter err) {
    return run(TaskEngine.Choice.always(new SparkTaskEngine(sc)), io, o, err);
  }

  /**
   * Prepares the migration, runs its tasks on the engine {@code engines} picks for them, and
   * commits; any failure aborts (nothing appears at the destination) and is rethrown. A dry run
   * prepares a preview only and runs nothing ({@link Result#engine} {@code none}).
   */
  public static Result run(TaskEngine.Choice engines, FileIO io, Options o, PrintWriter err) {
    MigrationRequest request = o.toRequest();
    if (o.dryRun()) {
      PreparedMigration m =
          PreparedMigration.preview(io, request, w -> err.println("rebundle: warning: " + w));
      return result(o, m, 0, NO_ENGINE);
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
    TaskEngine engine = chooseOrAbort(engines, tasks, m::abort);
    // Once source files are reused, the rest is typically save_counter and an object graph.
    boolean tiny =
        !m.layout().reused().isEmpty()
            && TaskEngine.bytes(tasks) <= DRIVER_WRITES_MAX_BYTES
            && tasks.stream().allMatch(t -> t instanceof MigrationTask.WriteShard);
    TaskEngine.Job job =
        new TaskEngine.Job("rebundle-convert-" + m.staging().runId(), describe(m), tiny);
    runAndCommit(engine, io, tasks, job, m.destination(), m::commit, m::abort, err);
    return result(o, m, (System.nanoTime() - t1) / 1e9, engine.name());
  }

  /** {@link Result#engine} of a dry run, which runs no task. */
  public static final String NO_ENGINE = "none";

  private static TaskEngine chooseOrAbort(
      TaskEngine.Choice engines, List<MigrationTask> tasks, Runnable abort) {
    try {
      return engines.forTasks(tasks);
    } catch (RuntimeException | Error e) {
      // Starting the engine (Spark) failed after staging: nothing may stay behind.
      try {
        abort.run();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * Runs a prepared migration's tasks on {@code engine}, then commits their outcomes. On any
   * failure (the engine has waited for its tasks to stop) it aborts, so nothing is left at the
   * destination, and rethrows: the one execution path of {@link #run} and {@link #export}, the same
   * on every engine.
   */
  private static void runAndCommit(
      TaskEngine engine,
      FileIO io,
      List<MigrationTask> tasks,
      TaskEngine.Job job,
      String destination,
      java.util.function.Consumer<List<TaskOutcome>> commit,
      Runnable abort,
      PrintWriter err) {
    try {
      List<TaskOutcome> outcomes = engine.run(io, tasks, job, err);
      engine.committing(destination);
      commit.accept(outcomes);
    } catch (RuntimeException e) {
      try {
        abort.run();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
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
    return export(TaskEngine.Choice.always(new SparkTaskEngine(sc)), io, o, err);
  }

  /** As {@link #export(JavaSparkContext, FileIO, Options, PrintWriter)} on the engine chosen. */
  public static ExportResult export(
      TaskEngine.Choice engines, FileIO io, Options o, PrintWriter err) {
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
    TaskEngine engine = chooseOrAbort(engines, tasks, e::abort);
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
    // A single small file: the Spark engine writes it on the driver, as for reused files.
    boolean tiny = tasks.size() == 1 && TaskEngine.bytes(tasks) <= DRIVER_WRITES_MAX_BYTES;
    TaskEngine.Job job =
        new TaskEngine.Job("rebundle-export-" + e.destination().hashCode(), description, tiny);
    runAndCommit(engine, io, tasks, job, e.destination(), e::commit, e::abort, err);
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

  private static Result result(Options o, PreparedMigration m, double copySeconds, String engine) {
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
        m.verified(),
        engine);
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

  /** DST as a prefix: see {@link PreparedMigration#destinationPrefix}. */
  static String destinationPrefix(FileIO io, String dst, String sourcePrefix) {
    return PreparedMigration.destinationPrefix(io, dst, sourcePrefix);
  }

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
}
