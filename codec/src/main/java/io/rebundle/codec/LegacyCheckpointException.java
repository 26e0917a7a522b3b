package io.rebundle.codec;

/**
 * The path names a legacy V1 checkpoint (tensorbundle-format.md §1.4): one SSTable file named by
 * the prefix itself, holding SavedTensorSlices values instead of a bundle header.
 */
public final class LegacyCheckpointException extends UnsupportedCheckpointException {
  private static final long serialVersionUID = 1L;
  private final String file;

  public LegacyCheckpointException(String file) {
    super(
        "Cannot read "
            + file
            + ": legacy V1 checkpoint (tf.train.Saver write_version=V1); "
            + "re-save it with a TensorFlow that writes V2 checkpoints");
    this.file = file;
  }

  public String file() {
    return file;
  }
}
