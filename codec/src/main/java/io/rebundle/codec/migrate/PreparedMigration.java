package io.rebundle.codec.migrate;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.commit.Committer;
import io.rebundle.codec.commit.Recovery;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.commit.StateFileUpdate;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.exec.WholeFileExecutor;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.SupportsHardLinks;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlanValidator;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.plan.TemplatePlanner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The one orchestrator of a migration, for every engine: open → plan → validate → lay out → check
 * the destination → stage, then (the engine's part) run {@link #tasks()} anywhere, then {@link
 * #commit} their outcomes on the driver or {@link #abort()}.
 *
 * <pre>
 *   PreparedMigration m = PreparedMigration.prepare(io, request);
 *   List&lt;TaskOutcome&gt; outcomes = ...run every m.tasks() (threads, Spark, ...)...;
 *   MigrationResult r = m.commit(outcomes);      // or m.abort() if running them failed
 * </pre>
 *
 * It owns every default that guards data: the reuse policy ({@link
 * MigrationRequest#effectiveReuse}, so a caller that sets none never skips a CRC check), the
 * meaning of a warm start, the destination check (one check, one message naming {@code
 * --overwrite}), the hard-link check, and validation of the plan against the source's files before
 * any task starts. Not thread-safe; driver-side only (the tasks are what travels).
 */
public final class PreparedMigration {
  private final FileIO io;
  private final MigrationRequest request;
  private final FileReuse.Policy reuse;
  private final String sourcePrefix;
  private final String destination;
  private final MigrationPlan plan;
  private final OutputLayout layout;
  private final Committer committer;
  private final List<MigrationTask> tasks;
  private final String taskSource;
  private final List<StagedShard> driverStaged = new ArrayList<>();
  private final long planNanos;
  private boolean finished;

  private PreparedMigration(
      FileIO io,
      MigrationRequest request,
      FileReuse.Policy reuse,
      String sourcePrefix,
      String destination,
      MigrationPlan plan,
      OutputLayout layout,
      Committer committer,
      List<MigrationTask> tasks,
      String taskSource,
      long planNanos) {
    this.io = io;
    this.request = request;
    this.reuse = reuse;
    this.sourcePrefix = sourcePrefix;
    this.destination = destination;
    this.plan = plan;
    this.layout = layout;
    this.committer = committer;
    this.tasks = List.copyOf(tasks);
    this.taskSource = taskSource;
    this.planNanos = planNanos;
  }

  /**
   * {@link #prepare(FileIO, MigrationRequest, Consumer, UnaryOperator)} ignoring warnings,
   * locations as given.
   */
  public static PreparedMigration prepare(FileIO io, MigrationRequest request) {
    return prepare(io, request, w -> {}, UnaryOperator.identity());
  }

  /**
   * Prepares a migration and stages it: after this returns, the staging directory exists (with the
   * driver's hard links, if any) and the caller must end with {@link #commit} or {@link #abort}.
   * {@code warnings} receives the readers' warnings (one line each); {@code taskLocations} turns a
   * location into one every task's machine resolves (an absolute path, a qualified URI).
   */
  public static PreparedMigration prepare(
      FileIO io,
      MigrationRequest request,
      Consumer<String> warnings,
      UnaryOperator<String> taskLocations) {
    PreparedMigration m = build(io, request, warnings, taskLocations, true);
    m.stage();
    return m;
  }

  /**
   * The plan and layout only, for a dry run: the destination is not checked and nothing is written;
   * {@link #commit} refuses.
   */
  public static PreparedMigration preview(
      FileIO io, MigrationRequest request, Consumer<String> warnings) {
    PreparedMigration m = build(io, request, warnings, UnaryOperator.identity(), false);
    m.finished = true;
    return m;
  }

  private static PreparedMigration build(
      FileIO io,
      MigrationRequest r,
      Consumer<String> warnings,
      UnaryOperator<String> taskLocations,
      boolean checkDestination) {
    long t0 = System.nanoTime();
    FileReuse.Policy reuse = r.effectiveReuse();
    if (reuse.mode() == FileReuse.Mode.LINK && !(io instanceof SupportsHardLinks)) {
      throw Errors.notLinkable(io, r.destination());
    }
    // A safetensors source has no TensorBundle data files: its reader checked every offset against
    // the files, and its tensors are always streamed (SafetensorsImport).
    boolean safetensors = SafetensorsImport.isSource(io, r.source());
    SourceIndex source =
        safetensors
            ? SafetensorsImport.read(io, r.source(), warnings)
            : read(io, r.source(), warnings);
    SourceIndex template = r.template() == null ? null : read(io, r.template(), warnings);
    if (!safetensors) {
      PlanValidator.validate(io, source);
    }
    if (template != null) {
      PlanValidator.validate(io, template);
    }
    MigrationPlan plan =
        template != null
            ? TemplatePlanner.plan(
                source, template, r.warmStart().applyTo(r.templateSpec()), r.rules())
            : Planner.plan(source, r.spec(), r.warmStart().applyTo(r.rules()));
    if (safetensors) {
      plan = SafetensorsImport.withNote(plan);
    }
    String destination =
        safetensors
            ? destinationPrefix(
                io, r.destination(), SafetensorsImport.checkpointName(io, source.prefix()))
            : destinationPrefix(io, r.destination(), source.prefix());
    OutputLayout layout =
        FileReuse.layout(
            io,
            plan,
            source,
            safetensors ? FileReuse.Mode.NEVER : reuse.mode(),
            r.shards(),
            r.shardSize());
    if (checkDestination) {
      // Every write first cleans up after killed writes of the same destination.
      Recovery.Outcome recovered = Recovery.recover(io, destination, warnings);
      if (!recovered.liveOwners().isEmpty()) {
        throw Errors.destinationInUse(destination, recovered.liveOwners().get(0));
      }
      if (!r.overwrite() && Committer.destinationExists(io, destination)) {
        throw Errors.destinationExists(destination);
      }
    }
    StagingArea staging = StagingArea.of(io, destination, StagingArea.newRunId());
    if (checkDestination && Committer.writesDirectly(io, destination, layout.numShards())) {
      staging = staging.direct(layout.numShards()); // object stores: no copy at the commit
    }
    StagingArea forTasks = staging.at(taskLocations.apply(staging.directory()));
    String taskSource = taskLocations.apply(source.prefix());
    FileReuse.Policy how = new FileReuse.Policy(layout.mode(), reuse.verifyCopies());
    List<MigrationTask> tasks = new ArrayList<>();
    // Whole files first: they are the big tasks, and the new shards fill the gaps after them.
    for (FileReuse.ReusedFile f : layout.reused()) {
      if (layout.mode() == FileReuse.Mode.COPY) {
        tasks.add(new MigrationTask.CopyFile(f, how, taskSource, forTasks));
      } else if (how.verifyCopies()) {
        tasks.add(
            new MigrationTask.VerifyLinked(
                f, forTasks.attemptFile(f.targetShard(), "link"), taskSource));
      }
    }
    for (int i = 0; i < layout.newShards().size(); i++) {
      int shard = layout.firstNewShard() + i;
      tasks.add(
          safetensors
              ? new MigrationTask.ImportShard(
                  shard, layout.newShards().get(i), taskLocations.apply(r.source()), forTasks)
              : new MigrationTask.WriteShard(
                  shard, layout.newShards().get(i), taskSource, forTasks));
    }
    return new PreparedMigration(
        io,
        r,
        reuse,
        source.prefix(),
        destination,
        plan,
        layout,
        new Committer(io, forTasks).warnings(warnings),
        tasks,
        taskSource,
        System.nanoTime() - t0);
  }

  private static SourceIndex read(FileIO io, String location, Consumer<String> warnings) {
    try (CheckpointReader reader = CheckpointReader.open(io, location)) {
      reader.warnings().forEach(warnings);
      return SourceIndex.read(reader);
    }
  }

  /**
   * Creates the staging directory; in link mode the driver makes every hard link now (one metadata
   * call each), so a link that cannot be made fails before any byte is copied.
   */
  private void stage() {
    try {
      committer.createStaging();
      if (layout.mode() == FileReuse.Mode.LINK) {
        for (FileReuse.ReusedFile f : layout.reused()) {
          StagedShard linked =
              WholeFileExecutor.run(
                  io,
                  taskSource,
                  f,
                  committer.attemptFile(f.targetShard(), "link"),
                  FileReuse.Policy.of(FileReuse.Mode.LINK),
                  new byte[0],
                  ProgressSink.NONE);
          if (!reuse.verifyCopies()) {
            driverStaged.add(linked);
          }
        }
      }
    } catch (RuntimeException e) {
      abortAfter(e);
      throw e;
    }
  }

  /**
   * DST names the output prefix; a DST that is an existing directory or ends with '/' is a model
   * directory, and the output keeps the source's checkpoint name inside it.
   */
  public static String destinationPrefix(FileIO io, String dst, String sourcePrefix) {
    if (dst.endsWith("/") || io.isDirectory(dst)) {
      String dir = dst.endsWith("/") && dst.length() > 1 ? dst.substring(0, dst.length() - 1) : dst;
      return io.join(dir, io.fileName(sourcePrefix));
    }
    return dst;
  }

  public MigrationRequest request() {
    return request;
  }

  /** The resolved source prefix. */
  public String sourcePrefix() {
    return sourcePrefix;
  }

  /** The resolved destination prefix. */
  public String destination() {
    return destination;
  }

  public MigrationPlan plan() {
    return plan;
  }

  public OutputLayout layout() {
    return layout;
  }

  /** The reuse policy in force (after defaults). */
  public FileReuse.Policy reuse() {
    return reuse;
  }

  /** The staging area tasks write into. */
  public StagingArea staging() {
    return committer.staging();
  }

  /** Time spent opening, planning, validating and laying out. */
  public long planNanos() {
    return planNanos;
  }

  /**
   * Every task still to run, one per output file not made on the driver; independent of each other.
   */
  public List<MigrationTask> tasks() {
    return tasks;
  }

  /** Whether every output byte has its CRC32C checked on the way. */
  public boolean verified() {
    return layout.reused().isEmpty() || reuse.verifyCopies();
  }

  /**
   * Publishes the output from one outcome per task (any order). An {@link TaskOutcome.InputProblem}
   * aborts and is thrown as the corrupt (or unsupported) checkpoint error it stands for. Any
   * failure removes the staged files; the destination is then untouched.
   */
  public MigrationResult commit(List<TaskOutcome> outcomes) {
    if (finished) {
      throw new IllegalStateException(
          "Invalid commit: migration to " + destination + " is not staged");
    }
    try {
      List<StagedShard> staged = new ArrayList<>(driverStaged);
      for (TaskOutcome o : outcomes) {
        if (o instanceof TaskOutcome.InputProblem p) {
          throw p.toException();
        }
        staged.add(((TaskOutcome.Done) o).staged());
      }
      staged.sort(Comparator.comparingInt(StagedShard::shard));
      if (staged.size() != layout.numShards()) {
        throw new IllegalStateException(
            "Invalid commit: "
                + staged.size()
                + " staged files for "
                + layout.numShards()
                + " shards");
      }
      List<IndexRecord> metadata = new ArrayList<>();
      for (PlannedTensor t : plan.tensors()) {
        if (!t.hasData()) {
          metadata.add(new IndexRecord(t.targetKey(), t.toEntry(0, 0, 0)));
        }
      }
      committer.commit(
          staged,
          metadata,
          request.overwrite(),
          StateFileUpdate.of(request.writeStateFile(), request.setLatest()));
      finished = true;
    } catch (RuntimeException e) {
      abortAfter(e);
      throw e;
    }
    return new MigrationResult(
        sourcePrefix, destination, plan, layout, plan.dataBytes(), verified());
  }

  /** Removes everything this migration staged. Safe to call more than once. */
  public void abort() {
    finished = true;
    committer.abort();
  }

  private void abortAfter(RuntimeException failure) {
    try {
      abort();
    } catch (RuntimeException cleanup) {
      failure.addSuppressed(cleanup);
    }
  }
}
