package io.rebundle.codec;

import io.rebundle.codec.io.FileIO;

/**
 * Every error message Rebundle raises, built in one place: one factory method per situation, each
 * returning the exception (callers {@code throw} it) with the fields callers need. Messages follow
 * "Cannot &lt;verb&gt; &lt;object&gt;: &lt;reason&gt;", name the file, the key and the offset where
 * known, and end with how to fix it where there is a fix.
 */
public final class Errors {
  private Errors() {}

  // migration

  /** The destination of a migration already holds a checkpoint and no overwrite was asked for. */
  public static DestinationExistsException destinationExists(String prefix) {
    return new DestinationExistsException(prefix, "Cannot write checkpoint " + prefix
        + ": it already exists (use --overwrite to replace it once the new one is complete)");
  }

  /** An index entry names a data file beyond the header's {@code num_shards}. */
  public static CorruptCheckpointException shardOutOfRange(String indexFile, String key, int shard, int numShards) {
    return new CorruptCheckpointException("Cannot plan tensor " + key + " of " + indexFile + ": it lives in shard "
        + shard + ", but the header declares " + numShards + " shard" + (numShards == 1 ? "" : "s")
        + " (the index is corrupt)");
  }

  /** An index entry's bytes lie (partly) past the end of its data file. */
  public static CorruptCheckpointException entryPastEnd(String dataFile, String key, long offset, long size,
      long fileLength) {
    return new CorruptCheckpointException("Cannot plan tensor " + key + ": its " + size + " bytes at offset "
        + offset + " of " + dataFile + " lie past the end of the file (" + fileLength
        + " bytes; the file is truncated or the index is corrupt)");
  }

  /** An index entry has an impossible offset or size. */
  public static CorruptCheckpointException invalidEntryRange(String dataFile, String key, long offset, long size) {
    return new CorruptCheckpointException("Cannot plan tensor " + key + ": offset " + offset + " and size " + size
        + " in " + dataFile + " are invalid (the index is corrupt)");
  }

  /** An index entry's dtype code is not one TensorFlow defines. */
  public static UnsupportedCheckpointException unknownDtype(String indexFile, String key, int code, long offset) {
    return new UnsupportedCheckpointException("Cannot plan tensor " + key + " of " + indexFile + " (data offset "
        + offset + "): dtype code " + code + " is not a TensorFlow dtype");
  }

  /** A fixed-size tensor's stored size disagrees with its dtype and shape. */
  public static CorruptCheckpointException sizeMismatch(String dataFile, String key, long offset, long size,
      String dtype, String shape, long expected) {
    return new CorruptCheckpointException("Cannot plan tensor " + key + ": " + dtype + " " + shape + " needs "
        + expected + " bytes, but its entry at offset " + offset + " of " + dataFile + " holds " + size
        + " (the index is corrupt)");
  }

  /** A data file the index needs does not exist. */
  public static CorruptCheckpointException dataFileMissing(String dataFile, String key) {
    return new CorruptCheckpointException("Cannot plan tensor " + key + ": data file " + dataFile
        + " does not exist (the checkpoint is incomplete; copy all of its .data-* files)");
  }

  /** The slices of a partitioned tensor do not tile the full tensor. */
  public static CorruptCheckpointException sliceMergeGap(String key, String reason) {
    return new CorruptCheckpointException("Cannot merge slices of " + key + ": " + reason);
  }

  /** A reused source data file changed size between planning and copying. */
  public static CorruptCheckpointException reusedFileChanged(String file, long bytes, long expected) {
    return new CorruptCheckpointException("Cannot reuse " + file + ": it holds " + bytes
        + " bytes, the plan expected " + expected + " (did it change during the migration?)");
  }

  /** A hard link was asked of storage that has none. */
  public static LinkNotPossibleException notLinkable(FileIO io, String location) {
    return new LinkNotPossibleException("Cannot hard-link " + location + ": hard links need a local disk, and this "
        + "storage (" + io.getClass().getSimpleName() + ") has none; copy the files instead");
  }

  // end migration
}
