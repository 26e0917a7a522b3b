package io.rebundle.codec;

/**
 * Bytes of a checkpoint contradict the format: bad magic, checksum mismatch, an offset past the end
 * of a file, an unparsable entry. Built by {@link Errors}; the message names the file, the key
 * where known, and the byte offset, and the same facts are available as fields for callers that
 * report them in their own form (verify findings, audit rows). Exit code 3.
 */
public class CorruptCheckpointException extends RebundleException {
  private static final long serialVersionUID = 1L;

  private final String location;
  private final String key;
  private final Long offset;

  public CorruptCheckpointException(String message) {
    this(message, null, null, null, null);
  }

  public CorruptCheckpointException(String message, Throwable cause) {
    this(message, null, null, null, cause);
  }

  public CorruptCheckpointException(
      String message, String location, String key, Long offset, Throwable cause) {
    super(message, cause);
    this.location = location;
    this.key = key;
    this.offset = offset;
  }

  /** The file the problem is in, or null if unknown. */
  public String location() {
    return location;
  }

  /** The index key concerned (printable form), or null if none applies. */
  public String key() {
    return key;
  }

  /** Byte offset in {@link #location()}, or null if none applies. */
  public Long offset() {
    return offset;
  }
}
