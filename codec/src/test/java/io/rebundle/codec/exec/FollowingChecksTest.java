package io.rebundle.codec.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FollowingChecksTest {
  @Test
  void runsEveryCheckInOrderOnOneThreadWithItsBuffer() {
    List<String> ran = new CopyOnWriteArrayList<>();
    List<Thread> threads = new CopyOnWriteArrayList<>();
    List<Integer> capacities = new CopyOnWriteArrayList<>();
    try (FollowingChecks checks = new FollowingChecks("out")) {
      for (int i = 0; i < 50; i++) {
        String name = "t" + i;
        checks.submit(
            1000,
            b -> {
              ran.add(name);
              threads.add(Thread.currentThread());
              capacities.add(b.capacity());
            });
      }
      checks.finish();
    }
    assertEquals(50, ran.size());
    for (int i = 0; i < 50; i++) {
      assertEquals("t" + i, ran.get(i));
    }
    assertEquals(1, threads.stream().distinct().count());
    assertFalse(threads.contains(Thread.currentThread()), "checks must run beside the writer");
    assertTrue(threads.get(0).getName().startsWith("rebundle-check out"), threads.get(0).getName());
    assertTrue(capacities.stream().allMatch(c -> c == FollowingChecks.BUFFER));
  }

  @Test
  void noCheckSubmittedNoThreadAndFinishPasses() {
    FollowingChecks checks = new FollowingChecks("empty");
    checks.finish();
    checks.close();
  }

  @Test
  void theFirstFailureIsThrownByFinishAndLaterChecksAreSkipped() {
    IllegalStateException boom = new IllegalStateException("Checksum mismatch for tensor b");
    List<String> ran = new CopyOnWriteArrayList<>();
    FollowingChecks checks = new FollowingChecks("out");
    checks.submit(10, b -> ran.add("a"));
    checks.submit(
        10,
        b -> {
          ran.add("b");
          throw boom;
        });
    RuntimeException thrown =
        assertThrows(
            RuntimeException.class,
            () -> {
              // Either this submit (once the failure is seen) or finish throws the same failure.
              checks.submit(10, b -> ran.add("c"));
              checks.finish();
            });
    assertSame(boom, thrown);
    checks.close();
    assertEquals(List.of("a", "b"), ran.subList(0, 2));
    assertFalse(ran.contains("c"), "a check after a failure must not run: " + ran);
  }

  @Test
  void submitThrowsAnEarlierFailureInsteadOfQueueing() throws Exception {
    IllegalStateException boom = new IllegalStateException("bad");
    FollowingChecks checks = new FollowingChecks("out");
    CountDownLatch failed = new CountDownLatch(1);
    checks.submit(
        10,
        b -> {
          failed.countDown();
          throw boom;
        });
    assertTrue(failed.await(10, TimeUnit.SECONDS));
    // The failure is recorded just after the latch; give submit a moment to see it.
    RuntimeException thrown = null;
    for (int i = 0; i < 200 && thrown == null; i++) {
      try {
        checks.submit(10, b -> {});
        Thread.sleep(5);
      } catch (RuntimeException e) {
        thrown = e;
      }
    }
    assertSame(boom, thrown);
    checks.close();
  }

  @Test
  void theWriterWaitsWhileMoreThanTheLagIsUnchecked() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    FollowingChecks checks = new FollowingChecks("out");
    // One check of the whole allowance, held until released: the next submit must wait for it.
    checks.submit(
        FollowingChecks.MAX_LAG,
        b -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    CountDownLatch submitted = new CountDownLatch(1);
    Thread writer =
        new Thread(
            () -> {
              checks.submit(1, b -> {});
              submitted.countDown();
            });
    writer.start();
    assertFalse(submitted.await(300, TimeUnit.MILLISECONDS), "submit went past the lag bound");
    release.countDown();
    assertTrue(submitted.await(10, TimeUnit.SECONDS), "submit still waits after the check ended");
    writer.join();
    checks.finish();
  }

  @Test
  void closeSkipsQueuedChecksAndWaitsForTheRunningOne() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    List<String> ran = new CopyOnWriteArrayList<>();
    FollowingChecks checks = new FollowingChecks("out");
    checks.submit(
        10,
        b -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          ran.add("first");
        });
    checks.submit(10, b -> ran.add("second"));
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread closer = new Thread(checks::close);
    closer.start();
    closer.join(200);
    assertTrue(closer.isAlive(), "close must wait for the running check");
    release.countDown();
    closer.join(10_000);
    assertFalse(closer.isAlive());
    assertEquals(List.of("first"), ran);
    assertThrows(IllegalStateException.class, () -> checks.submit(1, (ByteBuffer b) -> {}));
  }
}
