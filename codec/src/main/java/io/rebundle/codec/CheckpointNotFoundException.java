package io.rebundle.codec;

/**
 * A checkpoint does not exist: no index under the prefix, no checkpoint in the directory, a state
 * file that names nothing, or a key the caller asked for is not in the index. A missing data file
 * of an existing checkpoint is not this but a {@link CorruptCheckpointException}; a missing file at
 * the storage level is {@link io.rebundle.codec.io.StorageFileNotFoundException}. Exit code 4.
 */
public class CheckpointNotFoundException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public CheckpointNotFoundException(String message) {
    super(message);
  }
}
