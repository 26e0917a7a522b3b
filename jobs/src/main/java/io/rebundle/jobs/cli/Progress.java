package io.rebundle.jobs.cli;

import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;

/**
 * A progress line on stderr for long local work: bytes done, rate. Prints at most every 500 ms and
 * only when stderr is a terminal, so logs and pipes stay clean.
 */
final class Progress {
  private final PrintWriter err;
  private final String what;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private long lastPrint;
  private boolean printed;

  Progress(PrintWriter err, String what) {
    this.err = err;
    this.what = what;
    this.enabled = System.console() != null;
  }

  void bytes(long done) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastPrint < 500_000_000L) {
      return;
    }
    lastPrint = now;
    double secs = (now - start) / 1e9;
    err.printf("\r%s: %s checked, %s/s   ", what, Sizes.human(done), Sizes.human((long) (done / Math.max(secs, 1e-3))));
    err.flush();
    printed = true;
  }

  void done() {
    if (printed) {
      err.println();
      err.flush();
    }
  }

}
