package io.rebundle.codec;

/**
 * The codec's internal signal that bytes deep inside a parser are malformed: a varint that runs
 * past its buffer, invalid Snappy, a bad block handle or restart point, a slice key that is not
 * ordered code, a string or variant length that cannot be right, an unparsable protobuf. It knows
 * only the position inside the buffer being parsed; the boundary that handed the buffer over (table
 * reader, checkpoint reader, object-graph parsing, state file) catches it and throws a {@link
 * CorruptCheckpointException} with the file, key and file offset through {@link Errors}.
 * Deliberately not a {@link RebundleException}: it must never reach a user as it is.
 */
public final class MalformedBytesException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long position;

  /** {@code position} is the byte inside the parsed buffer, or -1 if unknown. */
  public MalformedBytesException(String reason, long position) {
    super(reason, null, false, false);
    this.position = position;
  }

  /** What is wrong, in words that fit after "Cannot read X: ". */
  public String reason() {
    return getMessage();
  }

  /** The byte inside the parsed buffer, or -1. */
  public long position() {
    return position;
  }
}
