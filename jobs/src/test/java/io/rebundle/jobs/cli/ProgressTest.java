package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress renderer in virtual time: what a log, a terminal and -q see. */
class ProgressTest {
  private static final long GIB = 1L << 30;
  private static final long SEC = 1_000_000_000L;

  /** A clock the test moves. */
  private static final class FakeClock {
    long now = 1_000 * SEC;

    long nanos() {
      return now;
    }

    void advance(double seconds) {
      now += (long) (seconds * SEC);
    }
  }

  private final FakeClock clock = new FakeClock();
  private final StringWriter out = new StringWriter();

  private Progress progress(Progress.Mode mode, long total) {
    return new Progress(new PrintWriter(out, true), "convert", total, mode, 10 * SEC, clock::nanos);
  }

  @Test
  void logModePrintsALineEveryIntervalWithRateAndEta() {
    Progress p = progress(Progress.Mode.LOG, 4 * GIB);
    // 100 MiB/s for 25 s, reported every 100 ms.
    for (int i = 1; i <= 250; i++) {
      clock.advance(0.1);
      p.update(i * 10L * (1 << 20));
    }
    List<String> lines = out.toString().lines().toList();
    assertEquals(
        List.of(
            "convert: 1000.0 MiB of 4.0 GiB (24%), 100.0 MiB/s, ETA 31s", // 3096 MiB left
            "convert: 2.0 GiB of 4.0 GiB (48%), 100.0 MiB/s, ETA 21s"),
        lines);
    p.finish();
    assertEquals(
        "convert: 2.4 GiB in 25s (100.0 MiB/s)", out.toString().lines().reduce((a, b) -> b).get());
  }

  @Test
  void noEtaUntilEnoughMovedAndNeverAnAbsurdOne() {
    // The defect: 12.6 KiB of small tensors, then a whole-file copy that reports only at its end.
    Progress p = progress(Progress.Mode.LOG, 4 * GIB);
    clock.advance(1);
    p.update(12_900);
    for (int i = 0; i < 40; i++) {
      clock.advance(1);
      p.update(12_900);
    }
    String last = out.toString().lines().reduce((a, b) -> b).get();
    assertEquals("convert: 12.6 KiB of 4.0 GiB (0%), 0 B/s, ETA -", last);
    assertTrue(out.toString().lines().allMatch(l -> l.endsWith("ETA -")), out.toString());
    // The copy lands: 100%, and the ETA is 0, not a guess from the stall.
    clock.advance(1);
    p.update(4 * GIB);
    assertTrue(p.line().startsWith("convert: 4.0 GiB of 4.0 GiB (100%), "), p.line());
    assertTrue(p.line().endsWith(", ETA 0s"), p.line());
  }

  @Test
  void rateComesFromARecentWindowNotTheWholeRun() {
    Progress p = progress(Progress.Mode.LOG, 100 * GIB);
    // A slow minute (planning, a first big tensor), then 1 GiB/s.
    for (int i = 0; i < 60; i++) {
      clock.advance(1);
      p.update(i * 1024L);
    }
    long done = 60 * 1024L;
    for (int i = 0; i < 60; i++) {
      clock.advance(1);
      done += GIB;
      p.update(done);
    }
    String line = p.line();
    assertTrue(line.contains(", 1.0 GiB/s, ETA 40s"), line);
  }

  @Test
  void largeTotalsGetAnEtaAndOneBeyondAMonthIsUnknown() {
    Progress p = progress(Progress.Mode.LOG, 1L << 50);
    for (int i = 1; i <= 40; i++) {
      clock.advance(1);
      p.update(i * 8 * GIB); // a PiB at 8 GiB/s: 36 h 24 min
    }
    assertTrue(p.line().endsWith(", 8.0 GiB/s, ETA 36h23m"), p.line());
    Progress slow = progress(Progress.Mode.LOG, 1L << 50);
    for (int i = 1; i <= 40; i++) {
      clock.advance(1);
      slow.update(i * 100L * (1 << 20)); // a PiB at 100 MiB/s: 124 days
    }
    assertTrue(slow.line().endsWith(", 100.0 MiB/s, ETA unknown"), slow.line());
  }

  @Test
  void aLogRunShorterThanOneIntervalPrintsNothing() {
    Progress p = progress(Progress.Mode.LOG, GIB);
    for (int i = 1; i <= 9; i++) {
      clock.advance(1);
      p.update(i * GIB / 10);
    }
    p.finish();
    assertEquals("", out.toString());
  }

  @Test
  void terminalModeRedrawsOneLineAndEndsItOnFinish() {
    Progress p = progress(Progress.Mode.TERMINAL, 1000);
    clock.advance(0.3);
    p.update(100);
    clock.advance(0.1);
    p.update(150); // within the refresh period: not drawn
    clock.advance(0.3);
    p.update(200, "3 of 10 tensors");
    p.finish();
    String s = out.toString();
    assertEquals(3, s.chars().filter(c -> c == '\r').count(), s);
    assertTrue(s.startsWith("\rconvert: 100 B of 1000 B (10%), "), s);
    assertTrue(s.contains("\rconvert: 200 B of 1000 B (20%), "), s);
    assertTrue(s.contains(", 3 of 10 tensors"), s);
    assertTrue(s.endsWith("\n") && s.indexOf('\n') == s.length() - 1, s);
  }

  @Test
  void quietPrintsNothing() {
    Progress p = progress(Progress.Mode.OFF, GIB);
    for (int i = 1; i <= 100; i++) {
      clock.advance(1);
      p.update(i * GIB / 100);
    }
    p.finish();
    assertEquals("", out.toString());
  }

  @Test
  void progressNeverGoesBackwardsNorPastTheTotal() {
    Progress p = progress(Progress.Mode.LOG, 1000);
    clock.advance(1);
    p.update(800);
    p.update(300);
    assertTrue(p.line().startsWith("convert: 800 B of 1000 B (80%)"), p.line());
    p.update(5000);
    assertTrue(p.line().startsWith("convert: 1000 B of 1000 B (100%)"), p.line());
  }

  @Test
  void durationsReadLikeAHuman() {
    assertEquals("42s", Progress.duration(42));
    assertEquals("3m05s", Progress.duration(185));
    assertEquals("2h07m", Progress.duration(2 * 3600 + 7 * 60 + 30));
  }
}
