package io.rebundle.jobs.cli;

import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Renders the progress of long work on stderr: bytes done of the total, the rate, an ETA.
 *
 * <p>On a terminal it is one line, redrawn in place at most every {@value #TERMINAL_REFRESH_MS} ms;
 * otherwise (Airflow, {@code > log}, CI) a full line every {@link #interval} (10 s by default), so
 * logs show life without filling up; {@code -q} turns it off. The rate comes from a moving window
 * of the last {@value #WINDOW_SECONDS} s, so a slow start (planning, the first tensor of 1.5 GiB)
 * does not poison the ETA for the rest of the run; no ETA is shown until the window holds {@value
 * #MIN_ETA_SECONDS} s of data and 0.5% of the total (or 64 MiB) moved within it, and an ETA beyond
 * {@value #MAX_ETA_DAYS} days is shown as unknown rather than as an absurd number.
 *
 * <p>Callers report cumulative bytes ({@link #update}) from any thread; rendering is synchronized.
 * The clock is injected so tests run in virtual time.
 */
public final class Progress {
  /** Where and how often to render. */
  public enum Mode {
    /** One line redrawn with carriage returns. */
    TERMINAL,
    /** A full line every interval. */
    LOG,
    /** Nothing. */
    OFF
  }

  static final long TERMINAL_REFRESH_MS = 250;
  static final int WINDOW_SECONDS = 30;
  static final int MIN_ETA_SECONDS = 3;
  static final int MAX_ETA_DAYS = 30;

  /** An ETA needs 1/200 of the total, or 64 MiB, to have moved within the window. */
  static final long ETA_MIN_FRACTION = 200;

  static final long ETA_MIN_BYTES = 64L << 20;

  /**
   * Default seconds between log lines; the system property {@value #INTERVAL_PROPERTY} changes it.
   */
  public static final int DEFAULT_INTERVAL_SECONDS = 10;

  public static final String INTERVAL_PROPERTY = "rebundle.progress.interval";

  /** Samples kept for the moving window: one per refresh at most, so the window stays bounded. */
  private static final int MAX_SAMPLES = 512;

  private final PrintWriter err;
  private final String what;
  private final Mode mode;
  private final long intervalNanos;
  private final LongSupplier clock;
  private final long start;
  private final ArrayDeque<long[]> window = new ArrayDeque<>();
  private long total;
  private long done;
  private String detail = "";
  private long lastRender = Long.MIN_VALUE;
  private int lastWidth;
  private boolean rendered;
  private boolean finished;

  Progress(
      PrintWriter err,
      String what,
      long totalBytes,
      Mode mode,
      long intervalNanos,
      LongSupplier clock) {
    this.err = err;
    this.what = what;
    this.total = Math.max(0, totalBytes);
    this.mode = mode;
    this.intervalNanos = mode == Mode.TERMINAL ? TERMINAL_REFRESH_MS * 1_000_000L : intervalNanos;
    this.clock = clock;
    this.start = clock.getAsLong();
    window.add(new long[] {start, 0});
  }

  /**
   * Progress for {@code what} on {@code err}: a terminal line when the JVM has a console, log lines
   * otherwise, nothing when {@code quiet}. {@code totalBytes} may be 0 when unknown (no percentage
   * and no ETA then).
   */
  public static Progress create(PrintWriter err, String what, long totalBytes, boolean quiet) {
    Mode mode = quiet ? Mode.OFF : System.console() != null ? Mode.TERMINAL : Mode.LOG;
    return new Progress(
        err, what, totalBytes, mode, intervalSeconds() * 1_000_000_000L, System::nanoTime);
  }

  /** Seconds between log lines: {@value #INTERVAL_PROPERTY}, else 10; never below 1. */
  static long intervalSeconds() {
    String v =
        System.getProperty(
            INTERVAL_PROPERTY, System.getenv().getOrDefault("REBUNDLE_PROGRESS_INTERVAL", ""));
    try {
      return v.isBlank() ? DEFAULT_INTERVAL_SECONDS : Math.max(1, Long.parseLong(v.strip()));
    } catch (NumberFormatException e) {
      return DEFAULT_INTERVAL_SECONDS;
    }
  }

  public Mode mode() {
    return mode;
  }

  /** Changes the total (e.g. once planning knows it). */
  public synchronized void total(long totalBytes) {
    this.total = Math.max(0, totalBytes);
  }

  /** Records that {@code doneBytes} bytes are done in all, and renders if it is time. */
  public void update(long doneBytes) {
    update(doneBytes, null);
  }

  /**
   * As {@link #update(long)}, with extra text for the line (tensors, tasks), or null to keep the
   * last.
   */
  public synchronized void update(long doneBytes, String detailText) {
    if (mode == Mode.OFF || finished) {
      return;
    }
    done = Math.max(done, doneBytes); // cumulative: a late, smaller report never moves it back
    if (detailText != null) {
      detail = detailText;
    }
    long now = clock.getAsLong();
    sample(now);
    if (lastRender != Long.MIN_VALUE && now - lastRender < intervalNanos) {
      return;
    }
    if (lastRender == Long.MIN_VALUE && mode == Mode.LOG && now - start < intervalNanos) {
      return; // a log gets its first line after one interval: short runs stay silent
    }
    render(now, false);
  }

  /** Ends the progress display: a final line in log mode, a line break on a terminal. */
  public synchronized void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (mode == Mode.TERMINAL && rendered) {
      render(clock.getAsLong(), true);
      err.println();
      err.flush();
    } else if (mode == Mode.LOG && rendered) {
      render(clock.getAsLong(), true);
    }
  }

  private void sample(long now) {
    // At most one sample per refresh period: the window stays bounded however often callers report.
    if (now - window.peekLast()[0] >= TERMINAL_REFRESH_MS * 1_000_000L) {
      window.addLast(new long[] {now, done});
    }
    long horizon = now - WINDOW_SECONDS * 1_000_000_000L;
    while (window.size() > 2 && (window.peekFirst()[0] < horizon || window.size() > MAX_SAMPLES)) {
      window.removeFirst();
    }
  }

  /** Bytes per second over the window; 0 while nothing moved. */
  double rate(long now) {
    long[] first = window.peekFirst();
    long span = now - first[0];
    if (span <= 0) {
      return 0;
    }
    return (done - first[1]) / (span / 1e9);
  }

  /** The line as it would be rendered now (tests read it). */
  synchronized String line() {
    return text(clock.getAsLong(), false);
  }

  private String text(long now, boolean last) {
    StringBuilder sb = new StringBuilder(what).append(": ");
    double elapsed = (now - start) / 1e9;
    if (last) {
      sb.append(Sizes.human(done)).append(" in ").append(duration(elapsed));
      if (elapsed > 0) {
        sb.append(" (").append(Sizes.human((long) (done / elapsed))).append("/s)");
      }
      return sb.append(detail.isEmpty() ? "" : ", " + detail).toString();
    }
    long shown = total > 0 ? Math.min(done, total) : done;
    sb.append(Sizes.human(shown));
    if (total > 0) {
      sb.append(" of ")
          .append(Sizes.human(total))
          .append(" (")
          .append(shown * 100 / total)
          .append("%)");
    }
    double rate = rate(now);
    sb.append(", ").append(Sizes.human((long) rate)).append("/s");
    if (total > 0) {
      sb.append(", ETA ").append(eta(now, rate, total - shown));
    }
    if (!detail.isEmpty()) {
      sb.append(", ").append(detail);
    }
    return sb.toString();
  }

  private String eta(long now, double rate, long remaining) {
    if (remaining <= 0) {
      return "0s";
    }
    long[] first = window.peekFirst();
    long moved = done - first[1];
    // Not enough data yet, stalled, or too little moved to extrapolate from (a few small tensors
    // before a large file copy that reports at its end): no guess beats a wild one.
    if ((now - first[0]) / 1e9 < MIN_ETA_SECONDS
        || rate <= 0
        || moved < Math.min(total / ETA_MIN_FRACTION, ETA_MIN_BYTES)) {
      return "-";
    }
    double seconds = remaining / rate;
    if (seconds > MAX_ETA_DAYS * 86400.0) {
      return "unknown";
    }
    return duration(seconds);
  }

  /** {@code 42s}, {@code 3m05s}, {@code 2h07m}. */
  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }

  private void render(long now, boolean last) {
    lastRender = now;
    rendered = true;
    String line = text(now, last);
    if (mode == Mode.TERMINAL) {
      // Pad over the previous, longer line; no newline until finish().
      int pad = Math.max(0, lastWidth - line.length());
      err.print("\r" + line + " ".repeat(pad));
      lastWidth = line.length();
    } else {
      err.println(line);
    }
    err.flush();
  }
}
