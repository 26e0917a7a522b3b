package io.rebundle.jobs.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The batch's reports: the {@code --report} document {@code {"rows": [...], "totals": {...}}} (one
 * entry per row: line, src, dst, status, reason or error, bytes, tensors, seconds, outputs; totals
 * per status plus bytes and seconds), and the results log, one JSON line per row as it finishes, in
 * a new file of the {@code --log-dir} per run (for auditing: the lines of every run, kept).
 */
public final class BatchReport {
  private static final JsonFactory JSON = new JsonFactory();

  private BatchReport() {}

  /** Counts per status. */
  public static Map<RowResult.Status, Integer> totals(List<RowResult> results) {
    Map<RowResult.Status, Integer> totals = new EnumMap<>(RowResult.Status.class);
    for (RowResult.Status s : RowResult.Status.values()) {
      totals.put(s, 0);
    }
    for (RowResult r : results) {
      totals.merge(r.status(), 1, Integer::sum);
    }
    return totals;
  }

  /** The {@code --report} document. */
  public static String json(List<RowResult> results, double seconds) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      g.writeArrayFieldStart("rows");
      for (RowResult r : results) {
        row(g, r, null);
      }
      g.writeEndArray();
      g.writeObjectFieldStart("totals");
      g.writeNumberField("rows", results.size());
      for (Map.Entry<RowResult.Status, Integer> e : totals(results).entrySet()) {
        g.writeNumberField(e.getKey().label(), e.getValue());
      }
      g.writeNumberField("bytes", results.stream().mapToLong(RowResult::bytes).sum());
      g.writeNumberField("tensors", results.stream().mapToLong(RowResult::tensors).sum());
      g.writeNumberField("seconds", round(seconds));
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /** One row as one JSON line of the results log ({@code runId} names the run). */
  public static String line(RowResult r, String runId) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      row(g, r, runId);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static void row(JsonGenerator g, RowResult r, String runId) throws IOException {
    g.writeStartObject();
    if (runId != null) {
      g.writeStringField("run_id", runId);
      g.writeNumberField("time_ms", System.currentTimeMillis());
    }
    g.writeStringField("manifest", r.row().row().file());
    g.writeNumberField("line", r.row().row().line());
    g.writeStringField("src", r.row().row().src());
    g.writeStringField("dst", r.row().row().dst());
    g.writeStringField("status", r.status().label());
    if (r.reason() != null) {
      g.writeStringField("reason", r.reason());
    }
    if (r.error() != null) {
      g.writeStringField("error", r.error());
      g.writeStringField("error_kind", r.errorKind());
    }
    g.writeNumberField("bytes", r.bytes());
    g.writeNumberField("tensors", r.tensors());
    g.writeNumberField("seconds", round(r.seconds()));
    g.writeArrayFieldStart("outputs");
    for (String o : r.outputs()) {
      g.writeString(o);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static double round(double seconds) {
    return Math.round(seconds * 1000) / 1000.0;
  }

  /**
   * A results log: {@code <dir>/batch-<yyyyMMdd-HHmmss>-<runId>.jsonl}, created when opened (the
   * directory too), a line written and flushed per row. Not thread-safe (the runner reports rows on
   * one thread).
   */
  public static final class Log implements AutoCloseable {
    private final PositionOutputStream out;
    private final String runId;
    private final String location;

    public Log(FileIO io, String dir, String runId) {
      this.runId = runId;
      io.mkdirs(dir);
      this.location =
          io.join(
              dir,
              "batch-"
                  + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                  + "-"
                  + runId
                  + ".jsonl");
      this.out = io.newOutputFile(location).create();
    }

    public String location() {
      return location;
    }

    public void row(RowResult r) {
      try {
        out.write((line(r, runId) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot write results log " + location + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot write results log " + location + ": " + e.getMessage(), e);
      }
    }
  }
}
