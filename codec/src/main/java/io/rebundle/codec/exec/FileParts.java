package io.rebundle.codec.exec;

import io.rebundle.codec.io.PositionOutputStream;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One output file written by two threads at once, each filling its own part, where the storage lets
 * several descriptors write one file ({@link PositionOutputStream#canOpenParts}: local disks).
 * Every byte's place is known before it is written (tensor sizes are in the plan, reused files have
 * their length), so the second part's writer starts at its offset while the first writes the bytes
 * before it.
 *
 * <p>Why: one kernel copy (sendfile) or one read-and-write loop keeps one core busy, and one file
 * was the slowest layout (README "Performance", docs/performance.md): a 1-shard output took longer
 * than the same bytes in 4 shards. The extra writers of the whole process are bounded by the cores
 * ({@link #EXTRA_WRITERS}): with every core already writing a file of its own, files are written by
 * one thread, as before.
 */
final class FileParts {
  /** Files smaller than this are written by one thread: a second would not pay for itself. */
  static final long MIN_BYTES = 128L << 20;

  /** {@link #MIN_BYTES}, lowered by tests of this package to exercise two parts on small files. */
  static volatile long minBytes = MIN_BYTES;

  /**
   * Writers beyond one per file, in the whole process: one per core but the first (at least one, so
   * that one core still overlaps a part's reads and writes).
   */
  private static final Semaphore EXTRA_WRITERS =
      new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors() - 1));

  private FileParts() {}

  /**
   * Whether a file of {@code bytes} written through {@code out} gets a second writer; if true, the
   * caller must {@link #release} once the second part is done.
   */
  static boolean acquireSecondWriter(PositionOutputStream out, long bytes) {
    return bytes >= minBytes && out.canOpenParts() && EXTRA_WRITERS.tryAcquire();
  }

  static void release() {
    EXTRA_WRITERS.release();
  }

  /**
   * The index where the second part of {@code sizes} (in file order) starts: the first item at or
   * past half of the bytes, at least 1 and at most {@code sizes.length - 1} (callers give at least
   * two items).
   */
  static int split(long[] sizes) {
    long total = 0;
    for (long s : sizes) {
      total += s;
    }
    long half = total / 2;
    long at = 0;
    for (int i = 0; i < sizes.length; i++) {
      // Cut before item i when that lands nearer the half than cutting after it.
      if (at + sizes[i] > half) {
        int cut = (half - at <= at + sizes[i] - half) ? i : i + 1;
        return Math.max(1, Math.min(sizes.length - 1, cut));
      }
      at += sizes[i];
    }
    return Math.max(1, sizes.length - 1);
  }

  /** Work of one part; may throw. */
  @FunctionalInterface
  interface Part<T> {
    T run() throws Exception;
  }

  /** The results of both parts. */
  record Both<A, B>(A first, B second) {}

  /**
   * Runs {@code second} on a new thread and {@code first} on this one, and waits for both, even
   * when one fails (neither returns while the other may still be writing). The first failure is
   * thrown; {@code stop} is set as soon as either fails, for the parts to check between tensors
   * ({@link #checkStop}).
   */
  static <A, B> Both<A, B> run(
      String name, Part<A> first, Part<B> second, AtomicReference<Throwable> stop) {
    Object[] secondResult = new Object[1];
    Thread helper =
        new Thread(
            () -> {
              try {
                secondResult[0] = second.run();
              } catch (Throwable t) {
                stop.compareAndSet(null, t);
              }
            },
            "rebundle-part " + name);
    helper.setDaemon(true);
    helper.start();
    A firstResult = null;
    try {
      firstResult = first.run();
    } catch (Throwable t) {
      stop.compareAndSet(null, t);
    } finally {
      boolean interrupted = false;
      while (true) {
        try {
          helper.join();
          break;
        } catch (InterruptedException e) {
          // Never return while the helper may still write into the file.
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    Throwable failure = stop.get();
    if (failure != null) {
      if (failure instanceof RuntimeException re) {
        throw re;
      }
      if (failure instanceof Error err) {
        throw err;
      }
      throw new java.io.UncheckedIOException(
          failure instanceof java.io.IOException io
              ? io
              : new java.io.IOException(failure.getMessage(), failure));
    }
    @SuppressWarnings("unchecked")
    B b = (B) secondResult[0];
    return new Both<>(firstResult, b);
  }

  /** Thrown by a part that stopped because the other failed; never reaches the caller. */
  static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("stopped: the other part of the file failed", null, false, false);
    }
  }

  /** Throws {@link Stopped} once {@code stop} is set. */
  static void checkStop(AtomicReference<Throwable> stop) {
    if (stop != null && stop.get() != null) {
      throw new Stopped();
    }
  }
}
