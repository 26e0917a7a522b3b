package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.jobs.batch.BatchDiscovery;
import io.rebundle.jobs.batch.BatchEngine;
import io.rebundle.jobs.batch.BatchProgress;
import io.rebundle.jobs.batch.BatchReport;
import io.rebundle.jobs.batch.BatchRow;
import io.rebundle.jobs.batch.BatchRunner;
import io.rebundle.jobs.batch.LocalBatchEngine;
import io.rebundle.jobs.batch.Manifest;
import io.rebundle.jobs.batch.ManifestFields;
import io.rebundle.jobs.batch.ManifestRow;
import io.rebundle.jobs.batch.RowResult;
import io.rebundle.jobs.batch.SparkBatchEngine;
import io.rebundle.jobs.convert.ConvertJob;
import io.rebundle.jobs.convert.LocalTaskEngine;
import io.rebundle.jobs.convert.TaskEngine;
import io.rebundle.jobs.spark.SparkContexts;
import io.rebundle.jobs.util.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code batch}: a fleet of migrations from a manifest (or discovered), idempotent, in one Spark
 * application.
 */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run many migrations in one Spark application: one per row of MANIFEST (JSON Lines, or CSV with "
          + "a header), each row meaning exactly what the same 'convert' command line means.",
      "Fields: src, dst, to (or template), and any convert option in snake_case (map, root_name, shards, "
          + "merge_slices, keep_optimizer, reuse_files, overwrite, ...). A bad row (unknown field, missing src, "
          + "duplicate dst, rows writing into each other) is reported as file:line and nothing runs (exit 2).",
      "A success record (<output prefix>"
          + io.rebundle.jobs.batch.SuccessRecord.SUFFIX
          + ") is written beside "
          + "each output; a rerun skips rows whose record matches their source, spec and output, reading only "
          + "indexes and records (--force redoes them). A failing row leaves nothing at its dst; the others go "
          + "on. Exit 0: every row converted or skipped; 1: some failed; 2: bad manifest or options.",
      "With --discover ROOT --dst-root DST_ROOT: the rows are every checkpoint found under ROOT (model "
          + "directories: the latest, or --all-checkpoints; SavedModels; bare prefixes), each mapped to the same "
          + "relative path under DST_ROOT; --write-manifest FILE writes them instead of running them."
    })
