package io.rebundle.codec.bundle;

/** File names of a checkpoint (tensorbundle-format.md §1.1). */
public final class Naming {
  private Naming() {}

  public static final String INDEX_SUFFIX = ".index";
  public static final String OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";
  public static final String STATE_FILE = "checkpoint";

  public static String indexFile(String prefix) {
    return prefix + INDEX_SUFFIX;
  }

  /** {@code prefix.data-%05d-of-%05d}, at least five digits each, as C printf pads them. */
  public static String dataFile(String prefix, int shard, int numShards) {
    return prefix + String.format(".data-%05d-of-%05d", shard, numShards);
  }
}
