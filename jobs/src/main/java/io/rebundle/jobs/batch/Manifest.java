package io.rebundle.jobs.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.rebundle.jobs.cli.UsageException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A batch manifest: one migration per row, as JSON Lines (one object per line) or CSV with a header
 * line. Required fields: {@code src}, {@code dst}, and {@code to} (or a {@code template}, which
 * gives the format as it does for {@code convert}); any other {@code convert} option in snake_case
 * ({@link ManifestFields}).
 *
 * <p>Values: JSON strings, numbers and booleans; a JSON array for a repeatable option ({@code
 * prev_name}); {@code null} or a missing field means "not given". In CSV an empty cell means "not
 * given", flags are {@code true}/{@code false}, and a repeatable option's values are separated by
 * {@code ;}. Blank lines are ignored (and, in JSON Lines, lines starting with {@code #}).
 *
 * <p>Reading checks every row and the rows against each other (duplicate {@code dst}, a row writing
 * into another row's {@code dst} or {@code src}); every problem is reported with its {@code
 * file:line}, and none of the rows is returned: the caller runs nothing (exit 2).
 */
public final class Manifest {
  /** Bound on one line (or CSV record) of a manifest: a row is a few hundred bytes. */
  static final int MAX_LINE_CHARS = 1 << 20;

  /** Bound on the rows of one manifest (each costs a few hundred bytes of driver memory). */
  static final int MAX_ROWS = 10_000_000;

  /** Problems listed before the rest are only counted. */
  static final int MAX_REPORTED = 50;

  private static final JsonFactory JSON = new JsonFactory();

  private Manifest() {}

  /**
   * The format of a manifest: from its name ({@code .csv}, {@code .jsonl}/{@code .json}/{@code
   * .ndjson}), else from its first character.
   */
  enum Format {
    JSON_LINES,
    CSV
  }

  /**
   * Reads, checks and returns the rows of the manifest called {@code file} (for messages and the
   * format) from {@code in}, or throws a {@link UsageException} listing every bad row.
   */
  public static List<ManifestRow> read(String file, Reader in) {
    BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in, 1 << 16);
    List<String> problems = new ArrayList<>();
    List<ManifestRow> rows;
    try {
      Format format = format(file, r);
      rows = format == Format.CSV ? readCsv(file, r, problems) : readJsonLines(file, r, problems);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read manifest " + file + ": " + e.getMessage(), e);
    }
    if (problems.isEmpty()) {
      checkOutputs(rows, problems);
    }
    if (!problems.isEmpty()) {
      throw invalid(file, problems);
    }
    if (rows.isEmpty()) {
      throw new UsageException("Invalid manifest " + file + ": no rows");
    }
    return rows;
  }

  /**
   * The usage error for {@code problems} (each "file:line: what"), the first {@value #MAX_REPORTED}
   * listed.
   */
  public static UsageException invalid(String file, List<String> problems) {
    StringBuilder sb =
        new StringBuilder(
            "Invalid manifest "
                + file
                + ": "
                + problems.size()
                + (problems.size() == 1 ? " problem" : " problems")
                + "; nothing was run");
    for (int i = 0; i < Math.min(problems.size(), MAX_REPORTED); i++) {
      sb.append("\n  ").append(problems.get(i));
    }
    if (problems.size() > MAX_REPORTED) {
      sb.append("\n  ... and ").append(problems.size() - MAX_REPORTED).append(" more");
    }
    return new UsageException(sb.toString());
  }

  private static Format format(String file, BufferedReader r) throws IOException {
    String lower = file.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".csv")) {
      return Format.CSV;
    }
    if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || lower.endsWith(".json")) {
      return Format.JSON_LINES;
    }
    r.mark(MAX_LINE_CHARS);
    int c;
    do {
      c = r.read();
    } while (c != -1 && Character.isWhitespace(c));
    r.reset();
    return c == '{' ? Format.JSON_LINES : Format.CSV;
  }

  // ---- JSON Lines

  private static List<ManifestRow> readJsonLines(
      String file, BufferedReader r, List<String> problems) throws IOException {
    List<ManifestRow> rows = new ArrayList<>();
    int lineNo = 0;
    String line;
    while ((line = readLine(r, file, lineNo + 1)) != null) {
      lineNo++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      Map<String, List<String>> fields;
      try {
        fields = parseObject(t);
      } catch (IllegalArgumentException e) {
        problems.add(file + ":" + lineNo + ": " + e.getMessage());
        continue;
      }
      addRow(file, lineNo, fields, rows, problems);
    }
    return rows;
  }

  /** One JSON object of scalars and arrays of scalars, as text values; nulls are absent. */
  static Map<String, List<String>> parseObject(String json) {
    Map<String, List<String>> fields = new LinkedHashMap<>();
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("not a JSON object");
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        if (fields.containsKey(name)) {
          throw new IllegalArgumentException("field '" + name + "' given twice");
        }
        JsonToken v = p.nextToken();
        if (v == JsonToken.VALUE_NULL) {
          continue;
        }
        List<String> values = new ArrayList<>();
        if (v == JsonToken.START_ARRAY) {
          JsonToken e;
          while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
            values.add(scalar(name, e, p));
          }
          if (values.isEmpty()) {
            continue;
          }
        } else {
          values.add(scalar(name, v, p));
        }
        fields.put(name, values);
      }
      if (t != JsonToken.END_OBJECT) {
        throw new IllegalArgumentException("not a JSON object");
      }
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("text after the JSON object (one object per line)");
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return fields;
  }

  private static String scalar(String field, JsonToken t, JsonParser p) throws IOException {
    return switch (t) {
      case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getText();
      case VALUE_TRUE -> "true";
      case VALUE_FALSE -> "false";
      default ->
          throw new IllegalArgumentException(
              "invalid "
                  + field
                  + ": expected a string, number, boolean "
                  + "or (repeatable options) an array of them");
    };
  }

  // ---- CSV (RFC 4180: "," separated, "..." quoted with "" for a quote, records may span lines)

  private static List<ManifestRow> readCsv(String file, BufferedReader r, List<String> problems)
      throws IOException {
    int[] lineNo = {0};
    List<String> header = null;
    int headerLine = 0;
    List<ManifestRow> rows = new ArrayList<>();
    while (true) {
      int start = lineNo[0] + 1;
      List<String> record;
      try {
        record = csvRecord(r, file, lineNo);
      } catch (IllegalArgumentException e) {
        problems.add(file + ":" + start + ": " + e.getMessage());
        return rows;
      }
      if (record == null) {
        break;
      }
      if (record.size() == 1 && record.get(0).isBlank()) {
        continue;
      }
      if (header == null) {
        header = new ArrayList<>();
        headerLine = start;
        for (String h : record) {
          String name = h.strip();
          if (header.contains(name)) {
            problems.add(file + ":" + start + ": column '" + name + "' given twice");
          }
          header.add(name);
        }
        continue;
      }
      if (record.size() != header.size()) {
        problems.add(
            file
                + ":"
                + start
                + ": "
                + record.size()
                + " cells, the header (line "
                + headerLine
                + ") has "
                + header.size());
        continue;
      }
      Map<String, List<String>> fields = new LinkedHashMap<>();
      for (int i = 0; i < header.size(); i++) {
        String cell = record.get(i);
        if (cell.isEmpty()) {
          continue;
        }
        String name = header.get(i);
        List<String> values = new ArrayList<>();
        if (ManifestFields.get().isRepeatable(name)) {
          for (String part : cell.split(";")) {
            if (!part.isBlank()) {
              values.add(part.strip());
            }
          }
        } else {
          values.add(cell);
        }
        if (!values.isEmpty()) {
          fields.put(name, values);
        }
      }
      addRow(file, start, fields, rows, problems);
    }
    if (header == null) {
      problems.add(
          file
              + ":1: no header line (a CSV manifest starts with its column names, e.g. src,dst,to)");
    }
    return rows;
  }

  /** One CSV record, or null at the end; {@code lineNo[0]} advances over the lines it spans. */
  private static List<String> csvRecord(BufferedReader r, String file, int[] lineNo)
      throws IOException {
    String line = readLine(r, file, lineNo[0] + 1);
    if (line == null) {
      return null;
    }
    lineNo[0]++;
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    int i = 0;
    while (true) {
      if (i == line.length()) {
        if (!quoted) {
          cells.add(cell.toString());
          return cells;
        }
        String next = readLine(r, file, lineNo[0] + 1);
        if (next == null) {
          throw new IllegalArgumentException("unterminated quoted cell");
        }
        lineNo[0]++;
        cell.append('\n');
        if (cell.length() > MAX_LINE_CHARS) {
          throw new IllegalArgumentException(
              "record longer than " + MAX_LINE_CHARS + " characters");
        }
        line = next;
        i = 0;
        continue;
      }
      char c = line.charAt(i++);
      if (quoted) {
        if (c == '"') {
          if (i < line.length() && line.charAt(i) == '"') {
            cell.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cell.append(c);
        }
      } else if (c == '"' && cell.isEmpty()) {
        quoted = true;
      } else if (c == ',') {
        cells.add(cell.toString());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
  }

  /**
   * A line of at most {@value #MAX_LINE_CHARS} characters (without its terminator), or null at the
   * end.
   */
  private static String readLine(BufferedReader r, String file, int lineNo) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = r.read()) != -1) {
      if (c == '\n') {
        break;
      }
      if (sb.length() >= MAX_LINE_CHARS) {
        throw new UsageException(
            "Invalid manifest "
                + file
                + ": line "
                + lineNo
                + " is longer than "
                + MAX_LINE_CHARS
                + " characters");
      }
      sb.append((char) c);
    }
    if (c == -1 && sb.isEmpty()) {
      return null;
    }
    int n = sb.length();
    if (n > 0 && sb.charAt(n - 1) == '\r') {
      sb.setLength(n - 1);
    }
    return sb.toString();
  }

  // ---- rows

  private static void addRow(
      String file,
      int line,
      Map<String, List<String>> fields,
      List<ManifestRow> rows,
      List<String> problems) {
    String where = file + ":" + line;
    ManifestFields known = ManifestFields.get();
    List<String> unknown = new ArrayList<>();
    for (String name : fields.keySet()) {
      if (!known.isKnown(name)) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      problems.add(
          where
              + ": unknown field"
              + (unknown.size() == 1 ? " '" : "s '")
              + String.join("', '", unknown)
              + "' (fields: "
              + String.join(", ", known.names())
              + ")");
      return;
    }
    List<String> missing = new ArrayList<>();
    for (String required : List.of(ManifestFields.SRC, ManifestFields.DST)) {
      if (!fields.containsKey(required) || fields.get(required).get(0).isBlank()) {
        missing.add(required);
      }
    }
    if (!fields.containsKey(ManifestFields.TO) && !fields.containsKey(ManifestFields.TEMPLATE)) {
      missing.add(ManifestFields.TO);
    }
    if (!missing.isEmpty()) {
      problems.add(
          where
              + ": missing "
              + String.join(", ", missing)
              + (missing.contains(ManifestFields.TO)
                  ? " (to: tf1, tf2 or tf1,tf2; or a template)"
                  : ""));
      return;
    }
    for (String single : List.of(ManifestFields.SRC, ManifestFields.DST)) {
      if (fields.get(single).size() != 1) {
        problems.add(where + ": " + single + " must be one location");
        return;
      }
    }
    if (rows.size() >= MAX_ROWS) {
      throw new UsageException(
          "Invalid manifest " + file + ": more than " + MAX_ROWS + " rows; split it");
    }
    try {
      rows.add(new ManifestRow(file, line, fields, known.convertArgs(fields)));
    } catch (IllegalArgumentException e) {
      problems.add(where + ": " + e.getMessage());
    }
  }

  /**
   * Every output location of every row must be its own: no two rows with one {@code dst}, and no
   * row's {@code dst} inside (or holding) another row's {@code dst} or {@code src}.
   */
  static void checkOutputs(List<ManifestRow> rows, List<String> problems) {
    Map<String, Integer> dsts = new HashMap<>();
    Map<String, Integer> srcs = new HashMap<>();
    List<String> dstKeys = new ArrayList<>(rows.size());
    List<String> srcKeys = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      ManifestRow row = rows.get(i);
      String d = normalize(row.dst());
      String s = normalize(row.src());
      dstKeys.add(d);
      srcKeys.add(s);
      Integer other = dsts.putIfAbsent(d, i);
      if (other != null) {
        problems.add(
            row.where()
                + ": dst "
                + row.dst()
                + " is also the dst of line "
                + rows.get(other).line());
      }
      srcs.putIfAbsent(s, i);
    }
    for (int i = 0; i < rows.size(); i++) {
      ManifestRow row = rows.get(i);
      String d = dstKeys.get(i);
      Integer inDst = ancestorIn(dsts, d, i, false);
      if (inDst != null) {
        problems.add(
            row.where()
                + ": dst "
                + row.dst()
                + " is inside line "
                + rows.get(inDst).line()
                + "'s dst "
                + rows.get(inDst).dst()
                + " (rows would write into each other)");
        continue;
      }
      Integer inSrc = ancestorIn(srcs, d, i, true);
      if (inSrc != null) {
        problems.add(
            row.where()
                + ": dst "
                + row.dst()
                + " writes into line "
                + rows.get(inSrc).line()
                + "'s src "
                + rows.get(inSrc).src());
        continue;
      }
      Integer srcInDst = ancestorIn(dsts, srcKeys.get(i), i, true);
      if (srcInDst != null) {
        problems.add(
            row.where()
                + ": src "
                + row.src()
                + " is inside line "
                + rows.get(srcInDst).line()
                + "'s dst "
                + rows.get(srcInDst).dst()
                + " (that row would write into this row's source)");
      }
    }
  }

  /**
   * The row (other than {@code self}) whose key in {@code keys} is a directory above {@code
   * location} (or, with {@code orEqual}, {@code location} itself), nearest first; null if none.
   */
  private static Integer ancestorIn(
      Map<String, Integer> keys, String location, int self, boolean orEqual) {
    if (orEqual) {
      Integer hit = keys.get(location);
      if (hit != null && hit != self) {
        return hit;
      }
    }
    String at = location;
    int slash;
    while ((slash = at.lastIndexOf('/')) > 0) {
      at = at.substring(0, slash);
      if (at.endsWith(":") || at.endsWith(":/")) {
        break;
      }
      Integer hit = keys.get(at);
      if (hit != null && hit != self) {
        return hit;
      }
    }
    return null;
  }

  /**
   * A location as a comparable key: trailing '/' removed; plain paths (and {@code file:} URIs)
   * absolute and normalized against this process's working directory, as {@code convert} resolves
   * them.
   */
  static String normalize(String location) {
    String l = location.strip();
    if (l.startsWith("file:")) {
      l = l.substring("file:".length());
      while (l.startsWith("//")) {
        l = l.substring(1);
      }
    }
    if (!l.contains("://")) {
      return Path.of(l).toAbsolutePath().normalize().toString();
    }
    while (l.endsWith("/") && !l.endsWith("://")) {
      l = l.substring(0, l.length() - 1);
    }
    return l;
  }
}
