package io.rebundle.jobs.batch;

import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The batch's progress: rows done of the total (by status), data bytes of the rows prepared so far
 * and of those moved, and an ETA from the rate of rows done. Renders one line on stderr at most
 * once per {@code intervalMillis} when enabled (a terminal, or {@code rebundle.progress=true}), and
 * a final line. Thread-safe: rows finish on several threads.
 */
public final class BatchProgress {
  private final PrintWriter err;
  private final boolean enabled;
  private final long intervalMillis;
  private final long total;
  private final long startNanos = System.nanoTime();
  private final AtomicLong converted = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong notRun = new AtomicLong();
  private final AtomicLong plannedBytes = new AtomicLong();
  private final AtomicLong committedBytes = new AtomicLong();
  private volatile LongSupplier movedBytes = () -> 0;
  private long lastPrintNanos;

  public BatchProgress(PrintWriter err, boolean enabled, long intervalMillis, long totalRows) {
    this.err = err;
    this.enabled = enabled;
    this.intervalMillis = intervalMillis;
    this.total = totalRows;
  }

  /** Bytes the tasks have moved so far, as the engine counts them. */
  public void watch(LongSupplier moved) {
    this.movedBytes = moved;
  }

  void prepared(long bytes) {
    plannedBytes.addAndGet(bytes);
  }

  void done(RowResult r) {
    switch (r.status()) {
      case CONVERTED -> converted.incrementAndGet();
      case SKIPPED -> skipped.incrementAndGet();
      case FAILED -> failed.incrementAndGet();
      case NOT_RUN -> notRun.incrementAndGet();
    }
    committedBytes.addAndGet(r.bytes());
    maybePrint(false);
  }

  public long done() {
    return converted.get() + skipped.get() + failed.get() + notRun.get();
  }

  /** The progress line: rows, bytes, rate, ETA. */
  public String line() {
    long done = done();
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    long moved = Math.max(committedBytes.get(), movedBytes.getAsLong());
    StringBuilder sb =
        new StringBuilder(
            String.format(
                "batch: %d/%d rows (%d converted, %d skipped, %d failed",
                done, total, converted.get(), skipped.get(), failed.get()));
    if (notRun.get() > 0) {
      sb.append(", ").append(notRun.get()).append(" not run");
    }
    sb.append("), ")
        .append(Sizes.human(moved))
        .append(" of ")
        .append(Sizes.human(plannedBytes.get()))
        .append(" planned");
    if (done > 0 && done < total) {
      double eta = seconds / done * (total - done);
      sb.append(String.format(", ETA %s", duration(eta)));
    }
    sb.append(String.format(", %s elapsed", duration(seconds)));
    return sb.toString();
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m" + String.format("%02d", s % 60) + "s";
    }
    return (s / 3600) + "h" + String.format("%02d", s / 60 % 60) + "m";
  }

  private synchronized void maybePrint(boolean force) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (force || now - lastPrintNanos >= intervalMillis * 1_000_000) {
      lastPrintNanos = now;
      err.println("rebundle: " + line());
      err.flush();
    }
  }

  /** Prints the final line (when enabled). */
  public void finish() {
    maybePrint(true);
  }
}
