package io.rebundle.jobs.convert;

import com.fasterxml.jackson.core.JsonGenerator;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.jobs.util.BuildInfo;
import io.rebundle.jobs.util.Json;
import io.rebundle.jobs.util.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The human summary, the dry-run plan and the JSON report of a conversion. */
public final class ConvertReport {
  private ConvertReport() {}

  public static void printSummary(PrintWriter out, ConvertJob.Result r) {
    MigrationPlan p = r.plan();
    out.printf(
        "converted %s (%s) -> %s (%s)%n",
        r.sourcePrefix(), p.sourceFormat().id(), r.destination(), p.targetFormat().id());
    out.printf(
        "  %d entries, %d tensors with data, %s in %d shard%s; %d renamed, %d dropped%n",
        p.tensors().size(),
        p.dataTensors(),
        Sizes.human(p.dataBytes()),
        r.numShards(),
        r.numShards() == 1 ? "" : "s",
        p.renamed().size(),
        p.dropped().size());
    printDropped(out, p.dropped());
    for (String n : p.notes()) {
      out.printf("  note: %s%n", n);
    }
    OutputLayout layout = r.layout();
    if (!layout.reused().isEmpty()) {
      out.printf(
          "  %d source data file%s (%s) %s, keeping their layout; %d new shard%s%n",
          layout.reused().size(),
          layout.reused().size() == 1 ? "" : "s",
          Sizes.human(layout.reusedBytes()),
          layout.mode() == FileReuse.Mode.LINK ? "hard-linked" : "copied whole",
          layout.newShards().size(),
          layout.newShards().size() == 1 ? "" : "s");
      if (!r.verified()) {
        out.printf(
            "  note: the reused files' CRC32Cs were not checked; run `"
                + BuildInfo.programName()
                + " verify %s` to check every "
                + "byte (or convert with --verify-copies)%n",
            r.destination());
      }
    }
    double rate = r.copySeconds() > 0 ? p.dataBytes() / r.copySeconds() : 0;
    out.printf(
        "  plan %.2f s, copy and commit %.2f s (%s/s)%n",
        r.planSeconds(), r.copySeconds(), Sizes.human((long) rate));
  }

  public static void printPlan(PrintWriter out, ConvertJob.Result r) {
    MigrationPlan p = r.plan();
    out.printf(
        "plan: %s (%s) -> %s (%s), %d shard%s (dry run: nothing written)%n",
        r.sourcePrefix(),
        p.sourceFormat().id(),
        r.destination(),
        p.targetFormat().id(),
        r.numShards(),
        r.numShards() == 1 ? "" : "s");
    for (PlannedTensor t : p.tensors()) {
      String before =
          t instanceof PlannedTensor.FromSource f
              ? f.sourceEntry().dtypeName() + " " + f.sourceEntry().shape() + " -> "
              : "";
      out.printf(
          "  %-9s %s -> %s  %s%s %s, %d bytes%s%n",
          t.kind().name().toLowerCase(java.util.Locale.ROOT),
          t.sourceName(),
          t.targetName(),
          before,
          t.dtypeName(),
          t.shape(),
          t.size(),
          t instanceof PlannedTensor.Transformed x ? " (" + x.transform().describe() + ")" : "");
    }
    for (MigrationPlan.Dropped d : p.dropped()) {
      out.printf("  dropped  %s: %s%n", d.key(), d.reason());
    }
    for (String n : p.notes()) {
      out.printf("  note: %s%n", n);
    }
    OutputLayout layout = r.layout();
    out.printf("  file reuse (%s): %s%n", r.options().reuse().mode().id(), layout.reason());
    for (FileReuse.Rejected x : layout.rejected()) {
      out.printf("  not reused: source shard %d: %s%n", x.sourceShard(), x.reason());
    }
    for (int i = 0; i < r.numShards(); i++) {
      String from =
          i < layout.reused().size()
              ? String.format(
                  " (%s of %s, %s)",
                  layout.mode() == FileReuse.Mode.LINK ? "a hard link" : "a copy",
                  layout.reused().get(i).sourceFile(r.sourcePrefix()),
                  r.verified() ? "CRC-checked" : "not CRC-checked")
              : "";
      out.printf(
          "  shard %d: %d tensors, %d bytes%s%n", i, r.shardTensors()[i], r.shardBytes()[i], from);
    }
  }

