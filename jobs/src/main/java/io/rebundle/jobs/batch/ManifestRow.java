package io.rebundle.jobs.batch;

import java.util.List;
import java.util.Map;

/**
 * One migration of a batch manifest: where it was written ({@code file}:{@code line}, 1-based, the
 * line a CSV record starts on), its fields as written (snake_case names, values as text, in the
 * order given; a list for repeatable options), and the {@code convert} command line they mean.
 *
 * <p>{@code convertArgs} is what {@code rebundle convert} would be given for this row: options
 * first, then {@code --}, SRC and DST. Immutable.
 */
public record ManifestRow(
    String file, int line, Map<String, List<String>> fields, List<String> convertArgs) {
  public ManifestRow {
    fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
    convertArgs = List.copyOf(convertArgs);
    if (!fields.containsKey(ManifestFields.SRC) || !fields.containsKey(ManifestFields.DST)) {
      throw new IllegalArgumentException(
          "Invalid manifest row " + file + ":" + line + ": no src or dst");
    }
  }

  public String src() {
    return fields.get(ManifestFields.SRC).get(0);
  }

  public String dst() {
    return fields.get(ManifestFields.DST).get(0);
  }

  /** Where the row is, as editors and compilers print it: {@code file:line}. */
  public String where() {
    return file + ":" + line;
  }
}
