package io.rebundle.jobs.discover;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * One thing {@link CheckpointDiscovery} found under a root.
 *
 * @param prefix the checkpoint prefix (for {@link Kind#V1}, the V1 file; for {@link
 *     Kind#ORPHAN_DATA}, the prefix the data file names; for {@link Kind#DANGLING_STATE}, the
 *     missing checkpoint the state file names), as a fully qualified Hadoop location
 * @param modelDir the directory holding the checkpoint (for a SavedModel, the SavedModel directory,
 *     not {@code variables/})
 * @param kind what was found
 * @param isLatest whether the model directory's state file names this checkpoint as its latest;
 *     always true for a SavedModel's variables
 * @param indexLength bytes of the {@code .index} file, or -1 if there is none
 * @param indexModified modification time of the {@code .index} file (ms since the epoch), or -1
 * @param dataFiles the data files listed beside the prefix ({@code prefix.data-*}): file name to
 *     length, sorted by name
 * @param problems what discovery alone could tell is wrong, one sentence each
 */
public record DiscoveredCheckpoint(
    String prefix,
    String modelDir,
    Kind kind,
    boolean isLatest,
    long indexLength,
    long indexModified,
    Map<String, Long> dataFiles,
    List<String> problems)
    implements Serializable {

  /** What was found. */
  public enum Kind {
    /** A V2 prefix with an {@code .index} file. */
    CHECKPOINT("checkpoint"),
    /** A SavedModel's {@code variables/variables} prefix (it may lack its index if truncated). */
    SAVED_MODEL("saved_model"),
    /** A legacy V1 checkpoint (one SSTable file per shard). */
    V1("v1"),
    /** A state file entry naming a checkpoint that is not there. */
    DANGLING_STATE("dangling_state"),
    /** Data files whose prefix has no index. */
    ORPHAN_DATA("orphan_data");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The lower-case name used in tables and reports. */
    public String label() {
      return label;
    }
  }

  public DiscoveredCheckpoint {
    dataFiles = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(dataFiles));
    problems = List.copyOf(problems);
  }

  /** Whether the prefix can be opened as a V2 checkpoint (it has an index). */
  public boolean hasIndex() {
    return indexLength >= 0;
  }
}
