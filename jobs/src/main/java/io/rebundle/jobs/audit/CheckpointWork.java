package io.rebundle.jobs.audit;

import io.rebundle.codec.stats.TensorDigest;
import java.io.Serializable;
import java.util.Map;

/**
 * The tensors of one checkpoint a task scans: keys in [{@code fromKey}, {@code toKey}) (null =
 * unbounded), with the results of tensors too big for one task already merged from their byte
 * ranges by the planner ({@code merged}, by key).
 */
public record CheckpointWork(
    String prefix, String fromKey, String toKey, Map<String, TensorDigest.Result> merged)
    implements Serializable {
  public CheckpointWork {
    merged = Map.copyOf(merged);
  }

  public static CheckpointWork whole(String prefix) {
    return new CheckpointWork(prefix, null, null, Map.of());
  }

  boolean covers(String key) {
    return (fromKey == null || key.compareTo(fromKey) >= 0)
        && (toKey == null || key.compareTo(toKey) < 0);
  }
}
