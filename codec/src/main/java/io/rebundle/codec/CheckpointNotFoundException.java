package io.rebundle.codec;

/** A checkpoint, one of its files, or a key in it does not exist. */
public class CheckpointNotFoundException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public CheckpointNotFoundException(String message) {
    super(message);
  }
}
