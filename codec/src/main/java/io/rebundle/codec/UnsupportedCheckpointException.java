package io.rebundle.codec;

/**
 * A well-formed checkpoint that Rebundle refuses to handle rather than misread: a legacy V1
 * checkpoint, big-endian variant tensors, DT_RESOURCE, an unknown dtype code.
 */
public class UnsupportedCheckpointException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public UnsupportedCheckpointException(String message) {
    super(message);
  }
}
