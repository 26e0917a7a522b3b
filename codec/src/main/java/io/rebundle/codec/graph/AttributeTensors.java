package io.rebundle.codec.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;

/**
 * Which index keys hold the value of one object-graph attribute (docs/object-graph-attributes.md).
 * An attribute's {@code checkpoint_key} names either one tensor saved under exactly that key, or,
 * for a saveable object with several specs (a hash table's keys and values), the tensors saved
 * under that key plus a suffix, e.g. {@code .../.ATTRIBUTES/table-keys} and {@code
 * .../.ATTRIBUTES/table-values}. A suffix never contains {@code /}: object-path separators are
 * escaped inside names, so a key with a further {@code /} belongs to another object.
 */
public final class AttributeTensors {
  private AttributeTensors() {}

  /**
   * The keys of {@code indexKeys} that hold {@code checkpointKey}'s value: the key itself if
   * present, else every key that extends it with a slash-free suffix; empty if none does.
   */
  public static List<String> of(NavigableSet<String> indexKeys, String checkpointKey) {
    if (indexKeys.contains(checkpointKey)) {
      return List.of(checkpointKey);
    }
    List<String> found = new ArrayList<>();
    // Every string that starts with checkpointKey sorts right after it, contiguously.
    for (String k : indexKeys.tailSet(checkpointKey, false)) {
      if (!k.startsWith(checkpointKey)) {
        break;
      }
      if (belongs(checkpointKey, k)) {
        found.add(k);
      }
    }
    return found;
  }

  /**
   * Whether {@code indexKey} is one of the tensors of the attribute saved as {@code checkpointKey}.
   */
  public static boolean belongs(String checkpointKey, String indexKey) {
    return indexKey.equals(checkpointKey)
        || (indexKey.length() > checkpointKey.length()
            && indexKey.startsWith(checkpointKey)
            && indexKey.indexOf('/', checkpointKey.length()) < 0);
  }
}
