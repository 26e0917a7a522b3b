package io.rebundle.jobs.audit;

import java.io.Serializable;
import java.util.Set;

/**
 * What a tensor scan reads and keeps. {@code keys}/{@code keyPrefixes}/{@code dtypes}: pushed-down
 * filters (null = no filter); tensors they exclude are neither read nor returned.
 */
public record ScanOptions(
    boolean readData,
    boolean readStats,
    boolean readGraph,
    Set<String> keys,
    java.util.List<String> keyPrefixes,
    Set<String> dtypes,
    boolean ignoreCorruptFiles,
    long splitBytes,
    long openCostBytes)
    implements Serializable {

  public static final long DEFAULT_SPLIT = 128L << 20;
  public static final long DEFAULT_OPEN_COST = 4L << 20;

  public ScanOptions {
    if (splitBytes < io.rebundle.codec.stats.TensorDigest.CHUNK
        || splitBytes % io.rebundle.codec.stats.TensorDigest.CHUNK != 0) {
      throw new IllegalArgumentException(
          "Invalid maxPartitionBytes "
              + splitBytes
              + ": must be a positive multiple of "
              + io.rebundle.codec.stats.TensorDigest.CHUNK);
    }
    if (openCostBytes < 0) {
      throw new IllegalArgumentException("Invalid openCostInBytes " + openCostBytes);
    }
  }

  /** Everything, for the audit. */
  public static ScanOptions all(boolean stats) {
    return new ScanOptions(
        true, stats, true, null, null, null, true, DEFAULT_SPLIT, DEFAULT_OPEN_COST);
  }

  /** Whether a tensor passes the pushed-down key and dtype filters. */
  public boolean accepts(String key, String dtype) {
    if (dtypes != null && !dtypes.contains(dtype)) {
      return false;
    }
    if (keys != null && !keys.contains(key)) {
      return false;
    }
    if (keyPrefixes != null) {
      for (String p : keyPrefixes) {
        if (!key.startsWith(p)) {
          return false;
        }
      }
    }
    return true;
  }
}
