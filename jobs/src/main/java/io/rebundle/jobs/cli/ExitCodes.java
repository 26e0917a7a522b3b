package io.rebundle.jobs.cli;

/** Process exit codes, the same for every command (README "Exit codes"). */
public final class ExitCodes {
  private ExitCodes() {}

  public static final int OK = 0;

  /** A check found problems (verify, diff, audit). */
  public static final int FINDINGS = 1;

  public static final int USAGE = 2;

  /** The input is corrupt or in a form Rebundle refuses (legacy V1, unknown dtype, ...). */
  public static final int BAD_INPUT = 3;

  /** A file is missing or storage failed. */
  public static final int STORAGE = 4;

  /** A bug: please report it. */
  public static final int INTERNAL = 70;
}