  /** How many example keys the summary shows per reason. */
  static final int EXAMPLES_PER_REASON = 3;

  /**
   * Dropped keys grouped by reason code, largest group first: a count and a few examples each. A
   * BERT checkpoint with Adam slots drops thousands of keys; the summary stays a few lines and the
   * report has them all.
   */
  public static void printDropped(PrintWriter out, List<MigrationPlan.Dropped> dropped) {
    if (dropped.isEmpty()) {
      return;
    }
    Map<String, List<MigrationPlan.Dropped>> byCode = new LinkedHashMap<>();
    for (MigrationPlan.Dropped d : dropped) {
      byCode.computeIfAbsent(reasonCode(d.reason()), k -> new ArrayList<>()).add(d);
    }
    List<Map.Entry<String, List<MigrationPlan.Dropped>>> groups =
        new ArrayList<>(byCode.entrySet());
    groups.sort((x, y) -> Integer.compare(y.getValue().size(), x.getValue().size()));
    for (Map.Entry<String, List<MigrationPlan.Dropped>> g : groups) {
      List<MigrationPlan.Dropped> ds = g.getValue();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < Math.min(EXAMPLES_PER_REASON, ds.size()); i++) {
        sb.append(i == 0 ? "" : ", ").append(ds.get(i).key());
      }
      if (ds.size() > EXAMPLES_PER_REASON) {
        sb.append(", ... (").append(ds.size() - EXAMPLES_PER_REASON).append(" more)");
      }
      // One group's prose: the first key's reason, which names the rule or the cause.
      out.printf(
          "  dropped %d %s [%s]: %s — %s%n",
          ds.size(),
          ds.size() == 1 ? "key" : "keys",
          g.getKey(),
          ds.size() == 1 ? ds.get(0).reason() : commonReason(ds),
          sb);
    }
    if (dropped.size() > EXAMPLES_PER_REASON) {
      out.printf("  (every dropped key and its reason: --report FILE or --dry-run)%n");
    }
  }

  /** The reason all keys of a group share, or the first one's with "e.g." when they differ. */
  private static String commonReason(List<MigrationPlan.Dropped> ds) {
    String first = ds.get(0).reason();
    for (MigrationPlan.Dropped d : ds) {
      if (!d.reason().equals(first)) {
        return "e.g. " + first;
      }
    }
    return first;
  }

  /**
   * The machine-readable code of a drop reason, for reports and summaries. The planners give prose;
   * this maps each of their phrasings to a stable code (README "Reports" lists them), and anything
   * unrecognised to {@code other} so a new phrasing never breaks a consumer.
   */
  public static String reasonCode(String reason) {
    String r = reason == null ? "" : reason;
    if (r.startsWith("matches drop rule")) {
      return "drop_rule";
    } else if (r.startsWith("excluded by")) {
      return "excluded";
    } else if (r.startsWith("matches no include pattern")) {
      return "not_included";
    } else if (r.startsWith("global step not carried")) {
      return "global_step";
    } else if (r.startsWith("optimizer state not carried") || r.startsWith("optimizer slot")) {
      return "optimizer_slot";
    } else if (r.startsWith("save_counter")) {
      return "save_counter";
    } else if (r.startsWith("object graph")) {
      return "object_graph";
    } else if (r.startsWith("not referenced by the object graph")) {
      return "unreferenced";
    } else if (r.startsWith("no target name")) {
      return "no_target_name";
    } else if (r.startsWith("slice of dropped tensor")
        || r.startsWith("slice entry without a full entry")) {
      return "orphan_slice";
    } else if (r.startsWith("replaced by the template")) {
      return "template_replaced";
    } else if (r.startsWith("not used by the template")) {
      return "template_unused";
    }
    return "other";
  }

  /**
   * Why a key was renamed: {@code template} (names taken from --template), {@code mapping} (a --map
   * rule, possibly followed by the target format's naming) or {@code format} (the target format's
   * naming alone, e.g. TF2 object paths to TF1 variable names).
   */
  static String renameCode(ConvertJob.Options o) {
    if (o.template() != null) {
      return "template";
    }
    return o.rules().isEmpty() ? "format" : "mapping";
  }

  /** Version of the report's layout; bumped when a field changes meaning or is removed. */
  public static final int SCHEMA_VERSION = 2;

  /** How a run ended, for the report. {@code error} is null on success. */
  public record Outcome(
      String command,
      Instant startedAt,
      Instant finishedAt,
      List<ConvertJob.Result> results,
      Failure error) {
    public Outcome {
      results = List.copyOf(results);
    }

    public double totalSeconds() {
      return Duration.between(startedAt, finishedAt).toNanos() / 1e9;
    }
  }

  /**
   * A failed run: the exit code, its name (usage, bad_input, storage, internal) and the one-line
   * message.
   */
  public record Failure(int exitCode, String code, String message) {}

  /** The report of a successful run (kept for callers that have only results and a duration). */
  public static String json(List<ConvertJob.Result> results, double totalSeconds) {
    Instant end = Instant.now();
    return json(
        new Outcome("convert", end.minusNanos((long) (totalSeconds * 1e9)), end, results, null));
  }

  /**
   * The JSON report: status, tool and schema versions, timing, each conversion, the error if any.
   */
  public static String json(Outcome o) {
    return Json.toString(g -> write(g, o));
  }

  /** The name of an exit code, for a failed run's report. */
  public static String errorCode(int exitCode) {
    return switch (exitCode) {
      case 1 -> "findings";
      case 2 -> "usage";
      case 3 -> "bad_input";
      case 4 -> "storage";
      default -> "internal";
    };
  }

  /**
   * Writes the report to {@code location} through {@code io}, or to {@code stdout} for {@code -}. A
   * report in storage appears only complete: it is written beside its final name and renamed, so a
   * reader (Airflow, a dashboard) never sees half a document.
   */
  public static void write(FileIO io, String location, Outcome o, PrintWriter stdout) {
    if (location.equals("-")) {
      write(stdout, o);
      stdout.println();
      stdout.flush();
      return;
    }
    String parent = io.parent(location);
    String tmp = location + "." + java.util.UUID.randomUUID() + ".tmp";
    boolean done = false;
    try {
      if (!parent.isEmpty() && !io.exists(parent)) {
        io.mkdirs(parent);
      }
      try (PositionOutputStream s = io.newOutputFile(tmp).create();
          Writer w =
              new java.io.BufferedWriter(
                  new java.io.OutputStreamWriter(s, StandardCharsets.UTF_8))) {
        write(w, o);
        w.write('\n');
      }
      if (io.exists(location)) {
        io.delete(location);
      }
      io.rename(tmp, location);
      done = true;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write report " + location + ": " + e.getMessage(), e);
    } finally {
      if (!done) {
        try {
          io.delete(tmp);
        } catch (RuntimeException ignored) {
          // The write failure being reported matters more than a leftover temporary file.
        }
      }
    }
  }

  /** Streams the JSON report to {@code out} (not closed). */
  public static void write(Writer out, Outcome o) {
    Json.write(out, g -> write(g, o));
  }

  private static void write(JsonGenerator g, Outcome o) throws IOException {
    BuildInfo build = BuildInfo.current();
    g.writeStartObject();
    g.writeNumberField("schema_version", SCHEMA_VERSION);
    g.writeStringField("tool", "rebundle");
    g.writeStringField("tool_version", build.version());
    g.writeStringField("git_commit", build.gitCommit());
    g.writeStringField("command", o.command());
    g.writeStringField("status", o.error() == null ? "succeeded" : "failed");
    g.writeStringField("started_at", o.startedAt().toString());
    g.writeStringField("finished_at", o.finishedAt().toString());
    Json.number(g, "total_seconds", o.totalSeconds());
    if (o.error() == null) {
      g.writeNullField("error");
    } else {
      g.writeObjectFieldStart("error");
      g.writeNumberField("exit_code", o.error().exitCode());
      g.writeStringField("code", o.error().code());
      g.writeStringField("message", o.error().message());
      g.writeEndObject();
    }
    g.writeArrayFieldStart("conversions");
    for (ConvertJob.Result r : o.results()) {
      conversion(g, r);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void conversion(JsonGenerator g, ConvertJob.Result r) throws IOException {
    MigrationPlan p = r.plan();
    g.writeStartObject();
    g.writeStringField("source", r.options().source());
    g.writeStringField("source_prefix", r.sourcePrefix());
    g.writeStringField("destination", r.destination());
    g.writeStringField("source_format", p.sourceFormat().id());
    g.writeStringField("target_format", p.targetFormat().id());
    g.writeBooleanField("dry_run", r.options().dryRun());
    g.writeNumberField("entries", p.tensors().size());
    g.writeNumberField("tensors", p.dataTensors());
    g.writeNumberField("bytes", p.dataBytes());
    g.writeNumberField("num_shards", r.numShards());
    Json.number(g, "plan_seconds", r.planSeconds());
    Json.number(g, "copy_seconds", r.copySeconds());
    Json.number(g, "bytes_per_second", r.copySeconds() > 0 ? p.dataBytes() / r.copySeconds() : 0.0);
    OutputLayout layout = r.layout();
    g.writeObjectFieldStart("reuse");
    g.writeStringField("requested", r.options().reuse().mode().id());
    g.writeStringField("mode", layout.mode().id());
    g.writeStringField("reason", layout.reason());
    g.writeEndObject();
    g.writeBooleanField("verified", r.verified());
    g.writeStringField("engine", r.engine());
    g.writeArrayFieldStart("reused_files");
    for (FileReuse.ReusedFile f : layout.reused()) {
      g.writeStartObject();
      g.writeStringField("source", f.sourceFile(r.sourcePrefix()));
      g.writeStringField(
          "target", Naming.dataFile(r.destination(), f.targetShard(), r.numShards()));
      g.writeStringField("mode", layout.mode().id());
      g.writeNumberField("bytes", f.bytes());
      g.writeNumberField("tensors", f.tensors().size());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeArrayFieldStart("not_reused");
    for (FileReuse.Rejected x : layout.rejected()) {
      g.writeStartObject();
      g.writeNumberField("source_shard", x.sourceShard());
      g.writeStringField("reason", x.reason());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeArrayFieldStart("shards");
    for (int i = 0; i < r.numShards(); i++) {
      g.writeStartObject();
      g.writeNumberField("shard", i);
      g.writeNumberField("tensors", r.shardTensors()[i]);
      g.writeNumberField("bytes", r.shardBytes()[i]);
      g.writeEndObject();
    }
    g.writeEndArray();
    String renameCode = renameCode(r.options());
    g.writeArrayFieldStart("renamed");
    for (MigrationPlan.Renamed x : p.renamed()) {
      g.writeStartObject();
      g.writeStringField("from", x.from());
      g.writeStringField("to", x.to());
      g.writeStringField("reason_code", renameCode);
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeArrayFieldStart("dropped");
    for (MigrationPlan.Dropped d : p.dropped()) {
      g.writeStartObject();
      g.writeStringField("key", d.key());
      g.writeStringField("reason_code", reasonCode(d.reason()));
      g.writeStringField("reason", d.reason());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeObjectFieldStart("dropped_by_reason");
    Map<String, Integer> counts = new TreeMap<>();
    p.dropped().forEach(d -> counts.merge(reasonCode(d.reason()), 1, Integer::sum));
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    g.writeArrayFieldStart("notes");
    for (String n : p.notes()) {
      g.writeString(n);
    }
    g.writeEndArray();
    g.writeEndObject();
  }
}