public final class BatchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** A context lent by the caller (tests), never stopped; null: create one per run. */
  private final io.rebundle.jobs.spark.LentContext lent;

  public BatchCommand() {
    this(null);
  }

  BatchCommand(io.rebundle.jobs.spark.LentContext lent) {
    this.lent = lent;
  }

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "MANIFEST",
      description =
          "The manifest: a local path or any Hadoop location (.csv: CSV; .jsonl/.json: JSON Lines).")
  String manifest;

  @Option(
      names = "--discover",
      paramLabel = "ROOT",
      description = "Find the rows: every checkpoint under ROOT.")
  String discover;

  @Option(
      names = "--dst-root",
      paramLabel = "DST_ROOT",
      description =
          "With --discover: each checkpoint's output goes to its relative path under DST_ROOT.")
  String dstRoot;

  @Option(
      names = "--to",
      paramLabel = "FORMAT",
      description = "With --discover: the rows' target format (tf1, tf2).")
  String to;

  @Option(
      names = "--all-checkpoints",
      description = "With --discover: every checkpoint of a model directory, not only its latest.")
  boolean allCheckpoints;

  @Option(
      names = "--write-manifest",
      paramLabel = "FILE",
      description = "With --discover: write the rows to FILE (JSON Lines) and run nothing.")
  String writeManifest;

  @Option(
      names = "--parallel",
      paramLabel = "N",
      defaultValue = "32",
      description =
          "Rows in flight at once (prepared, running or committing; default: ${DEFAULT-VALUE}).")
  int parallel;

  @Option(
      names = "--max-failures",
      paramLabel = "K",
      defaultValue = "0",
      description = "Stop starting rows once K rows failed (default 0: never stop).")
  int maxFailures;

  @Option(
      names = "--force",
      description = "Redo every row, even those whose success record matches.")
  boolean force;

  @Option(
      names = "--shard",
      paramLabel = "I/N",
      description =
          "Run only rows I, I+N, I+2N, ... of the manifest (0-based), e.g. one Airflow task each; the "
              + "whole manifest is still checked.")
  String shard;

  @Option(
      names = "--report",
      paramLabel = "FILE.json",
      description = "Write {\"rows\": [...], \"totals\": {...}} to FILE.json.")
  String report;

  @Option(
      names = "--log-dir",
      paramLabel = "DIR",
      description =
          "Append each row's result as a JSON line to a new file in DIR (any Hadoop location).")
  String logDir;

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
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if ((manifest == null) == (discover == null)) {
      throw new UsageException("Invalid options: give a MANIFEST or --discover ROOT (one of them)");
    }
    if (discover == null
        && (dstRoot != null || to != null || allCheckpoints || writeManifest != null)) {
      throw new UsageException(
          "Invalid options: --dst-root, --to, --all-checkpoints and --write-manifest go with "
              + "--discover");
    }
    if (discover != null && (dstRoot == null || to == null)) {
      throw new UsageException(
          "Invalid options: --discover needs --dst-root DST_ROOT and --to FORMAT");
    }
    if (parallel < 1) {
      throw new UsageException("Invalid --parallel: " + parallel + " (must be at least 1)");
    }
    if (maxFailures < 0) {
      throw new UsageException("Invalid --max-failures: " + maxFailures + " (must be 0 or more)");
    }
    int[] shardOf = shard == null ? new int[] {0, 1} : parseShard(shard);
    Map<String, String> sparkConf = ConvertCommand.parseConf(conf);
    // Hadoop settings given as --conf spark.hadoop.KEY=VALUE, for storage used before Spark starts.
    Configuration hadoop = HadoopSettings.withSettings(new Configuration(), sparkConf);

    String label;
    String text;
    if (discover != null) {
      ConvertCommand.parseTargets(to);
      FileIO listing = HadoopSettings.forLocations(hadoop, discover, dstRoot);
      text = BatchDiscovery.manifest(listing, discover, dstRoot, to, allCheckpoints, err);
      label = writeManifest != null ? writeManifest : "discovered rows";
      if (writeManifest != null) {
        long n = text.lines().count();
        write(HadoopSettings.forLocations(hadoop, writeManifest), writeManifest, text);
        // Check what was written the way a run will read it.
        Manifest.read(writeManifest, new StringReader(text));
        out.printf(
            "batch: %d checkpoints under %s; manifest written to %s%n", n, discover, writeManifest);
        out.flush();
        return ExitCodes.OK;
      }
      if (text.isEmpty()) {
        out.printf("batch: no checkpoints under %s; nothing to do%n", discover);
        out.flush();
        return ExitCodes.OK;
      }
    } else {
      label = manifest;
      text = read(HadoopSettings.forLocations(hadoop, manifest), manifest);
    }
    List<ManifestRow> manifestRows = Manifest.read(label, new StringReader(text));
    List<BatchRow> all = rows(manifestRows, label);
    List<BatchRow> rows = new ArrayList<>();
    for (BatchRow r : all) {
      if (r.index() % shardOf[1] == shardOf[0]) {
        rows.add(r);
      }
    }

    long start = System.nanoTime();
    Set<String> locations = new LinkedHashSet<>();
    for (BatchRow r : rows) {
      locations.add(r.row().src());
      locations.add(r.row().dst());
    }
    if (logDir != null) {
      locations.add(logDir);
    }
    List<RowResult> results;
    // Spark starts only when a row has tasks to run: a rerun with every row done reads indexes and
    // success records and never pays Spark's start-up. Hadoop locations need Spark's Hadoop
    // settings
    // from the start, so there it starts at once.
    boolean local = locations.stream().allMatch(StorageOptions::isLocal);
    EngineOption.Engine resolved = engine.resolve(master, sparkConf, lent != null);
    SparkEngineHolder spark =
        new SparkEngineHolder(lent == null ? null : lent.context(), master, sparkConf);
    // The failure of a row is that row's; only a failure outside every row (Spark, storage of the
    // report or log) ends the run here.
    try {
      FileIO io =
          local
              ? new io.rebundle.codec.io.LocalFileIO()
              : HadoopSettings.forLocations(
                  resolved == EngineOption.Engine.SPARK
                      ? spark.context().hadoopConfiguration()
                      : HadoopSettings.configuration(sparkConf, System.getenv()),
                  locations.toArray(String[]::new));
      spark.io = io;
      LocalBatchEngine inProcess =
          new LocalBatchEngine(
              io,
              Math.min(LocalTaskEngine.MAX_THREADS, Runtime.getRuntime().availableProcessors()));
      BatchEngine engines =
          switch (resolved) {
            case LOCAL -> inProcess;
            case SPARK -> spark;
            case AUTO -> new SizeChoice(inProcess, spark, engine.localMaxBytes());
          };
      boolean showProgress =
          Boolean.parseBoolean(
              sparkConf.getOrDefault(
                  "rebundle.progress", String.valueOf(System.console() != null)));
      BatchProgress progress = new BatchProgress(err, showProgress, 1000, rows.size());
      BatchReport.Log[] log = {null};
      BatchRunner runner =
          new BatchRunner(
              io,
              engines,
              location -> ConvertJob.forExecutors(io, location),
              BatchRunner.Options.of(parallel, maxFailures, force),
              progress,
              r -> {
                if (log[0] != null) {
                  log[0].row(r);
                }
              },
              w -> err.println("rebundle: warning: " + w),
              BatchCommand::errorKind,
              tool());
      log[0] = logDir == null ? null : new BatchReport.Log(io, logDir, runner.runId());
      try {
        results = runner.run(rows);
      } finally {
        if (log[0] != null) {
          log[0].close();
        }
      }
    } finally {
      spark.close();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (report != null) {
      FileIO reportIo = HadoopSettings.forLocations(hadoop, report);
      String parent = reportIo.parent(report);
      if (!parent.isEmpty()) {
        reportIo.mkdirs(parent);
      }
      write(reportIo, report, BatchReport.json(results, seconds) + "\n");
    }
    Map<RowResult.Status, Integer> totals = BatchReport.totals(results);
    out.printf(
        "batch: %d rows: %d converted, %d skipped, %d failed%s; %s in %.1f s%n",
        results.size(),
        totals.get(RowResult.Status.CONVERTED),
        totals.get(RowResult.Status.SKIPPED),
        totals.get(RowResult.Status.FAILED),
        totals.get(RowResult.Status.NOT_RUN) > 0
            ? ", " + totals.get(RowResult.Status.NOT_RUN) + " not run"
            : "",
        Sizes.human(results.stream().mapToLong(RowResult::bytes).sum()),
        seconds);
    for (RowResult r : results) {
      if (r.status() == RowResult.Status.FAILED) {
        out.printf(
            "  failed %s: %s -> %s: %s%n",
            r.row().row().where(), r.row().row().src(), r.row().row().dst(), r.error());
      }
    }
    out.flush();
    boolean failed =
        totals.get(RowResult.Status.FAILED) > 0 || totals.get(RowResult.Status.NOT_RUN) > 0;
    return failed ? ExitCodes.FINDINGS : ExitCodes.OK;
  }

  /**
   * Each manifest row as the migrations its {@code convert} command line builds, parsed and checked
   * by {@code convert} itself; every bad row is reported with its file:line, and then none runs.
   */
  static List<BatchRow> rows(List<ManifestRow> manifestRows, String label) {
    List<BatchRow> rows = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    // One parser for every row: building a picocli CommandLine costs milliseconds (reflection), and
    // parseArgs resets every option to its initial value first. What a row needs is copied out at
    // once.
    ConvertCommand command = new ConvertCommand();
    CommandLine parser = new CommandLine(command);
    for (int i = 0; i < manifestRows.size(); i++) {
      ManifestRow row = manifestRows.get(i);
      try {
        parser.parseArgs(row.convertArgs().toArray(String[]::new));
        List<MigrationRequest> requests = new ArrayList<>();
        for (ConvertJob.Options o : command.migrations()) {
          requests.add(o.toRequest());
        }
        byte[] mapping = command.mapFile == null ? null : Files.readAllBytes(command.mapFile);
        rows.add(new BatchRow(i, row, requests, mapping, command.template));
      } catch (CommandLine.ParameterException | UsageException e) {
        problems.add(row.where() + ": " + e.getMessage());
      } catch (io.rebundle.jobs.convert.MappingFile.InvalidMappingException e) {
        problems.add(row.where() + ": " + e.getMessage());
      } catch (IOException | UncheckedIOException e) {
        problems.add(row.where() + ": cannot read the mapping file: " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw Manifest.invalid(label, problems);
    }
    return rows;
  }

  static int[] parseShard(String s) {
    String[] parts = s.split("/", -1);
    try {
      if (parts.length == 2) {
        int i = Integer.parseInt(parts[0].trim());
        int n = Integer.parseInt(parts[1].trim());
        if (n >= 1 && i >= 0 && i < n) {
          return new int[] {i, n};
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException("Invalid --shard: " + s + " (expected I/N with 0 <= I < N, e.g. 0/8)");
  }

  /** The failure's kind in reports, from the exit code {@code convert} would have exited with. */
  static String errorKind(Throwable t) {
    return switch (Main.exitCodeFor(t)) {
      case ExitCodes.BAD_INPUT -> "corrupt";
      case ExitCodes.STORAGE -> "storage";
      case ExitCodes.USAGE -> "usage";
      default -> "internal";
    };
  }

  /**
   * The Spark engine, started on first use (thread-safe: the runner's job threads ask for it); a
   * lent context is used as it is and never stopped.
   */
  private static final class SparkEngineHolder implements BatchEngine {
    private final JavaSparkContext lent;
    private final String master;
    private final Map<String, String> conf;
    private JavaSparkContext created;
    private SparkBatchEngine engine;
    volatile FileIO io;

    SparkEngineHolder(JavaSparkContext lent, String master, Map<String, String> conf) {
      this.lent = lent;
      this.master = master;
      this.conf = conf;
    }

    synchronized JavaSparkContext context() {
      if (lent != null) {
        return lent;
      }
      if (created == null) {
        created = SparkContexts.create("rebundle batch", master, conf);
      }
      return created;
    }

    private synchronized SparkBatchEngine engine() {
      if (engine == null) {
        engine = new SparkBatchEngine(context(), io);
      }
      return engine;
    }

    @Override
    public List<List<io.rebundle.codec.migrate.TaskOutcome>> run(
        List<List<io.rebundle.codec.migrate.MigrationTask>> migrations,
        String description,
        io.rebundle.codec.exec.ProgressSink progress) {
      return engine().run(migrations, description, progress);
    }

    @Override
    public io.rebundle.codec.exec.ProgressSink progress(BatchProgress progress) {
      return engine().progress(progress);
    }

    /** Bytes moved by Spark's tasks; 0 while Spark has not started. */
    synchronized long moved() {
      return engine == null ? 0 : engine.moved();
    }

    synchronized void close() {
      if (created != null) {
        created.close();
      }
    }
  }

  /**
   * {@code --engine auto}: each job (the tasks of one or more rows) runs in this JVM when it moves
   * at most {@code localMax} bytes, on Spark (started then) above that. The progress line counts
   * the bytes of both.
   */
  private static final class SizeChoice implements BatchEngine {
    private final LocalBatchEngine local;
    private final SparkEngineHolder spark;
    private final long localMax;

    SizeChoice(LocalBatchEngine local, SparkEngineHolder spark, long localMax) {
      this.local = local;
      this.spark = spark;
      this.localMax = localMax;
    }

    @Override
    public io.rebundle.codec.exec.ProgressSink progress(BatchProgress progress) {
      io.rebundle.codec.exec.ProgressSink sink = local.progress(progress);
      watch(progress);
      return new Choice(progress, sink);
    }

    private void watch(BatchProgress progress) {
      progress.watch(() -> local.moved() + spark.moved());
    }

    @Override
    public List<List<io.rebundle.codec.migrate.TaskOutcome>> run(
        List<List<io.rebundle.codec.migrate.MigrationTask>> migrations,
        String description,
        io.rebundle.codec.exec.ProgressSink progress) {
      long bytes = 0;
      for (List<io.rebundle.codec.migrate.MigrationTask> m : migrations) {
        bytes += TaskEngine.bytes(m);
      }
      Choice c = (Choice) progress;
      if (bytes <= localMax) {
        return local.run(migrations, description, c.localSink());
      }
      io.rebundle.codec.exec.ProgressSink sparkSink = spark.progress(c.progress());
      watch(c.progress());
      return spark.run(migrations, description, sparkSink);
    }

    /** The sink handed out: the local engine's, and the progress line for Spark's. */
    private record Choice(BatchProgress progress, io.rebundle.codec.exec.ProgressSink localSink)
        implements io.rebundle.codec.exec.ProgressSink {
      @Override
      public void bytes(long n) {
        localSink.bytes(n);
      }

      @Override
      public void tensors(long n) {
        localSink.tensors(n);
      }
    }
  }

  static String tool() {
    String v = Main.class.getPackage().getImplementationVersion();
    return "rebundle " + (v == null ? "dev" : v);
  }

  /** Bound on a manifest's size (100,000 rows of a few hundred bytes are tens of MB). */
  static final long MAX_MANIFEST_BYTES = 1L << 30;

  private static String read(FileIO io, String location) {
    InputFile f = io.newInputFile(location);
    if (!f.exists()) {
      throw new UsageException("Cannot read manifest " + location + ": no such file");
    }
    try (RangeReader r = f.open()) {
      long n = r.length();
      if (n > MAX_MANIFEST_BYTES) {
        throw new UsageException(
            "Invalid manifest "
                + location
                + ": "
                + n
                + " bytes (at most "
                + MAX_MANIFEST_BYTES
                + "; split it)");
      }
      return new String(r.readFully(0, (int) n), StandardCharsets.UTF_8);
    }
  }

  private static void write(FileIO io, String location, String text) {
    try (PositionOutputStream o = io.newOutputFile(location).createOrOverwrite()) {
      o.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
  }

  static Set<String> fields() {
    return ManifestFields.get().names();
  }
}
