package io.rebundle.jobs.cli;

/**
 * Recognises a Spark application the cluster removed (killed by YARN or an operator, the standalone
 * master's "removed our application", a driver whose context the cluster shut down). That is a
 * storage-class failure of the environment, not a bug: exit 4 and one line pointing at the
 * cluster's logs, instead of exit 70 with Spark's long stack trace.
 */
final class ClusterFailure {
  private ClusterFailure() {}

  /**
   * Phrases Spark uses when its context was stopped under a running job (SparkContext,
   * DAGScheduler).
   */
  private static final String[] SIGNS = {
    "SparkContext was shut down",
    "Cannot call methods on a stopped SparkContext",
    "Master removed our application",
    "Application has been killed",
  };

  /** Bounded walk of the cause chain (a cycle or a very deep chain never loops forever). */
  private static final int MAX_DEPTH = 16;

  static boolean isApplicationRemoved(Throwable ex) {
    Throwable t = ex;
    for (int i = 0; t != null && i < MAX_DEPTH; i++, t = t.getCause()) {
      String m = t.getMessage();
      if (m != null) {
        for (String sign : SIGNS) {
          if (m.contains(sign)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** The one line printed for it; Spark's first message line in brackets for the logs' sake. */
  static String message(Throwable ex) {
    String m = ex.getMessage() == null ? ex.toString() : ex.getMessage();
    int nl = m.indexOf('\n');
    String first = (nl < 0 ? m : m.substring(0, nl)).strip();
    if (first.length() > 200) {
      first = first.substring(0, 200) + "...";
    }
    return "Cannot finish: the cluster removed the application ("
        + first
        + "); see the cluster's and the "
        + "workers' logs";
  }
}
