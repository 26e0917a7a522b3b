package io.rebundle.jobs.cli;

/** A command was called with options that do not make sense together (exit code 2). */
public final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
