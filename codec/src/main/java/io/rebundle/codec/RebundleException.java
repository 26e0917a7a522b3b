package io.rebundle.codec;

/**
 * Root of the exceptions Rebundle raises about checkpoints. Unchecked; subclasses exist only where
 * callers react differently (exit codes, retries): {@link CheckpointNotFoundException}, {@link
 * CorruptCheckpointException}, {@link UnsupportedCheckpointException}. Storage failures are {@link
 * java.io.UncheckedIOException}s; caller bugs are {@link IllegalArgumentException} or {@link
 * IllegalStateException}.
 */
public class RebundleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RebundleException(String message) {
    super(message);
  }

  public RebundleException(String message, Throwable cause) {
    super(message, cause);
  }
}
