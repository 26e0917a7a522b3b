package io.rebundle.codec;

/**
 * A hard link was asked for where none can be made: storage without hard links (anything but a
 * local disk), a source and destination on different file systems, or a file system that refuses
 * them. The caller asked for something this storage cannot do, so it is a usage error (exit code
 * 2), not a storage failure; a whole-file copy works everywhere.
 */
public final class LinkNotPossibleException extends RebundleException {
  private static final long serialVersionUID = 1L;

  public LinkNotPossibleException(String message) {
    super(message);
  }

  public LinkNotPossibleException(String message, Throwable cause) {
    super(message, cause);
  }
}
