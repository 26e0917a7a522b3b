package io.rebundle.jobs.audit;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The audit's two reports: the JSON summary ({@code --report}) and one self-contained HTML page
 * ({@code --html}): inline CSS and inline SVG charts, no script, no font, no image, no link to
 * anything outside the file, so it opens offline and can be mailed around.
 */
public final class AuditReport {
  private AuditReport() {}

  /** Rows of the findings table shown in the page; the tables hold them all. */
  static final int MAX_FINDING_ROWS = 500;

  public static String json(Map<String, Object> summary) {
    try {
      return new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(summary)
          + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot encode the audit summary: " + e.getMessage(), e);
    }
  }

  private static final String[] PALETTE = {
    "#3366cc", "#dc7633", "#2e9e6b", "#9b59b6", "#c0392b", "#16a5b8", "#b7950b", "#5d6d7e",
    "#e84393", "#7f8c3a"
  };

  public static String html(SparkSession spark, AuditJob.Result r) {
    StringBuilder h = new StringBuilder(64 << 10);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>Rebundle checkpoint audit</title><style>")
        .append(
            "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;")
        .append(
            "margin:0;color:#1d2733;background:#f4f6f9}header{background:#1d2b44;color:#fff;padding:22px 32px}")
        .append("header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c4d6}")
        .append(
            "main{padding:20px 32px;max-width:1200px}section{background:#fff;border-radius:8px;")
        .append("box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin:0 0 18px}")
        .append("h2{font-size:17px;margin:0 0 12px}.cards{display:flex;flex-wrap:wrap;gap:12px}")
        .append(".card{flex:1 1 150px;background:#f7f9fc;border-radius:6px;padding:10px 14px}")
        .append(".card b{display:block;font-size:22px}.card span{color:#5b6b7f;font-size:12px}")
        .append(".error b{color:#c0392b}.warning b{color:#b9770e}.info b{color:#2e86c1}")
        .append(
            "table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;")
        .append("border-bottom:1px solid #e6e9ef;vertical-align:top}th{background:#f7f9fc}")
        .append(
            "td.msg{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}")
        .append(
            ".sev{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px}")
        .append(
            ".sev.error{background:#c0392b}.sev.warning{background:#b9770e}.sev.info{background:#2e86c1}")
        .append(
            ".legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;")
        .append(
            "width:10px;height:10px;margin-right:4px;border-radius:2px}svg text{font-size:12px;fill:#1d2733}")
        .append(".muted{color:#5b6b7f}</style></head><body>");
    long bytes = 0;
    long optimizer = 0;
    for (Row c : r.checkpoints()) {
      bytes += c.isNullAt(5) ? 0 : c.getLong(5);
      optimizer += c.isNullAt(8) ? 0 : c.getLong(8);
    }
    Map<String, Integer> bySeverity = new TreeMap<>();
    for (Finding f : r.findings()) {
      bySeverity.merge(f.severity(), 1, Integer::sum);
    }
    h.append("<header><h1>Checkpoint audit</h1><p>")
        .append(r.checkpoints().size())
        .append(" checkpoints, ")
        .append(r.tensorCount())
        .append(" tensors, ")
        .append(human(bytes))
        .append(" — written by Rebundle")
        .append("</p></header><main>");

    // Summary.
    h.append("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    card(h, "", Integer.toString(r.checkpoints().size()), "checkpoints");
    card(h, "", Long.toString(r.tensorCount()), "tensors");
    card(h, "", human(bytes), "tensor bytes");
    card(
        h,
        "",
        bytes == 0 ? "0%" : String.format(Locale.ROOT, "%.1f%%", 100.0 * optimizer / bytes),
        "optimizer state");
    card(h, "error", Integer.toString(bySeverity.getOrDefault("error", 0)), "errors");
    card(h, "warning", Integer.toString(bySeverity.getOrDefault("warning", 0)), "warnings");
    card(h, "info", Integer.toString(bySeverity.getOrDefault("info", 0)), "info");
    h.append("</div></section>");

    // Findings.
    h.append("<section id=\"findings\"><h2>Findings</h2>");
    if (r.findings().isEmpty()) {
      h.append("<p class=\"muted\">No findings.</p>");
    } else {
      List<Finding> sorted = new ArrayList<>(r.findings());
      sorted.sort(
          (a, b) -> Integer.compare(Finding.rank(b.severity()), Finding.rank(a.severity())));
      h.append(
          "<table><tr><th>severity</th><th>kind</th><th>checkpoint</th><th>key</th><th>message</th></tr>");
      for (Finding f : sorted.subList(0, Math.min(sorted.size(), MAX_FINDING_ROWS))) {
        h.append("<tr><td><span class=\"sev ")
            .append(f.severity())
            .append("\">")
            .append(f.severity())
            .append("</span></td><td>")
            .append(esc(f.kind()))
            .append("</td><td>")
            .append(esc(shortName(f.checkpoint())))
            .append("</td><td>")
            .append(f.key() == null ? "" : esc(f.key()))
            .append("</td><td class=\"msg\">")
            .append(esc(f.message()))
            .append("</td></tr>");
      }
      h.append("</table>");
      if (sorted.size() > MAX_FINDING_ROWS) {
        h.append("<p class=\"muted\">")
            .append(sorted.size() - MAX_FINDING_ROWS)
            .append(" more in the findings table.</p>");
      }
    }
    h.append("</section>");

    // Bytes per model directory and format.
    Map<String, Map<String, Long>> perModel = new TreeMap<>();
    Map<String, long[]> optPerModel = new TreeMap<>();
    for (Row c : r.checkpoints()) {
      if (c.isNullAt(5)) {
        continue;
      }
      String model = c.isNullAt(1) ? "?" : shortName(c.getString(1));
      String fmt = c.isNullAt(3) ? "unknown" : c.getString(3);
      perModel.computeIfAbsent(model, k -> new TreeMap<>()).merge(fmt, c.getLong(5), Long::sum);
      long[] o = optPerModel.computeIfAbsent(model, k -> new long[2]);
      o[0] += c.isNullAt(8) ? 0 : c.getLong(8);
      o[1] += c.getLong(5);
    }
    h.append("<section id=\"bytes-per-model\"><h2>Bytes per model directory and format</h2>");
    h.append(stackedBars(perModel, List.of("tf1", "tf2", "unknown"))).append("</section>");

    // Dtype mix.
    Map<String, Long> dtypeBytes = new LinkedHashMap<>();
    for (Row x :
        r.tensors()
            .groupBy("dtype")
            .agg(sum("bytes").as("b"))
            .orderBy(col("b").desc())
            .collectAsList()) {
      dtypeBytes.put(x.getString(0), x.isNullAt(1) ? 0 : x.getLong(1));
    }
    h.append("<section id=\"dtype-mix\"><h2>Dtype mix (bytes)</h2>")
        .append(bars(dtypeBytes, true))
        .append("</section>");

    // Largest tensors.
    h.append("<section id=\"largest-tensors\"><h2>Largest tensors</h2>");
    Map<String, Long> largest = new LinkedHashMap<>();
    List<Row> big =
        r.tensors()
            .select("checkpoint", "key", "dtype", "shape", "bytes")
            .orderBy(col("bytes").desc())
            .limit(15)
            .collectAsList();
    for (Row x : big) {
      largest.put(
          x.getString(1)
              + "  ("
              + x.getString(2)
              + " "
              + x.getList(3)
              + ", "
              + shortName(x.getString(0))
              + ")",
          x.getLong(4));
    }
    h.append(bars(largest, true)).append("</section>");

    // NaN/Inf per checkpoint.
    Map<String, Map<String, Long>> nonFinite = new TreeMap<>();
    for (Row x :
        r.tensors()
            .where(
                col("nan_count").gt(0).or(col("posinf_count").gt(0)).or(col("neginf_count").gt(0)))
            .groupBy("checkpoint")
            .agg(sum("nan_count"), sum(col("posinf_count").plus(col("neginf_count"))))
            .collectAsList()) {
      Map<String, Long> m = new TreeMap<>();
      m.put("NaN", x.getLong(1));
      m.put("Inf", x.getLong(2));
      nonFinite.put(shortName(x.getString(0)), m);
    }
    h.append("<section id=\"nan-inf\"><h2>NaN and Inf per checkpoint</h2>");
    h.append(
        nonFinite.isEmpty()
            ? "<p class=\"muted\">Every value is finite.</p>"
            : stackedBars(nonFinite, List.of("NaN", "Inf")));
    h.append("</section>");

    // Duplicates.
    h.append("<section id=\"duplicates\"><h2>Duplicates</h2>");
    List<Finding> dups =
        r.findings().stream().filter(f -> f.kind().equals("duplicate_checkpoint")).toList();
    long dupTensors =
        r.findings().stream().filter(f -> f.kind().equals("duplicate_tensor")).count();
    if (dups.isEmpty() && dupTensors == 0) {
      h.append("<p class=\"muted\">No duplicates.</p>");
    } else {
      h.append("<p>")
          .append(dups.size())
          .append(" duplicate checkpoint")
          .append(dups.size() == 1 ? "" : "s")
          .append(", ")
          .append(dupTensors)
          .append(" further duplicate tensor")
          .append(dupTensors == 1 ? "" : "s")
          .append(" of at least ")
          .append(AuditJob.DUPLICATE_TENSOR_MIN_BYTES)
          .append(" bytes.</p>");
      if (!dups.isEmpty()) {
        h.append("<table><tr><th>checkpoint</th><th>duplicate of</th></tr>");
        for (Finding f : dups) {
          String of = f.message().substring(f.message().lastIndexOf(' ') + 1);
          h.append("<tr><td>")
              .append(esc(shortName(f.checkpoint())))
              .append("</td><td>")
              .append(esc(shortName(of)))
              .append("</td></tr>");
        }
        h.append("</table>");
      }
      Map<String, Long> dupCounts = new TreeMap<>();
      for (Finding f : r.findings()) {
        if (f.kind().equals("duplicate_tensor")) {
          dupCounts.merge(shortName(f.checkpoint()), 1L, Long::sum);
        }
      }
      if (!dupCounts.isEmpty()) {
        h.append("<p>Duplicate tensors per checkpoint:</p>").append(bars(dupCounts, false));
      }
    }
    h.append("</section>");

    // Optimizer share.
    Map<String, Map<String, Long>> share = new TreeMap<>();
    optPerModel.forEach(
        (m, o) -> {
          Map<String, Long> x = new TreeMap<>();
          x.put("optimizer", o[0]);
          x.put("weights", o[1] - o[0]);
          share.put(m, x);
        });
    h.append("<section id=\"optimizer-share\"><h2>Optimizer-state share</h2><p>")
        .append(bytes == 0 ? "0" : String.format(Locale.ROOT, "%.1f", 100.0 * optimizer / bytes))
        .append("% of all tensor bytes (")
        .append(human(optimizer))
        .append(") are optimizer slots and accumulators.</p>")
        .append(stackedBars(share, List.of("weights", "optimizer")))
        .append("</section>");
    h.append(
        "<p class=\"muted\">Tables: tensors, checkpoints, findings. Counts are exact; statistics cover finite values.</p>");
    h.append("</main></body></html>\n");
    return h.toString();
  }

  private static void card(StringBuilder h, String cls, String value, String label) {
    h.append("<div class=\"card ")
        .append(cls)
        .append("\"><b>")
        .append(esc(value))
        .append("</b><span>")
        .append(esc(label))
        .append("</span></div>");
  }

  /** Horizontal bars, one per entry, scaled to the largest. */
  static String bars(Map<String, Long> values, boolean asBytes) {
    if (values.isEmpty()) {
      return "<p class=\"muted\">Nothing to show.</p>";
    }
    long max = Math.max(1, values.values().stream().mapToLong(Long::longValue).max().orElse(1));
    int rowH = 22;
    int labelW = 420;
    int barW = 520;
    StringBuilder s = new StringBuilder();
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"")
        .append(labelW + barW + 110)
        .append("\" height=\"")
        .append(values.size() * rowH + 6)
        .append("\">");
    int y = 0;
    int i = 0;
    for (Map.Entry<String, Long> e : values.entrySet()) {
      int w = (int) Math.max(1, Math.round((double) e.getValue() / max * barW));
      s.append("<text x=\"")
          .append(labelW - 6)
          .append("\" y=\"")
          .append(y + 15)
          .append("\" text-anchor=\"end\">")
          .append(esc(clip(e.getKey(), 62)))
          .append("</text><rect x=\"")
          .append(labelW)
          .append("\" y=\"")
          .append(y + 3)
          .append("\" width=\"")
          .append(w)
          .append("\" height=\"")
          .append(rowH - 6)
          .append("\" rx=\"2\" fill=\"")
          .append(PALETTE[i % PALETTE.length])
          .append("\"/><text x=\"")
          .append(labelW + w + 6)
          .append("\" y=\"")
          .append(y + 15)
          .append("\">")
          .append(asBytes ? human(e.getValue()) : e.getValue().toString())
          .append("</text>");
      y += rowH;
      i++;
    }
    return s.append("</svg>").toString();
  }

