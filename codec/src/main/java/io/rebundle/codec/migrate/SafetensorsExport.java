package io.rebundle.codec.migrate;

import io.rebundle.codec.Errors;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.exec.TensorStreams;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlanValidator;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.safetensors.SafetensorsDType;
import io.rebundle.codec.safetensors.SafetensorsEntry;
import io.rebundle.codec.safetensors.SafetensorsHeader;
import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import io.rebundle.codec.safetensors.SafetensorsIndex;
import io.rebundle.codec.safetensors.SafetensorsLayout;
import io.rebundle.codec.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * {@code convert --to safetensors}: the migration path with safetensors as the output format. The
 * plan is the TF1 plan of the source (TF1 keys; TF2 variables under their {@code full_name};
 * partitioned variables merged; mapping rules, transposes and casts applied), minus training state
 * (optimizer slots, {@code save_counter}, {@code global_step}, listed as dropped). The layout is a
 * {@link SafetensorsLayout}: one file when the destination ends in {@code .safetensors}, else a
 * directory of {@code --shard-size} shards plus the index json. Each output file is one {@link
 * MigrationTask.WriteSafetensors} (any engine runs them), staged next to the destination; {@link
 * #commit} moves the files in place and the index last. Not thread-safe; driver-side only.
 */
public final class SafetensorsExport {
  /** File name suffix that makes a destination a single file rather than a directory. */
  public static final String FILE_SUFFIX = ".safetensors";

  private static final Set<String> TRAINING_STATE =
      Set.of("global_step", Planner.SAVE_COUNTER, "beta1_power", "beta2_power");
  private static final List<String> SLOT_SUFFIXES =
      List.of(
          "/Adam",
          "/Adam_1",
          "/adam_m",
          "/adam_v",
          "/Momentum",
          "/RMSProp",
          "/RMSProp_1",
          "/Adagrad",
          "/Ftrl",
          "/Ftrl_1",
          "/ExponentialMovingAverage");

  private final FileIO io;
  private final MigrationRequest request;
  private final String destination;
  private final boolean singleFile;
  private final MigrationPlan plan;
  private final SafetensorsLayout layout;
  private final StagingArea staging;
  private final List<MigrationTask> tasks;
  private final long planNanos;
  private boolean finished;

  private SafetensorsExport(
      FileIO io,
      MigrationRequest request,
      String destination,
      boolean singleFile,
      MigrationPlan plan,
      SafetensorsLayout layout,
      StagingArea staging,
      List<MigrationTask> tasks,
      long planNanos) {
    this.io = io;
    this.request = request;
    this.destination = destination;
    this.singleFile = singleFile;
    this.plan = plan;
    this.layout = layout;
    this.staging = staging;
    this.tasks = List.copyOf(tasks);
    this.planNanos = planNanos;
  }

  /** Plans, lays out, checks the destination and creates the staging directory. */
  public static SafetensorsExport prepare(
      FileIO io,
      MigrationRequest request,
      Consumer<String> warnings,
      UnaryOperator<String> taskLocations) {
    SafetensorsExport e = build(io, request, warnings, taskLocations, true);
    e.staging.create(io);
    return e;
  }

  /** The plan and layout only (dry run): nothing is checked at the destination or written. */
  public static SafetensorsExport preview(
      FileIO io, MigrationRequest request, Consumer<String> warnings) {
    SafetensorsExport e = build(io, request, warnings, UnaryOperator.identity(), false);
    e.finished = true;
    return e;
  }

  /** Whether {@code location} names a safetensors export target that is a single file. */
  public static boolean isSingleFile(String location) {
    return location.endsWith(FILE_SUFFIX);
  }

  private static SafetensorsExport build(
      FileIO io,
      MigrationRequest r,
      Consumer<String> warnings,
      UnaryOperator<String> taskLocations,
      boolean checkDestination) {
    long t0 = System.nanoTime();
    if (r.template() != null) {
      throw new IllegalArgumentException(
          "Invalid migration: a safetensors export takes no template");
    }
    SourceIndex source;
    try (CheckpointReader reader = CheckpointReader.open(io, r.source())) {
      reader.warnings().forEach(warnings);
      source = SourceIndex.read(reader);
    }
    PlanValidator.validate(io, source);
    MigrationSpec spec =
        new MigrationSpec(CheckpointFormat.TF1, MigrationSpec.DEFAULT_ROOT, false, true);
    MigrationPlan plan =
        withoutTrainingState(Planner.plan(source, spec, r.warmStart().applyTo(r.rules())));
    String dst =
        r.destination().endsWith("/") && r.destination().length() > 1
            ? r.destination().substring(0, r.destination().length() - 1)
            : r.destination();
    boolean single = isSingleFile(dst);
    Map<String, String> metadata =
        SafetensorsWriter.defaultMetadata(source.prefix(), toolVersion());
    List<TensorSpec> specs = new ArrayList<>();
    Map<String, PlannedTensor> byName = new HashMap<>();
    for (PlannedTensor t : plan.tensors()) {
      DType dtype = DType.fromCode(t.dtypeCode());
      SafetensorsDType st = SafetensorsDType.fromTf(t.sourceName(), dtype);
      specs.add(new TensorSpec(t.targetName(), st, t.shape()));
      byName.put(t.targetName(), t);
    }
    SafetensorsLayout layout;
    try {
      layout =
          single
              ? SafetensorsLayout.single(io.fileName(dst), metadata, specs)
              : SafetensorsLayout.sharded(metadata, specs, r.shardSize());
      for (SafetensorsLayout.PlannedFile f : layout.files()) {
        f.header()
            .encode(); // refuses a header over the format's 100 MB now, before any byte is written
      }
    } catch (IllegalArgumentException e) {
      throw new UnsupportedCheckpointException(
          "Cannot export " + source.prefix() + " to safetensors: " + e.getMessage());
    }
    if (checkDestination && !r.overwrite() && exists(io, dst, single)) {
      throw Errors.destinationExists(dst);
    }
    StagingArea staging = StagingArea.of(io, dst, StagingArea.newRunId());
    StagingArea forTasks = staging.at(taskLocations.apply(staging.directory()));
    String taskSource = taskLocations.apply(source.prefix());
    List<MigrationTask> tasks = new ArrayList<>();
    for (int i = 0; i < layout.files().size(); i++) {
      SafetensorsLayout.PlannedFile f = layout.files().get(i);
      List<PlannedTensor> ordered = new ArrayList<>();
      for (SafetensorsEntry e : f.header().entries()) {
        ordered.add(byName.get(e.name()));
      }
      tasks.add(
          new MigrationTask.WriteSafetensors(i, f.name(), metadata, ordered, taskSource, forTasks));
    }
    return new SafetensorsExport(
        io, r, dst, single, plan, layout, forTasks, tasks, System.nanoTime() - t0);
  }

  /** The plan without optimizer slots, save_counter and global_step, each listed as dropped. */
  static MigrationPlan withoutTrainingState(MigrationPlan plan) {
    List<PlannedTensor> kept = new ArrayList<>();
    List<MigrationPlan.Dropped> dropped = new ArrayList<>(plan.dropped());
    for (PlannedTensor t : plan.tensors()) {
      String reason = trainingState(t.sourceName());
      if (reason == null) {
        reason = trainingState(t.targetName());
      }
      if (reason == null) {
        kept.add(t);
      } else {
        dropped.add(new MigrationPlan.Dropped(t.sourceName(), reason));
      }
    }
    return new MigrationPlan(
        plan.sourcePrefix(),
        plan.sourceFormat(),
        plan.targetFormat(),
        kept,
        dropped,
        plan.renamed(),
        plan.notes());
  }

  private static String trainingState(String name) {
    if (name == null) {
      return null;
    }
    String base = name.startsWith(Planner.SAVE_COUNTER + "/") ? Planner.SAVE_COUNTER : name;
    if (TRAINING_STATE.contains(base)) {
      return base + ": training state, not a weight";
    }
    for (String s : SLOT_SUFFIXES) {
      if (name.endsWith(s)) {
        return "optimizer slot: training state, not a weight";
      }
    }
    return null;
  }

  private static boolean exists(FileIO io, String dst, boolean single) {
    if (single) {
      return io.exists(dst);
    }
    return io.exists(io.join(dst, SafetensorsLayout.SINGLE_FILE_NAME))
        || io.exists(io.join(dst, SafetensorsIndex.FILE_NAME));
  }

  private static String toolVersion() {
    String v = SafetensorsExport.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Makes one output file at {@code location} (staging) from {@code task}; run by any engine. */
  static StagedShard writeFile(
      FileIO io,
      MigrationTask.WriteSafetensors task,
      String location,
      int bufferSize,
      ProgressSink progress) {
    List<TensorSpec> specs = new ArrayList<>();
    for (PlannedTensor t : task.planned()) {
      specs.add(
          new TensorSpec(
              t.targetName(),
              SafetensorsDType.fromTf(t.sourceName(), DType.fromCode(t.dtypeCode())),
              t.shape()));
    }
    SafetensorsHeader header = SafetensorsHeader.layout(task.metadata(), specs);
    for (int i = 0; i < specs.size(); i++) {
      if (!header.entries().get(i).name().equals(task.planned().get(i).targetName())) {
        throw new IllegalStateException(
            "Invalid safetensors task: tensor "
                + i
                + " of "
                + task.name()
                + " is out of the header's order");
      }
    }
    byte[] buffer = new byte[bufferSize];
    try (SafetensorsWriter writer = SafetensorsWriter.create(io, location, header);
        CheckpointReader reader = CheckpointReader.openPrefix(io, task.sourcePrefix())) {
      OutputStream out =
          new OutputStream() {
            @Override
            public void write(int b) {
              write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
              writer.write(b, off, len);
            }
          };
      for (PlannedTensor t : task.planned()) {
        TensorStreams.write(reader, t, out, buffer, ProgressSink.NONE);
        progress.bytes(t.size());
        progress.tensors(1);
      }
      writer.commit();
      return new StagedShard(task.shard(), location, List.of(), writer.fileLength());
    }
  }

  public MigrationRequest request() {
    return request;
  }

  /** The output: a {@code .safetensors} file or a directory. */
  public String destination() {
    return destination;
  }

  public boolean singleFile() {
    return singleFile;
  }

  public MigrationPlan plan() {
    return plan;
  }

  public SafetensorsLayout layout() {
    return layout;
  }

  public long planNanos() {
    return planNanos;
  }

  /** One task per output file. */
  public List<MigrationTask> tasks() {
    return tasks;
  }

  /**
   * Moves every staged file to its place, the index json last (a reader that finds the index finds
   * every shard). An {@link TaskOutcome.InputProblem} aborts and is thrown; any failure removes the
   * staged files.
   */
  public MigrationResult commit(List<TaskOutcome> outcomes) {
    if (finished) {
      throw new IllegalStateException(
          "Invalid commit: export to " + destination + " is not staged");
    }
    try {
      String[] staged = new String[layout.files().size()];
      long bytes = 0;
      for (TaskOutcome o : outcomes) {
        if (o instanceof TaskOutcome.InputProblem p) {
          throw p.toException();
        }
        StagedShard s = ((TaskOutcome.Done) o).staged();
        staged[s.shard()] = s.file();
        bytes += s.bytes();
      }
      for (int i = 0; i < staged.length; i++) {
        if (staged[i] == null) {
          throw new IllegalStateException(
              "Invalid commit: no staged file for " + layout.files().get(i).name());
        }
      }
      String index = null;
      if (singleFile) {
        removeIfExists(destination);
        io.rename(staged[0], destination);
      } else {
        io.mkdirs(destination);
        removeIfExists(io.join(destination, SafetensorsIndex.FILE_NAME));
        removeIfExists(io.join(destination, SafetensorsLayout.SINGLE_FILE_NAME));
        for (int i = 0; i < staged.length; i++) {
          String target = io.join(destination, layout.files().get(i).name());
          removeIfExists(target);
          io.rename(staged[i], target);
        }
        if (layout.index() != null) {
          index = io.join(staging.directory(), SafetensorsIndex.FILE_NAME);
          try (var out = io.newOutputFile(index).create()) {
            out.write(layout.index().encode());
          } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + index + ": " + e.getMessage(), e);
          }
          io.rename(index, io.join(destination, SafetensorsIndex.FILE_NAME));
        }
      }
      finished = true;
      staging.remove(io);
      return new MigrationResult(plan.sourcePrefix(), destination, plan, null, bytes, true);
    } catch (RuntimeException e) {
      try {
        abort();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private void removeIfExists(String location) {
    if (io.exists(location)) {
      io.delete(location);
    }
  }

  /** Removes everything this export staged. Safe to call more than once. */
  public void abort() {
    finished = true;
    staging.remove(io);
  }
}
