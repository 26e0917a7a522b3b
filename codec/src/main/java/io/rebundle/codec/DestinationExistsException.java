package io.rebundle.codec;

/**
 * The destination of a write already holds a checkpoint and replacing it was not asked for. The
 * caller asked for something unsafe, so it is a usage error (exit code 2), not a storage failure.
 */
public final class DestinationExistsException extends RebundleException {
  private static final long serialVersionUID = 1L;
  private final String prefix;

  public DestinationExistsException(String prefix, String message) {
    super(message);
    this.prefix = prefix;
  }

  /** The destination prefix that exists. */
  public String prefix() {
    return prefix;
  }
}
