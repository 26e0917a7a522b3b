package io.rebundle.codec;

/**
 * Bytes of a checkpoint contradict the format: bad magic, checksum mismatch, an offset past the end
 * of a file, an unparsable entry. Messages name the file, the key where known, and the byte offset.
 */
public class CorruptCheckpointException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public CorruptCheckpointException(String message) {
    super(message);
  }

  public CorruptCheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
