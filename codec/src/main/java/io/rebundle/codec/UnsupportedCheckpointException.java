package io.rebundle.codec;

/**
 * A well-formed checkpoint that Rebundle refuses to handle rather than misread: a legacy V1
 * checkpoint, big-endian variant tensors, DT_RESOURCE, an unknown dtype code. Exit code 3.
 */
public class UnsupportedCheckpointException extends RebundleException {
  private static final long serialVersionUID = 1L;

  private final String location;
  private final String key;

  public UnsupportedCheckpointException(String message) {
    this(message, null, null);
  }

  public UnsupportedCheckpointException(String message, String location, String key) {
    super(message);
    this.location = location;
    this.key = key;
  }

  /** The file concerned, or null if unknown. */
  public String location() {
    return location;
  }

  /** The index key concerned, or null if none applies. */
  public String key() {
    return key;
  }
}
