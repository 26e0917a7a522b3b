package io.rebundle.codec.exec;

import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The CRC32C checks of one output file's kernel copies, run in order on one background thread while
 * the writing thread goes on copying: the check of a tensor reads the source range while the kernel
 * copies it (from the page cache the copy fills, or fills for the copy), so a shard costs about the
 * longer of its copy and its check, not their sum, and no barrier stands between one tensor and the
 * next.
 *
 * <p>The copy may run ahead of the checks by at most {@link #MAX_LAG} bytes (plus the tensor being
 * submitted), so on a source bigger than the page cache the check still reads what the copy just
 * read. The first failed check is thrown by the next {@link #submit} or by {@link #finish}; the
 * writer must then discard its file. One instance per output file, used by one writing thread.
 */
final class FollowingChecks implements AutoCloseable {
  /** Bytes of submitted tensors not yet checked beyond which {@link #submit} waits. */
  static final long MAX_LAG = 256L << 20;

  /** Permits count MiB of lag (rounded up per tensor). */
  private static final int UNIT = 1 << 20;

  private static final int MAX_UNITS = (int) (MAX_LAG / UNIT);

  /** The checker's read buffer: small enough to stay in the core's cache between read and CRC. */
  static final int BUFFER = 1 << 20;

  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final Semaphore lag = new Semaphore(MAX_UNITS);
  private final String name;
  private Thread thread;
  private volatile Throwable failure;
  private volatile boolean stopping;
  private boolean finished;

  /** {@code name} names the thread (the output file), for thread dumps. */
  FollowingChecks(String name) {
    this.name = name;
  }

  private record Job(Consumer<ByteBuffer> check, int units) {}

  private static final Job END = new Job(null, 0);

  /**
   * Queues {@code check} of {@code bytes} source bytes (a {@link
   * io.rebundle.codec.bundle.CheckpointReader.DeferredCheck}'s run, given the checker's buffer), to
   * run after the ones before it. Throws the failure of an earlier check; waits while more than
   * {@link #MAX_LAG} bytes are queued.
   */
  void submit(long bytes, Consumer<ByteBuffer> check) {
    if (finished) {
      throw new IllegalStateException("Checks already finished");
    }
    throwIfFailed();
    int units = (int) Math.min(MAX_UNITS, Math.max(1, (bytes + UNIT - 1) / UNIT));
    try {
      while (!lag.tryAcquire(units, 50, TimeUnit.MILLISECONDS)) {
        throwIfFailed();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for checksum checks", e);
    }
    queue.add(new Job(check, units));
    if (thread == null) {
      thread = new Thread(this::loop, "rebundle-check " + name);
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** Waits for every submitted check; throws the first that failed. */
  void finish() {
    finished = true;
    stopAndJoin();
    throwIfFailed();
  }

  /**
   * Stops the checks (the running one completes; queued ones are skipped) and waits for the thread,
   * so that no check reads a source after its writer gave up. Idempotent; after {@link #finish} a
   * no-op.
   */
  @Override
  public void close() {
    if (!finished) {
      stopping = true;
      finished = true;
      stopAndJoin();
    }
  }

  private void stopAndJoin() {
    if (thread == null) {
      return;
    }
    queue.add(END);
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        // Never return while the checker may still be reading: it shares the writer's open files.
        interrupted = true;
      }
    }
    thread = null;
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void loop() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
    while (true) {
      Job job;
      try {
        job = queue.take();
      } catch (InterruptedException e) {
        // Nobody interrupts this thread (an interrupt would close the channels it reads); if it
        // happens, fail the checks rather than pass them.
        failure = new IllegalStateException("Checksum checks interrupted", e);
        return;
      }
      if (job == END) {
        return;
      }
      try {
        if (failure == null && !stopping) {
          job.check().accept(buffer);
        }
      } catch (RuntimeException | Error e) {
        failure = e;
      } finally {
        lag.release(job.units());
      }
    }
  }

  private void throwIfFailed() {
    Throwable f = failure;
    if (f instanceof RuntimeException re) {
      throw re;
    }
    if (f instanceof Error err) {
      throw err;
    }
  }
}
