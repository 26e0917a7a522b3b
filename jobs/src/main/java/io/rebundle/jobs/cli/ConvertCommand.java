package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.migrate.WarmStart;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.TemplateSpec;
import io.rebundle.jobs.convert.ConvertJob;
import io.rebundle.jobs.convert.ConvertReport;
import io.rebundle.jobs.convert.LocalTaskEngine;
import io.rebundle.jobs.convert.TaskEngine;
import io.rebundle.jobs.spark.SparkTaskEngine;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code convert}: TF1 to TF2, TF2 to TF1, or a re-shard, in this JVM or as a Spark job ({@link
 * EngineOption}). No Spark type appears in this class's fields or signatures: picocli reflects over
 * them, and the in-process engine must not load Spark.
 */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Convert a checkpoint between TF1 (name-based) and TF2 (object-based) formats, streaming its "
          + "bytes in parallel tasks: threads of this JVM for jobs up to --local-max, else Spark "
          + "(embedded local[*] unless a master is given); see --engine.",
      "SRC: a prefix, a model directory (its 'checkpoint' file picks the latest), a SavedModel directory, "
          + "or safetensors (a .safetensors file, or a directory of shards with model.safetensors.index.json). "
          + "DST: the output prefix, or a model directory (existing, or ending in '/') that receives the "
          + "checkpoint under SRC's name; its directory gets a 'checkpoint' state file.",
      "Locations may be plain paths, file://, hdfs://, gs://, s3a:// (any Hadoop FileSystem on the classpath)."
    },
    footer = {
      "",
      "Examples:",
      "  rebundle convert --to tf2 model.ckpt-1000 /out/tf2/ckpt-1",
      "  rebundle convert --to tf1 --map conf/mappings/bert-layers.yaml hdfs://nn/run7 hdfs://nn/run7-tf1/",
      "  rebundle convert --to tf2 --report - --master yarn --conf spark.executor.memory=4g SRC DST > report.json",
      "  rebundle convert --template new-model/ckpt-1 old/model.ckpt-500 migrated/ckpt-1 --dry-run",
      "  rebundle convert --to tf1 model.safetensors out/bert/"
    })
