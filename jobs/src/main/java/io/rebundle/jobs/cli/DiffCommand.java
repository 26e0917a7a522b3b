package io.rebundle.jobs.cli;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.diff.CheckpointDiff;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.jobs.convert.ReportNaming;
import io.rebundle.jobs.spark.SparkContexts;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diff}: what differs between two checkpoints, keys and values. */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Compare two checkpoints: keys only in A or only in B (A's keys taken through --map), dtype/shape "
          + "mismatches, and value differences (equal CRC and size count as equal; otherwise max absolute and "
          + "relative difference for floating types, count of differing elements for all).",
      "Exit 0 when identical, 1 when they differ. Big comparisons run as a Spark job."
    },
    footer = {
      "",
      "Examples:",
      "  rebundle diff run7/model.ckpt-1000 run7-retrained/model.ckpt-1000",
      "  rebundle diff --as-converted tf1/model.ckpt-1000 tf2/ckpt-1        (check a conversion)",
      "  rebundle diff --map conf/mappings/bert-layers.yaml --atol 1e-6 old/ckpt new/ckpt",
      "  rebundle diff --json --master yarn hdfs://nn/a hdfs://nn/b > diff.json"
    })
public final class DiffCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin StorageOptions storage = new StorageOptions();

  @Parameters(
      index = "0",
      paramLabel = "A",
      description =
          "The first checkpoint (with --as-converted: the source of a conversion): a prefix, a model "
              + "directory or a SavedModel directory.")
  String a;

  @Parameters(
      index = "1",
      paramLabel = "B",
      description = "The second checkpoint (with --as-converted: the conversion's output).")
  String b;

  @Option(
      names = "--map",
      paramLabel = "FILE",
      description = "Mapping file applied to A's keys before comparing.")
  Path mapFile;

  @CommandLine.Mixin PresetOption preset = new PresetOption();

  @Option(
      names = "--as-converted",
      description = {
        "Check a conversion of A into B: A's keys (after --map, if convert had one) are renamed as "
            + "convert names them, read back from the object graph(s) (a TF2 side pairs each variable's full_name "
            + "with its key); the keys a conversion adds or drops by design (object graph, save_counter, a TF2 "
            + "source's optimizer slots) are expected on one side only; casts are compared after casting."
      })
  boolean asConverted;

  @Option(
      names = "--report",
      paramLabel = "FILE",
      description = {
        "With --as-converted (implied): take the naming from this report of the conversion (convert "
            + "--report FILE; any storage location): its renamed keys pair A with B and its dropped keys are "
            + "expected in A only. When the report holds several conversions, the one into B is used."
      })
  String report;

  @Option(
      names = "--to",
      paramLabel = "FORMAT",
      description = {
        "With --as-converted (implied): plan here the naming convert --to FORMAT (tf1 or tf2; with "
            + "--map, the same mapping) gives A's keys, and check B against it."
      })
  String to;

  @Option(
      names = "--rtol",
      paramLabel = "R",
      defaultValue = "0",
      description =
          "Relative tolerance: floating values a, b are equal when |a - b| <= atol + rtol * |b| "
              + "(numpy.allclose; default: ${DEFAULT-VALUE}).")
  double rtol;

  @Option(
      names = "--atol",
      paramLabel = "A",
      defaultValue = "0",
      description = "Absolute tolerance (default: ${DEFAULT-VALUE}; both 0: bit-exact).")
  double atol;

  @Option(
      names = "--top",
      paramLabel = "N",
      defaultValue = "10",
      description =
          "Show the N tensors with the largest differences (default: ${DEFAULT-VALUE}; --json lists all).")
  int top;

  @Option(names = "--json", description = "Print one JSON object on stdout.")
  boolean json;

  @Option(
      names = "--distributed-above",
      paramLabel = "BYTES",
      defaultValue = "1g",
      description =
          "Compare values in a Spark job when more than this many bytes differ by CRC (default: ${DEFAULT-VALUE}).")
  String threshold;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master for the distributed comparison.")
  String master;

  @Option(
      names = "--engine",
      paramLabel = "auto|local|spark",
      description =
          "Where values are compared: local: in this JVM, no Spark; spark: a Spark job; auto "
              + "(default): Spark with --master or above --distributed-above, else in this JVM.")
  String engine;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (preset.listed(out)) {
      return ExitCodes.OK;
    }
    if (a == null || b == null) {
      throw new UsageException("Missing checkpoints: diff compares two, A and B");
    }
    MappingRules rules = preset.rules(mapFile);
    long limit = ConvertCommand.parseSize(threshold);
    EngineOption.Engine asked = EngineOption.parse(engine);
    boolean masterGiven = EngineOption.masterGiven(master, storage.sparkSettings());
    if (asked == EngineOption.Engine.LOCAL && masterGiven) {
      throw new UsageException(
          "Invalid options: --engine local compares in this JVM; a Spark master asks for Spark");
    }
    if (top < 1) {
      throw new UsageException("Invalid --top: " + top + " (must be at least 1)");
    }
    CheckpointDiff.Tolerance tolerance;
    try {
      tolerance = new CheckpointDiff.Tolerance(rtol, atol);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (report != null && to != null) {
      throw new UsageException(
          "Invalid options: --report and --to both name the conversion's naming; give one");
    }
    CheckpointFormat planTarget = to == null ? null : targetFormat(to);
    boolean planned = report != null || planTarget != null;
    FileIO io = report == null ? storage.forLocations(a, b) : storage.forLocations(a, b, report);
    if (SafetensorsCommands.isSafetensors(io, a) || SafetensorsCommands.isSafetensors(io, b)) {
      String[] locations = new String[2];
      CheckpointDiff.Result r = SafetensorsCommands.diff(io, a, b, rules, locations);
      if (json) {
        json(out, locations[0], locations[1], r, tolerance);
      } else {
        print(out, locations[0], locations[1], r, top, tolerance);
      }
      out.flush();
      return r.same() ? ExitCodes.OK : ExitCodes.FINDINGS;
    }
    CheckpointDiff.KeyDiff keys;
    List<CheckpointDiff.ValueDiff> different;
    String prefixA;
    String prefixB;
    try (CheckpointReader ra = CheckpointReader.open(io, a);
        CheckpointReader rb = CheckpointReader.open(io, b)) {
      if (!Main.quiet(spec)) {
        ra.warnings().forEach(w -> spec.commandLine().getErr().println("rebundle: warning: " + w));
        rb.warnings().forEach(w -> spec.commandLine().getErr().println("rebundle: warning: " + w));
      }
      CheckpointDiff.Options options =
          planned
              ? plannedNaming(io, ra, rb, rules, planTarget)
              : asConverted
                  ? CheckpointDiff.asConverted(ra, rb, rules)
                  : CheckpointDiff.Options.of(rules);
      keys = CheckpointDiff.compareKeys(ra, rb, options);
      prefixA = ra.prefix();
      prefixB = rb.prefix();
      long bytes = keys.toCompare().stream().mapToLong(p -> p.a().size()).sum();
      boolean spark =
          switch (asked) {
            case LOCAL -> false;
            case SPARK -> true;
            case AUTO -> bytes > limit || masterGiven;
          };
      different =
          spark ? null : CheckpointDiff.compareAll(ra, rb, keys.toCompare().iterator(), tolerance);
    }
    if (different == null) {
      different = distributed(prefixA, prefixB, keys.toCompare(), tolerance);
    }
    CheckpointDiff.Result r = new CheckpointDiff.Result(keys, different);
    if (json) {
      json(out, prefixA, prefixB, r, tolerance);
    } else {
      print(out, prefixA, prefixB, r, top, tolerance);
    }
    out.flush();
    return r.same() ? ExitCodes.OK : ExitCodes.FINDINGS;
  }

  private static CheckpointFormat targetFormat(String format) {
    CheckpointFormat f;
    try {
      f = CheckpointFormat.parse(format);
    } catch (IllegalArgumentException e) {
      f = null;
    }
    if (f != CheckpointFormat.TF1 && f != CheckpointFormat.TF2) {
      throw new UsageException("Invalid --to: " + format + " (diff checks tf1 or tf2 conversions)");
    }
    return f;
  }

  /**
   * The naming of a conversion of A into B: read from --report, or planned from A as convert --to
   * would plan it (with the --map rules, which the plan's renames then include).
   */
  private CheckpointDiff.Options plannedNaming(
      FileIO io,
      CheckpointReader ra,
      CheckpointReader rb,
      MappingRules rules,
      CheckpointFormat target) {
    if (report != null) {
      ReportNaming.Naming n;
      try {
        n = ReportNaming.read(io, report, rb.prefix(), b);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      return CheckpointDiff.asPlanned(rb, n.renamed(), n.dropped());
    }
    MigrationPlan plan;
    try {
      plan = Planner.plan(SourceIndex.read(ra), MigrationSpec.to(target), rules);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    return CheckpointDiff.asPlanned(
        rb, plan.renamed(), plan.dropped().stream().map(MigrationPlan.Dropped::key).toList());
  }

  private List<CheckpointDiff.ValueDiff> distributed(
      String prefixA,
      String prefixB,
      List<CheckpointDiff.Pair> pairs,
      CheckpointDiff.Tolerance tolerance) {
    try (JavaSparkContext sc =
        SparkContexts.create(
            "rebundle diff", master, storage.sparkSettings(), spec.commandLine().getErr())) {
      FileIO dio = HadoopSettings.forLocations(sc.hadoopConfiguration(), prefixA, prefixB);
      sc.setJobDescription(
          "rebundle diff " + prefixA + " vs " + prefixB + ": " + pairs.size() + " tensors");
      int parts = Math.max(1, Math.min(pairs.size(), sc.defaultParallelism() * 4));
      return sc.parallelize(pairs, parts)
          .mapPartitions(
              it -> {
                try (CheckpointReader ra = CheckpointReader.openPrefix(dio, prefixA);
                    CheckpointReader rb = CheckpointReader.openPrefix(dio, prefixB)) {
                  return CheckpointDiff.compareAll(ra, rb, it, tolerance).iterator();
                }
              })
          .collect();
    }
  }

  /** Largest first: by max absolute difference, then by differing elements (non-floating types). */
  static List<CheckpointDiff.ValueDiff> largestFirst(List<CheckpointDiff.ValueDiff> different) {
    List<CheckpointDiff.ValueDiff> sorted = new java.util.ArrayList<>(different);
    sorted.sort(
        java.util.Comparator.comparingDouble(
                (CheckpointDiff.ValueDiff d) -> Double.isNaN(d.maxAbs()) ? -1 : d.maxAbs())
            .reversed()
            .thenComparing(
                java.util.Comparator.comparingLong(CheckpointDiff.ValueDiff::differing).reversed())
            .thenComparing(CheckpointDiff.ValueDiff::key));
    return sorted;
  }

  private static void print(
      PrintWriter out,
      String a,
      String b,
      CheckpointDiff.Result r,
      int top,
      CheckpointDiff.Tolerance tol) {
    out.printf("A: %s%nB: %s%n", a, b);
    CheckpointDiff.KeyDiff k = r.keys();
    if (!k.onlyInA().isEmpty()) {
      out.printf("only in A (%d): %s%n", k.onlyInA().size(), String.join(", ", k.onlyInA()));
    }
    if (!k.onlyInB().isEmpty()) {
      out.printf("only in B (%d): %s%n", k.onlyInB().size(), String.join(", ", k.onlyInB()));
    }
    for (CheckpointDiff.Mismatch m : k.mismatches()) {
      out.printf(
          "mismatch %s: %s %s vs %s %s%s%n",
          m.key(),
          m.dtypeA(),
          m.shapeA(),
          m.dtypeB(),
          m.shapeB(),
          m.key().equals(m.keyInB()) ? "" : " (B: " + m.keyInB() + ")");
    }
    if (!r.different().isEmpty()) {
      List<CheckpointDiff.ValueDiff> shown = largestFirst(r.different());
      shown = shown.subList(0, Math.min(top, shown.size()));
      int w = Math.max(3, shown.stream().mapToInt(d -> d.key().length()).max().orElse(3));
      String fmt = "%-" + w + "s  %-9s  %10s  %10s  %12s  %12s%n";
      if (r.different().size() > shown.size()) {
        out.printf(
            "largest differences (%d of %d; --top N or --json for more):%n",
            shown.size(), r.different().size());
      }
      out.printf(fmt, "KEY", "DTYPE", "ELEMENTS", "DIFFERING", "MAX_ABS", "MAX_REL");
      for (CheckpointDiff.ValueDiff d : shown) {
        out.printf(
            fmt, d.key(), d.dtype(), d.elements(), d.differing(), num(d.maxAbs()), num(d.maxRel()));
      }
    }
    boolean tolerant = tol.rtol() > 0 || tol.atol() > 0;
    out.printf(
        "%s: %d equal tensors%s, %d with different values, %d mismatched, %d only in A, %d only in B%s%n",
        r.same() ? (tolerant ? "equal within tolerance" : "identical") : "different",
        r.equalTensors(),
        tolerant ? " (rtol " + plain(tol.rtol()) + ", atol " + plain(tol.atol()) + ")" : "",
        r.different().size(),
        k.mismatches().size(),
        k.onlyInA().size(),
        k.onlyInB().size(),
        k.expectedOnlyInA() + k.expectedOnlyInB() == 0
            ? ""
            : String.format(
                " (expected from the conversion: %d only in A, %d only in B)",
                k.expectedOnlyInA(), k.expectedOnlyInB()));
  }

  /** 0.05, 1E-6, 0: as given, without padding. */
  private static String plain(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format("%.6g", v);
  }

  private static void json(
      PrintWriter out, String a, String b, CheckpointDiff.Result r, CheckpointDiff.Tolerance tol) {
    Json.write(
        out,
        g -> {
          g.writeStartObject();
          g.writeStringField("a", a);
          g.writeStringField("b", b);
          g.writeBooleanField("identical", r.same());
          g.writeNumberField("equal", r.equalTensors());
          g.writeNumberField("rtol", tol.rtol());
          g.writeNumberField("atol", tol.atol());
          g.writeNumberField("expected_only_in_a", r.keys().expectedOnlyInA());
          g.writeNumberField("expected_only_in_b", r.keys().expectedOnlyInB());
          g.writeArrayFieldStart("only_in_a");
          for (String k : r.keys().onlyInA()) {
            g.writeString(k);
          }
          g.writeEndArray();
          g.writeArrayFieldStart("only_in_b");
          for (String k : r.keys().onlyInB()) {
            g.writeString(k);
          }
          g.writeEndArray();
          g.writeArrayFieldStart("mismatches");
          for (CheckpointDiff.Mismatch m : r.keys().mismatches()) {
            g.writeStartObject();
            g.writeStringField("key", m.key());
            g.writeStringField("key_in_b", m.keyInB());
            g.writeStringField("a_dtype", m.dtypeA());
            g.writeStringField("a_shape", m.shapeA());
            g.writeStringField("b_dtype", m.dtypeB());
            g.writeStringField("b_shape", m.shapeB());
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeArrayFieldStart("different");
          for (CheckpointDiff.ValueDiff d : largestFirst(r.different())) {
            g.writeStartObject();
            g.writeStringField("key", d.key());
            g.writeStringField("dtype", d.dtype());
            g.writeNumberField("elements", d.elements());
            g.writeNumberField("differing", d.differing());
            if (!Double.isNaN(d.maxAbs())) {
              Json.number(g, "max_abs_diff", d.maxAbs());
              Json.number(g, "max_rel_diff", d.maxRel());
            }
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
    out.println();
  }
}
