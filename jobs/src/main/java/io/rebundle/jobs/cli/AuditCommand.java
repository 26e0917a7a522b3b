package io.rebundle.jobs.cli;

import io.rebundle.jobs.audit.AuditJob;
import io.rebundle.jobs.audit.AuditReport;
import io.rebundle.jobs.audit.Finding;
import io.rebundle.jobs.discover.CheckpointDiscovery;
import io.rebundle.jobs.spark.SparkContexts;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code audit}: every checkpoint under some roots, into tensors/checkpoints/findings tables. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "Find every checkpoint under the roots (any depth, any Hadoop file system), read every tensor "
          + "once (statistics, CRC, fingerprint) and write the tables tensors, checkpoints and findings.",
      "Never stops at a bad checkpoint. Exit 0 when no finding is at or above --fail-on, 1 otherwise."
    })
public final class AuditCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final io.rebundle.jobs.spark.LentContext lent;

  public AuditCommand() {
    this(null);
  }

  /** With a Spark context owned by the caller (tests, the batch command). */
  public AuditCommand(io.rebundle.jobs.spark.LentContext lent) {
    this.lent = lent;
  }

  @Parameters(
      paramLabel = "ROOT",
      arity = "1..*",
      description = "Directories (or prefixes) to audit.")
  List<String> roots;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Write DIR/tensors, DIR/checkpoints, DIR/findings.")
  String out;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "parquet",
      description = "Any Spark writer format (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--table",
      paramLabel = "PREFIX",
      description =
          "Also saveAsTable into the Spark catalog as PREFIX_tensors, PREFIX_checkpoints, PREFIX_findings.")
  String table;

  @Option(
      names = "--incremental",
      description =
          "Keep the rows of checkpoints whose index and data-file lengths are unchanged since DIR was written.")
  boolean incremental;

  @Option(
      names = "--no-stats",
      description = "Read indexes only: no statistics, CRC or fingerprint (fast).")
  boolean noStats;

  @Option(names = "--report", paramLabel = "FILE.json", description = "Write a JSON summary.")
  String report;

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description = "Write a self-contained HTML report.")
  String html;

  @Option(
      names = "--fail-on",
      paramLabel = "SEVERITY",
      defaultValue = "error",
      description =
          "Exit 1 if any finding is at or above: error, warning or info (default: ${DEFAULT-VALUE}).")
  String failOn;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master (default: embedded local[*]).")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Spark setting (repeatable).")
  List<String> conf = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (out == null && table == null) {
      throw new UsageException("Missing --out DIR (or --table PREFIX)");
    }
    if (incremental && out == null) {
      throw new UsageException("--incremental needs --out DIR (the tables it keeps rows from)");
    }
    try {
      Finding.rank(failOn);
    } catch (IllegalArgumentException e) {
      throw new UsageException("Invalid --fail-on " + failOn + ": use error, warning or info");
    }
    Map<String, String> sparkConf = new LinkedHashMap<>();
    for (String kv : conf) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new UsageException("Invalid --conf " + kv + ": expected KEY=VALUE");
      }
      sparkConf.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    JavaSparkContext sc =
        lent != null ? lent.context() : SparkContexts.create("rebundle audit", master, sparkConf);
    try {
      SparkSession spark = SparkSession.builder().config(sc.getConf()).getOrCreate();
      Configuration hadoop = new Configuration(sc.hadoopConfiguration());
      AuditJob.Options options =
          new AuditJob.Options(
              List.copyOf(roots),
              out,
              format,
              table,
              incremental,
              !noStats,
              CheckpointDiscovery.Options.DEFAULT);
      AuditJob.Result r = AuditJob.run(spark, hadoop, options);
      AuditJob.write(spark, hadoop, options, r);
      int code = AuditJob.exitCode(r.findings(), failOn);
      for (Finding f : r.findings()) {
        if (Finding.rank(f.severity()) >= Finding.rank(failOn)) {
          o.println(
              f.severity().toUpperCase(java.util.Locale.ROOT)
                  + " "
                  + f.kind()
                  + " "
                  + f.checkpoint()
                  + (f.key() == null ? "" : " [" + f.key() + "]")
                  + ": "
                  + f.message());
        }
      }
      Map<String, Object> summary = AuditJob.summary(r, failOn, code);
      o.printf(
          "audit: %d checkpoints (%d scanned, %d unchanged), %d tensors, %d findings %s%n",
          r.checkpoints().size(),
          r.checkpointsScanned(),
          r.checkpointsKept(),
          r.tensorCount(),
          r.findings().size(),
          summary.get("findings_by_severity"));
      if (report != null) {
        Reports.write(hadoop, report, AuditReport.json(summary));
      }
      if (html != null) {
        Reports.write(hadoop, html, AuditReport.html(spark, r));
      }
      r.tensors().unpersist();
      o.flush();
      return code;
    } finally {
      if (lent == null) {
        sc.close();
      }
    }
  }

  /**
   * Writes the summary and HTML reports; a nested class, so that the Hadoop type in its signature
   * stays out of the methods picocli reflects over for every command.
   */
  private static final class Reports {
    private Reports() {}

    static void write(Configuration conf, String location, String text) {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
      try (var s = p.getFileSystem(conf).create(p, true)) {
        s.write(text.getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
      }
    }
  }
}
