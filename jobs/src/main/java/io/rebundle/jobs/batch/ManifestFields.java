package io.rebundle.jobs.batch;

import io.rebundle.jobs.cli.ConvertCommand;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The fields a manifest row may have, taken from {@code convert}'s own options so that a row means
 * exactly what the same {@code convert} command line means: {@code src} and {@code dst} (its two
 * parameters) and every option by its long name in snake_case ({@code --root-name} is {@code
 * root_name}). An option renamed or added in {@code convert} is renamed or added here.
 *
 * <p>Options that belong to the whole run rather than to one migration are not row fields: {@code
 * --master}, {@code --conf} (one Spark application runs every row), {@code --report} (the batch
 * writes one report), {@code --dry-run}, and help/version. Immutable and thread-safe.
 */
public final class ManifestFields {
  public static final String SRC = "src";
  public static final String DST = "dst";
  public static final String TO = "to";
  public static final String TEMPLATE = "template";

  /** {@code convert} options that are batch-wide, not per row. */
  static final Set<String> BATCH_WIDE =
      Set.of("help", "version", "master", "conf", "report", "dry_run", "engine", "local_max");

  private static final ManifestFields INSTANCE = new ManifestFields();

  /** snake_case name to the option it stands for (positional parameters are absent). */
  private final Map<String, OptionSpec> options;

  private ManifestFields() {
    CommandLine.Model.CommandSpec spec = new CommandLine(new ConvertCommand()).getCommandSpec();
    Map<String, OptionSpec> m = new LinkedHashMap<>();
    for (OptionSpec o : spec.options()) {
      String name = snake(o.longestName());
      if (!BATCH_WIDE.contains(name)) {
        m.put(name, o);
      }
    }
    this.options = Collections.unmodifiableMap(m);
  }

  public static ManifestFields get() {
    return INSTANCE;
  }

  /** {@code --root-name} as {@code root_name}. */
  static String snake(String optionName) {
    String s = optionName;
    while (s.startsWith("-")) {
      s = s.substring(1);
    }
    return s.replace('-', '_').toLowerCase(Locale.ROOT);
  }

  /** Every field name, sorted: src, dst and the per-row options. */
  public Set<String> names() {
    Set<String> all = new TreeSet<>(options.keySet());
    all.add(SRC);
    all.add(DST);
    return all;
  }

  public boolean isKnown(String field) {
    return field.equals(SRC) || field.equals(DST) || options.containsKey(field);
  }

  /** Whether {@code field} is an on/off switch ({@code true}/{@code false} in a manifest). */
  public boolean isFlag(String field) {
    OptionSpec o = options.get(field);
    return o != null && o.arity().max() == 0;
  }

  /**
   * Whether {@code field} may be given several values (a JSON array; {@code ;}-separated in CSV).
   */
  public boolean isRepeatable(String field) {
    OptionSpec o = options.get(field);
    return o != null && o.isMultiValue();
  }

  /**
   * The {@code convert} arguments {@code fields} mean, or a reason they mean nothing: options in a
   * stable (sorted) order, then {@code --}, SRC, DST. Values are validated by {@code convert}'s own
   * parser later; here only the shape (flag values, single vs repeated).
   */
  public List<String> convertArgs(Map<String, List<String>> fields) {
    List<String> args = new ArrayList<>();
    for (String name : new TreeSet<>(fields.keySet())) {
      if (name.equals(SRC) || name.equals(DST)) {
        continue;
      }
      OptionSpec o = options.get(name);
      if (o == null) {
        throw new IllegalArgumentException(
            "unknown field '" + name + "' (fields: " + String.join(", ", names()) + ")");
      }
      List<String> values = fields.get(name);
      if (isFlag(name)) {
        String v = values.size() == 1 ? values.get(0).trim().toLowerCase(Locale.ROOT) : "";
        if (v.equals("true")) {
          args.add(o.longestName());
        } else if (!v.equals("false")) {
          throw new IllegalArgumentException(
              "invalid " + name + ": " + String.join(",", values) + " (expected true or false)");
        }
        continue;
      }
      if (values.size() > 1 && !o.isMultiValue()) {
        throw new IllegalArgumentException(
            "invalid " + name + ": one value expected, " + values.size() + " given");
      }
      for (String v : values) {
        args.add(o.longestName());
        args.add(v);
      }
    }
    args.add("--");
    args.add(fields.get(SRC).get(0));
    args.add(fields.get(DST).get(0));
    return args;
  }
}
