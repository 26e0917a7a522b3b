package io.rebundle.codec.commit;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The staging areas this process is writing, and what happens to them beyond the code that writes
 * them (docs/commit-protocol.md, "Signals" and "Leases"): one shutdown hook removes every
 * unfinished area when the JVM exits on SIGINT or SIGTERM (waiting for a commit in progress to
 * finish or roll back), and one daemon thread renews their leases so that runs on other hosts do
 * not take a long run's area for a dead one's.
 */
final class ActiveStaging {
  private ActiveStaging() {}

  /** How long the shutdown hook waits for a commit in progress (renames: normally milliseconds). */
  private static final long COMMIT_WAIT_SECONDS = 30;

  private static final Set<Committer> ACTIVE = ConcurrentHashMap.newKeySet();
  private static volatile boolean started;

  static void register(Committer c) {
    start();
    ACTIVE.add(c);
  }

  static void unregister(Committer c) {
    ACTIVE.remove(c);
  }

  /** The areas registered now (for tests). */
  static int count() {
    return ACTIVE.size();
  }

  private static synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (Committer c : ACTIVE) {
                    c.abortOnSignal(COMMIT_WAIT_SECONDS);
                  }
                },
                "rebundle-staging-cleanup"));
    ScheduledExecutorService renew =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "rebundle-lease-renewal");
              t.setDaemon(true);
              return t;
            });
    renew.scheduleWithFixedDelay(
        () -> {
          for (Committer c : ACTIVE) {
            try {
              c.renewLease();
            } catch (RuntimeException ignored) {
              // Storage trouble: the run itself will meet it and fail.
            }
          }
        },
        StagingOwner.RENEW_EVERY_MILLIS,
        StagingOwner.RENEW_EVERY_MILLIS,
        TimeUnit.MILLISECONDS);
  }
}