public final class ConvertCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * An engine on a context lent by the caller (in-process tests share one per JVM: Spark allows
   * only one active context), or null to start one when Spark is needed and stop it afterwards. A
   * lent context is never stopped, {@code --master}/{@code --conf} do not apply to it, and with
   * {@code --engine auto} it counts as a master (Spark runs).
   */
  private final SparkTaskEngine lentContext;

  /** The Spark engine this run started, or null; stopped when the command ends. */
  private SparkTaskEngine started;

  public ConvertCommand() {
    this(null);
  }

  ConvertCommand(SparkTaskEngine lentContext) {
    this(lentContext, java.util.function.UnaryOperator.identity());
  }

  /**
   * A lent engine, and a decorator of the storage (tests wrap it in a slow or failing one); the
   * decorated storage is what the tasks use, so it must be serializable.
   */
  ConvertCommand(
      SparkTaskEngine lentContext, java.util.function.UnaryOperator<FileIO> storageDecorator) {
    this.lentContext = lentContext;
    this.storageDecorator = storageDecorator;
  }

  private final java.util.function.UnaryOperator<FileIO> storageDecorator;

  @Option(
      names = "--to",
      paramLabel = "FORMAT",
      description =
          "tf2, tf1, tf1,tf2 (both: DST-tf1 and DST-tf2), or safetensors (DST a .safetensors file, or a "
              + "directory of --shard-size shards). With --template: the template's format.")
  String to;

  @CommandLine.Mixin PresetOption preset = new PresetOption();

  @Parameters(index = "0", paramLabel = "SRC", description = "The source checkpoint.")
  String source;

  @Parameters(
      index = "1",
      paramLabel = "DST",
      description =
          "The output: a prefix, or a model directory (existing, or ending in '/') that receives the "
              + "checkpoint under SRC's name and a 'checkpoint' state file.")
  String destination;

  @Option(
      names = "--map",
      paramLabel = "FILE",
      description =
          "Mapping file (YAML or JSON): assignment_map, rename, include/exclude/drop, strict, transforms.")
  Path mapFile;

  @Option(
      names = "--template",
      paramLabel = "CKPT",
      description =
          "Fill this checkpoint's keys, dtypes, shapes and object graph with values from SRC "
              + "(a new model saved once, e.g. model.save_weights). Output format = the template's.")
  String template;

  @Option(
      names = "--match",
      paramLabel = "full-name|path",
      defaultValue = "full-name",
      description =
          "With --template: match TF2 variables by full_name (name-based restore, default) or object path.")
  String match;

  @Option(
      names = "--keep-template-values",
      description =
          "With --template: variables SRC does not fill keep the template's values (else an error).")
  boolean keepTemplateValues;

  @Option(
      names = "--strict",
      description = "With --template: source tensors the template does not use are an error.")
  boolean strictUnused;

  @Option(
      names = "--warm-start",
      paramLabel = "VARS_REGEX",
      description =
          "Estimator warm_start: only variables whose name matches (from the start) take SRC values; "
              + "the global step is not carried.")
  String warmStart;

  @Option(
      names = "--prev-name",
      paramLabel = "NEW=OLD",
      description =
          "warm_start's var_name_to_prev_var_name: variable NEW takes SRC's OLD (repeatable).")
  List<String> prevNames = new ArrayList<>();

  @Option(
      names = "--shards",
      paramLabel = "N",
      description = "Number of output data files (with reused source files: of the new ones).")
  Integer shards;

  @Option(
      names = "--shard-size",
      paramLabel = "BYTES",
      description =
          "Target size of one output data file (default 1g; suffixes k, m, g, t). A tensor is never split.")
  String shardSize;

  @Option(
      names = "--root-name",
      paramLabel = "NAME",
      defaultValue = MigrationSpec.DEFAULT_ROOT,
      description =
          "TF2 output: the root attribute holding the variables (default: ${DEFAULT-VALUE}).")
  String rootName;

  @Option(
      names = "--keep-optimizer",
      description = "TF2 to TF1: keep optimizer slots as <variable>/<slot>.")
  boolean keepOptimizer;

  @Option(names = "--merge-slices", description = "Write partitioned variables as full tensors.")
  boolean mergeSlices;

  @Option(
      names = "--reuse-files",
      paramLabel = "auto|copy|link|never",
      description = {
        "Where the plan keeps a source data file's bytes unchanged (keys renamed only), reuse the whole "
            + "file instead of streaming its tensors: copy: a whole-file copy (in the kernel on a local disk); link: a "
            + "hard link (local disk, SRC and DST on one file system); never: stream every tensor, checking each CRC; "
            + "auto (default): copy when the plan is rename-only, no --shards/--shard-size is given and at least 64 MiB "
            + "qualify. Reused files keep SRC's layout; other tensors (save_counter, object graph, transformed) go to "
            + "new shards, which --shards/--shard-size then size. With auto, reused files are still CRC-checked "
            + "(read once more from SRC); with copy and link they are not, unless --verify-copies."
      })
  String reuseFiles;

  @Option(
      names = "--link",
      description = {
        "Shorthand for --reuse-files link: an 8 GiB rename costs what its index costs. A hard link is a "
            + "second name of the same file: editing an output data file in place would change SRC's too. TensorFlow "
            + "never edits data files in place (it writes new ones), and deleting either name leaves the other intact."
      })
  boolean link;

  @Option(
      names = "--verify-copies",
      description =
          "With reused files: read each reused file's tensors and check every CRC32C, as streaming "
              + "does.")
  boolean verifyCopies;

  @Option(
      names = "--overwrite",
      description = "Replace an existing DST, once the new checkpoint is complete.")
  boolean overwrite;

  @Option(names = "--dry-run", description = "Print the plan; move nothing.")
  boolean dryRun;

  @Option(
      names = "--no-state-file",
      description =
          "Do not record DST in the 'checkpoint' state file beside it. By default it is added to the"
              + " file's list of checkpoints (kept paths and timestamps stay; a new file names DST as"
              + " the latest).")
  boolean noStateFile;

  @Option(
      names = "--set-latest",
      description =
          "Also make DST the latest checkpoint in that state file (model_checkpoint_path). Without"
              + " it an existing state file keeps naming its latest checkpoint.")
  boolean setLatest;

  @Option(
      names = "--report",
      paramLabel = "LOCATION",
      description =
          "Write the JSON report to LOCATION: a path or any Hadoop URI (hdfs://, s3a://, ...), or - for "
              + "stdout (the human summary then goes to stderr). Written on failure too (status: failed).")
  String report;

  @Option(
      names = "--json",
      description = "Print the JSON report on stdout (the human summary goes to stderr).")
  boolean json;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master (default: embedded local[*]).")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Spark setting (repeatable).")
  List<String> conf = new ArrayList<>();

  @CommandLine.Mixin EngineOption engine = new EngineOption();

  @Override
  public Integer call() {
    if (preset.listed(spec.commandLine().getOut())) {
      return ExitCodes.OK;
    }
    if (source == null || destination == null) {
      throw new UsageException("Missing SRC and DST");
    }
    if (isSafetensors(to)) {
      PrintWriter err = spec.commandLine().getErr();
      return exportSafetensors(json || "-".equals(report) ? err : spec.commandLine().getOut(), err);
    }
    Instant started = Instant.now();
    List<ConvertJob.Result> results = new ArrayList<>();
    try {
      int code = convert(results);
      report(new ConvertReport.Outcome("convert", started, Instant.now(), results, null));
      return code;
    } catch (RuntimeException | Error e) {
      if (report != null || json) {
        int code = Main.exitCodeFor(e);
        ConvertReport.Failure failure =
            new ConvertReport.Failure(
                code,
                ConvertReport.errorCode(code),
                e.getMessage() == null ? e.toString() : e.getMessage());
        try {
          report(new ConvertReport.Outcome("convert", started, Instant.now(), results, failure));
        } catch (RuntimeException reportFailure) {
          e.addSuppressed(reportFailure);
          spec.commandLine().getErr().println("rebundle: warning: " + reportFailure.getMessage());
        }
      }
      throw e;
    }
  }

  /** The report, where --report and --json ask for it. */
  private void report(ConvertReport.Outcome outcome) {
    PrintWriter out = spec.commandLine().getOut();
    if (report != null) {
      ConvertReport.write(
          storage(parseConf(conf), report.equals("-") ? "." : report), report, outcome, out);
    }
    if (json && !"-".equals(report)) {
      ConvertReport.write(out, outcome);
      out.println();
    }
    out.flush();
  }

  private int convert(List<ConvertJob.Result> results) {
    // With the report on stdout, stdout holds only JSON; the human summary moves to stderr.
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = json || "-".equals(report) ? err : spec.commandLine().getOut();
    List<ConvertJob.Options> migrations = migrations();
    Map<String, String> sparkConf = parseConf(conf);
    if (Main.quiet(spec)) {
      sparkConf.put("rebundle.progress", "false");
    }
    heartbeatForProgress(sparkConf, Progress.intervalSeconds());
    TaskEngine.Choice engines = engines(sparkConf, err);
    String progressBefore = quietLentContext();
    try {
      FileIO io = storageDecorator.apply(io(sparkConf, err));
      refuseReuseOfSafetensors(io);
      for (ConvertJob.Options options : migrations) {
        ConvertJob.Result r = ConvertJob.run(engines, io, options, err);
        results.add(r);
        if (dryRun) {
          ConvertReport.printPlan(out, r);
        } else {
          ConvertReport.printSummary(out, r);
        }
      }
    } finally {
      stopSpark();
      restoreLentContext(progressBefore);
    }
    out.flush();
    return ExitCodes.OK;
  }

  /**
   * With -q, turns the progress of a lent Spark context off (its settings were fixed before this
   * command ran; a local property is not); returns the property's value before, for {@link
   * #restoreLentContext}.
   */
  private String quietLentContext() {
    if (lentContext == null) {
      return null;
    }
    String before = lentContext.context().getLocalProperty(SparkTaskEngine.PROGRESS_PROPERTY);
    if (Main.quiet(spec)) {
      lentContext.context().setLocalProperty(SparkTaskEngine.PROGRESS_PROPERTY, "false");
    }
    return before;
  }

  private void restoreLentContext(String before) {
    if (lentContext != null) {
      lentContext.context().setLocalProperty(SparkTaskEngine.PROGRESS_PROPERTY, before);
    }
  }

  /** Spark's own default time between executor heartbeats, in seconds. */
  static final long SPARK_HEARTBEAT_SECONDS = 10;

  /**
   * Running tasks report their bytes with their executor's heartbeat, so a progress interval
   * shorter than Spark's heartbeat (10 s) would print the same numbers twice: such an interval also
   * sets spark.executor.heartbeatInterval, unless the user set it.
   */
  static void heartbeatForProgress(Map<String, String> sparkConf, long intervalSeconds) {
    if (intervalSeconds < SPARK_HEARTBEAT_SECONDS
        && !"false".equals(sparkConf.get("rebundle.progress"))) {
      sparkConf.putIfAbsent("spark.executor.heartbeatInterval", intervalSeconds + "s");
    }
  }

  /**
   * How this run picks its engine ({@link EngineOption}): Spark when asked for or a master is
   * given, this JVM when asked for, else by the bytes the prepared tasks move. Spark is started on
   * first need only.
   */
  private TaskEngine.Choice engines(Map<String, String> sparkConf, PrintWriter err) {
    EngineOption.Engine resolved = engine.resolve(master, sparkConf, lentContext != null);
    boolean progress = Boolean.parseBoolean(sparkConf.getOrDefault("rebundle.progress", "true"));
    return tasks -> {
      boolean local =
          resolved == EngineOption.Engine.LOCAL
              || resolved == EngineOption.Engine.AUTO && engine.fitsLocal(TaskEngine.bytes(tasks));
      return local ? new LocalTaskEngine(0, progress) : spark(sparkConf, err);
    };
  }

  /**
   * The storage of SRC and DST: with Spark asked for up front, through the context's Hadoop
   * configuration (as before there was a choice); otherwise configured without Spark ({@link
   * StorageOptions}), and {@link io.rebundle.codec.io.LocalFileIO} for local paths, which loads no
   * Hadoop class.
   */
  private FileIO io(Map<String, String> sparkConf, PrintWriter err) {
    if (engine.resolve(master, sparkConf, lentContext != null) == EngineOption.Engine.SPARK) {
      return HadoopSettings.forLocations(
          HadoopSettings.withSettings(spark(sparkConf, err).hadoopConfiguration(), sparkConf),
          source,
          destination);
    }
    return storage(sparkConf, source, destination);
  }

  /** Storage for {@code locations} without Spark: Hadoop's (configured) only if one needs it. */
  private static FileIO storage(Map<String, String> sparkConf, String... locations) {
    for (String l : locations) {
      if (!StorageOptions.isLocal(l)) {
        return new io.rebundle.jobs.io.HadoopFileIO(
            HadoopSettings.configuration(sparkConf, System.getenv()));
      }
    }
    return new io.rebundle.codec.io.LocalFileIO();
  }

  /** The Spark engine: the lent one, else one started now (once). */
  private SparkTaskEngine spark(Map<String, String> sparkConf, PrintWriter err) {
    if (lentContext != null) {
      return lentContext;
    }
    if (started == null) {
      started = SparkTaskEngine.start("rebundle convert", master, sparkConf, err);
    }
    return started;
  }

  private void stopSpark() {
    if (started != null) {
      started.close();
      started = null;
    }
  }

  /**
   * A safetensors SRC is imported by streaming every tensor (its files are not TensorBundle data
   * files), so the options that reuse data files whole are refused rather than ignored; a
   * safetensors template is refused with the reason (it has no object graph to give).
   */
  private void refuseReuseOfSafetensors(FileIO io) {
    if (template != null && SafetensorsCommands.isSafetensors(io, template)) {
      throw new UsageException(
          "Invalid --template: "
              + template
              + " is safetensors; a template is a TensorFlow checkpoint (it gives the keys and the "
              + "object graph), and safetensors goes in SRC");
    }
    if ((reuseFiles != null || link || verifyCopies)
        && SafetensorsCommands.isSafetensors(io, source)) {
      throw new UsageException(
          "Invalid options: --reuse-files, --link and --verify-copies reuse TensorBundle data "
              + "files; "
              + source
              + " is safetensors, whose tensors are always streamed");
    }
  }

  /**
   * {@code --to safetensors}: DST is a .safetensors file, or a directory of --shard-size shards.
   */
  private Integer exportSafetensors(PrintWriter out, PrintWriter err) {
    if (template != null
        || shards != null
        || keepOptimizer
        || !prevNames.isEmpty()
        || warmStart != null) {
      throw new UsageException(
          "Invalid options: --to safetensors takes no --template, --shards, --keep-optimizer "
              + "or warm start (use --shard-size for sharded output)");
    }
    long size = shardSize == null ? SAFETENSORS_SHARD_SIZE : parseSize(shardSize);
    MappingRules rules = preset.rules(mapFile);
    Map<String, String> sparkConf = parseConf(conf);
    long start = System.nanoTime();
    if (Main.quiet(spec)) {
      sparkConf.put("rebundle.progress", "false");
    }
    heartbeatForProgress(sparkConf, Progress.intervalSeconds());
    TaskEngine.Choice engines = engines(sparkConf, err);
    String progressBefore = quietLentContext();
    ConvertJob.ExportResult r;
    try {
      FileIO io = io(sparkConf, err);
      ConvertJob.Options options =
          new ConvertJob.Options(
              source,
              destination,
              MigrationSpec.to(CheckpointFormat.TF1),
              rules,
              0,
              size,
              overwrite,
              dryRun,
              false);
      r = ConvertJob.export(engines, io, options, err);
    } finally {
      stopSpark();
      restoreLentContext(progressBefore);
    }
    out.printf(
        "%s %s -> %s (safetensors): %d tensors, %s in %d file%s%n",
        dryRun ? "Would export" : "Exported",
        r.sourcePrefix(),
        r.destination(),
        r.plan().dataTensors(),
        io.rebundle.jobs.util.Sizes.human(r.bytes()),
        r.files().size(),
        r.files().size() == 1 ? "" : "s");
    for (int i = 0; i < r.files().size(); i++) {
      out.printf(
          "  %s  %s%n", r.files().get(i), io.rebundle.jobs.util.Sizes.human(r.fileBytes()[i]));
    }
    if (!r.plan().dropped().isEmpty()) {
      out.printf("Dropped %d:%n", r.plan().dropped().size());
      r.plan().dropped().forEach(d -> out.printf("  %s  (%s)%n", d.key(), d.reason()));
    }
    if (report != null) {
      StringBuilder json =
          new StringBuilder("{\"format\": \"safetensors\", \"source\": ")
              .append(quote(r.sourcePrefix()))
              .append(", \"destination\": ")
              .append(quote(r.destination()))
              .append(", \"tensors\": ")
              .append(r.plan().dataTensors())
              .append(", \"bytes\": ")
              .append(r.bytes())
              .append(", \"files\": [");
      for (int i = 0; i < r.files().size(); i++) {
        json.append(i == 0 ? "" : ", ").append(quote(r.files().get(i)));
      }
      json.append("], \"dropped\": [");
      for (int i = 0; i < r.plan().dropped().size(); i++) {
        var d = r.plan().dropped().get(i);
        json.append(i == 0 ? "" : ", ")
            .append("{\"key\": ")
            .append(quote(d.key()))
            .append(", \"reason\": ")
            .append(quote(d.reason()))
            .append('}');
      }
      json.append("], \"seconds\": ")
          .append(String.format(Locale.ROOT, "%.3f", (System.nanoTime() - start) / 1e9))
          .append("}\n");
      if (report.equals("-")) {
        spec.commandLine().getOut().print(json);
      } else {
        try {
          Files.writeString(Path.of(report), json.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot write " + report + ": " + e.getMessage(), e);
        }
      }
    }
    out.flush();
    return ExitCodes.OK;
  }

  /**
   * Default shard size of a sharded safetensors export: transformers' save_pretrained default (5
   * GB).
   */
  static final long SAFETENSORS_SHARD_SIZE = 5_000_000_000L;

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  static boolean isSafetensors(String to) {
    return to != null && to.trim().equalsIgnoreCase("safetensors");
  }

  /**
   * The migrations this command line asks for, one per output (two for {@code --to tf1,tf2}), with
   * every option checked as {@code convert} checks it (a {@link UsageException} otherwise). Shared
   * with {@code batch}, whose manifest rows are convert command lines: one meaning of every option.
   */
  public List<ConvertJob.Options> migrations() {
    if (setLatest && noStateFile) {
      throw new UsageException("--set-latest and --no-state-file cannot be used together");
    }
    if (to == null && template == null) {
      throw new UsageException(
          "Missing --to FORMAT (tf1, tf2 or tf1,tf2), or a --template to take the format from");
    }
    if (template != null && to != null && to.contains(",")) {
      throw new UsageException(
          "Invalid options: --template gives one output; --to " + to + " asks for two");
    }
    if (!match.equals("full-name") && !match.equals("path")) {
      throw new UsageException("Invalid --match: " + match + " (expected full-name or path)");
    }
    if (template == null && (keepTemplateValues || strictUnused || !match.equals("full-name"))) {
      throw new UsageException(
          "Invalid options: --match, --keep-template-values and --strict need --template");
    }
    List<CheckpointFormat> targets = to == null ? List.of(CheckpointFormat.TF1) : parseTargets(to);
    if (shards != null && shardSize != null) {
      throw new UsageException("Invalid options: give --shards or --shard-size, not both");
    }
    if (shards != null && shards < 1) {
      throw new UsageException("Invalid --shards: " + shards + " (must be at least 1)");
    }
    long size = shardSize == null ? Scheduler.DEFAULT_SHARD_SIZE : parseSize(shardSize);
    FileReuse.Policy reuse = reusePolicy();
    MappingRules rules = preset.rules(mapFile);
    Map<String, String> previous = new LinkedHashMap<>();
    for (String p : prevNames) {
      int eq = p.indexOf('=');
      if (eq <= 0 || eq == p.length() - 1) {
        throw new UsageException("Invalid --prev-name: " + p + " (expected NEW=OLD)");
      }
      previous.put(p.substring(0, eq), p.substring(eq + 1));
    }
    java.util.regex.Pattern warm = null;
    if (warmStart != null) {
      try {
        warm = java.util.regex.Pattern.compile(warmStart);
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new UsageException(
            "Invalid --warm-start regex '" + warmStart + "': " + e.getDescription());
      }
    }
    // What a warm start means (with or without a template) is the core's business (WarmStart).
    WarmStart warmStarting = new WarmStart(warm, previous);
    TemplateSpec templateSpec =
        template == null
            ? null
            : new TemplateSpec(
                match.equals("path"), keepTemplateValues, strictUnused, null, Map.of());
    List<ConvertJob.Options> migrations = new ArrayList<>();
    for (CheckpointFormat target : targets) {
      String dst = targets.size() == 1 ? destination : destination + "-" + target.id();
      MigrationSpec migration;
      try {
        migration = new MigrationSpec(target, rootName, keepOptimizer, mergeSlices);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      migrations.add(
          new ConvertJob.Options(
              source,
              dst,
              migration,
              rules,
              shards == null ? 0 : shards,
              size,
              overwrite,
              dryRun,
              !noStateFile,
              template,
              templateSpec,
              reuse,
              warmStarting,
              setLatest));
    }
    return migrations;
  }

  private FileReuse.Policy reusePolicy() {
    FileReuse.Mode mode;
    try {
      mode = reuseFiles == null ? FileReuse.Mode.AUTO : FileReuse.Mode.parse(reuseFiles);
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "Invalid --reuse-files: " + reuseFiles + " (expected auto, copy, link or never)");
    }
    if (link) {
      if (reuseFiles != null && mode != FileReuse.Mode.LINK) {
        throw new UsageException(
            "Invalid options: --link is --reuse-files link; --reuse-files "
                + reuseFiles
                + " asks for something else");
      }
      mode = FileReuse.Mode.LINK;
    }
    if (verifyCopies && mode == FileReuse.Mode.NEVER) {
      throw new UsageException(
          "Invalid options: --verify-copies checks reused files, and --reuse-files never reuses "
              + "none (streaming checks every CRC anyway)");
    }
    // The core verifies whatever auto reuses (MigrationRequest.effectiveReuse): the default never
    // trades
    // the CRC check of every source byte for speed; asking for copy or link explicitly does.
    FileReuse.Policy policy = FileReuse.Policy.of(mode);
    return verifyCopies ? policy.withVerification() : policy;
  }

  static List<CheckpointFormat> parseTargets(String to) {
    LinkedHashSet<CheckpointFormat> set = new LinkedHashSet<>();
    for (String part : to.split(",")) {
      try {
        set.add(CheckpointFormat.parse(part));
      } catch (IllegalArgumentException e) {
        throw new UsageException("Invalid --to: " + to + " (expected tf1, tf2 or tf1,tf2)");
      }
    }
    return new ArrayList<>(set);
  }

  static long parseSize(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    long mult = 1;
    char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
    if (last == 'b' && t.length() > 1 && Character.isLetter(t.charAt(t.length() - 2))) {
      t = t.substring(0, t.length() - 1);
      last = t.charAt(t.length() - 1);
    }
    switch (last) {
      case 'k' -> mult = 1L << 10;
      case 'm' -> mult = 1L << 20;
      case 'g' -> mult = 1L << 30;
      case 't' -> mult = 1L << 40;
      default -> {}
    }
    if (mult > 1) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      long v = Long.parseLong(t.trim());
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(v, mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("Invalid size: " + s + " (e.g. 1073741824, 512m, 1g)");
    }
  }

  static Map<String, String> parseConf(List<String> items) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String c : items) {
      int eq = c.indexOf('=');
      if (eq <= 0) {
        throw new UsageException("Invalid --conf: " + c + " (expected KEY=VALUE)");
      }
      m.put(c.substring(0, eq), c.substring(eq + 1));
    }
    return m;
  }
}
