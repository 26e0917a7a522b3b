package io.rebundle.jobs.audit;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.sources.EqualTo;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.sources.In;
import org.apache.spark.sql.sources.StringStartsWith;

/**
 * The filters the scan applies itself, on {@code checkpoint}, {@code key} and {@code dtype}:
 * equality, IN and prefix (LIKE 'x%'). They only skip work: Spark still evaluates every filter on
 * the rows returned, so an unsupported form is merely not pushed.
 */
record PushedFilters(
    Set<String> checkpoints,
    List<String> checkpointPrefixes,
    Set<String> keys,
    List<String> keyPrefixes,
    Set<String> dtypes,
    List<Filter> pushed)
    implements Serializable {

  static final PushedFilters NONE = new PushedFilters(null, null, null, null, null, List.of());

  static PushedFilters of(Filter[] filters) {
    Set<String> checkpoints = null;
    Set<String> keys = null;
    Set<String> dtypes = null;
    List<String> cpPrefixes = new ArrayList<>();
    List<String> keyPrefixes = new ArrayList<>();
    List<Filter> pushed = new ArrayList<>();
    for (Filter f : filters) {
      String col = null;
      Set<String> values = null;
      String prefix = null;
      if (f instanceof EqualTo eq && eq.value() instanceof String s) {
        col = eq.attribute();
        values = Set.of(s);
      } else if (f instanceof In in && allStrings(in.values())) {
        col = in.attribute();
        values = new HashSet<>();
        for (Object v : in.values()) {
          values.add((String) v);
        }
      } else if (f instanceof StringStartsWith sw) {
        col = sw.attribute();
        prefix = sw.value();
      }
      if (col == null) {
        continue;
      }
      switch (col) {
        case "checkpoint" -> {
          if (values != null) {
            checkpoints = intersect(checkpoints, values);
          } else {
            cpPrefixes.add(prefix);
          }
        }
        case "key" -> {
          if (values != null) {
            keys = intersect(keys, values);
          } else {
            keyPrefixes.add(prefix);
          }
        }
        case "dtype" -> {
          if (values != null) {
            dtypes = intersect(dtypes, values);
          } else {
            continue;
          }
        }
        default -> {
          continue;
        }
      }
      pushed.add(f);
    }
    return new PushedFilters(
        checkpoints,
        cpPrefixes.isEmpty() ? null : cpPrefixes,
        keys,
        keyPrefixes.isEmpty() ? null : keyPrefixes,
        dtypes,
        pushed);
  }

  private static boolean allStrings(Object[] values) {
    for (Object v : values) {
      if (!(v instanceof String)) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> intersect(Set<String> a, Set<String> b) {
    if (a == null) {
      return new HashSet<>(b);
    }
    Set<String> r = new HashSet<>(a);
    r.retainAll(b);
    return r;
  }

  boolean acceptsCheckpoint(String prefix) {
    if (checkpoints != null && !checkpoints.contains(prefix)) {
      return false;
    }
    if (checkpointPrefixes != null) {
      for (String p : checkpointPrefixes) {
        if (!prefix.startsWith(p)) {
          return false;
        }
      }
    }
    return true;
  }
}