  /** Stacked horizontal bars: one per row, one colour per series, with a legend. */
  static String stackedBars(Map<String, Map<String, Long>> rows, List<String> series) {
    if (rows.isEmpty()) {
      return "<p class=\"muted\">Nothing to show.</p>";
    }
    long max = 1;
    for (Map<String, Long> m : rows.values()) {
      max = Math.max(max, m.values().stream().mapToLong(Long::longValue).sum());
    }
    StringBuilder s = new StringBuilder("<div class=\"legend\">");
    for (int k = 0; k < series.size(); k++) {
      s.append("<span><i style=\"background:")
          .append(PALETTE[k])
          .append("\"></i>")
          .append(esc(series.get(k)))
          .append("</span>");
    }
    s.append("</div>");
    int rowH = 22;
    int labelW = 420;
    int barW = 520;
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"")
        .append(labelW + barW + 110)
        .append("\" height=\"")
        .append(rows.size() * rowH + 6)
        .append("\">");
    int y = 0;
    for (Map.Entry<String, Map<String, Long>> e : rows.entrySet()) {
      s.append("<text x=\"")
          .append(labelW - 6)
          .append("\" y=\"")
          .append(y + 15)
          .append("\" text-anchor=\"end\">")
          .append(esc(clip(e.getKey(), 62)))
          .append("</text>");
      double x = labelW;
      long total = 0;
      for (int k = 0; k < series.size(); k++) {
        long v = e.getValue().getOrDefault(series.get(k), 0L);
        total += v;
        double w = (double) v / max * barW;
        if (v > 0) {
          s.append("<rect x=\"")
              .append(String.format(Locale.ROOT, "%.1f", x))
              .append("\" y=\"")
              .append(y + 3)
              .append("\" width=\"")
              .append(String.format(Locale.ROOT, "%.1f", Math.max(1, w)))
              .append("\" height=\"")
              .append(rowH - 6)
              .append("\" fill=\"")
              .append(PALETTE[k])
              .append("\"><title>")
              .append(esc(series.get(k)))
              .append(": ")
              .append(v)
              .append("</title></rect>");
        }
        x += w;
      }
      boolean counts = series.contains("NaN");
      s.append("<text x=\"")
          .append(String.format(Locale.ROOT, "%.1f", x + 6))
          .append("\" y=\"")
          .append(y + 15)
          .append("\">")
          .append(counts ? Long.toString(total) : human(total))
          .append("</text>");
      y += rowH;
    }
    return s.append("</svg>").toString();
  }

  static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** The last three path components: enough to tell models apart in a chart. */
  static String shortName(String location) {
    if (location == null) {
      return "";
    }
    String[] parts = location.split("/");
    int from = Math.max(0, parts.length - 3);
    return String.join("/", java.util.Arrays.copyOfRange(parts, from, parts.length));
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : "…" + s.substring(s.length() - n + 1);
  }

  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
