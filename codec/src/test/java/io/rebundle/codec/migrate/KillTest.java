package io.rebundle.codec.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.commit.Failpoints;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.LocalFileIO;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real conversion process with SIGKILL at every point of the commit protocol ({@link
 * Failpoints#POINTS}), and with SIGTERM while it copies, then checks what the protocol promises
 * (docs/commit-protocol.md, "What is proven"): right after the kill the destination holds its
 * previous checkpoint or the new one, never a mix (the one exception, documented: an overwrite
 * whose new data files have the old ones' names has no index between moving the old index aside and
 * renaming the new one in); the next run cleans up, with or without {@code --overwrite}; the source
 * and the state file's other entries are never touched.
 */
class KillTest {
  private final LocalFileIO io = new LocalFileIO();

  @TempDir Path dir;

  /** Points between which a same-named overwrite has moved the old index aside. */
  private static final List<String> ASIDE_WINDOW =
      List.of("old-index-moved", "old-moved", "first-data-renamed", "data-renamed");

  @Test
  void sigkillAtEveryCommitPoint() throws Exception {
    int kills = 0;
    for (FaultSweep.Scenario s : FaultSweepTest.SCENARIOS) {
      FaultSweep.Case ref = FaultSweep.Case.setUp(io, dir.resolve(s.name() + "-ref").toString(), s);
      LocalMigration.run(io, ref.request(s), ProgressSink.NONE, 1);
      Map<String, String> expected = FaultSweep.snapshot(io, ref.dst());
      Map<String, String> newContent = content(ref.prefix());
      for (String point : Failpoints.POINTS) {
        boolean sameNamedOverwrite = s.previousShards() == s.newShards() && s.overwrite();
        if (point.equals("old-index-moved") && !sameNamedOverwrite) {
          continue; // only a commit that moves files aside reaches it
        }
        String where = s.name() + ", SIGKILL at " + point;
        FaultSweep.Case c =
            FaultSweep.Case.setUp(io, dir.resolve(s.name() + "-" + point).toString(), s);
        Map<String, String> oldContent = content(c.prefix());
        Map<String, String> source = FaultSweep.snapshot(io, c.src());
        Process p = start(c, s, point);
        awaitFailpoint(p, point, where);
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), where);
        kills++;
        Map<String, String> now = content(c.prefix());
        if (now == null && oldContent != null) {
          assertTrue(
              sameNamedOverwrite && ASIDE_WINDOW.contains(point),
              where + ": the destination lost its checkpoint");
        } else {
          assertTrue(
              now == null && oldContent == null || newContent.equals(now) || oldContent.equals(now),
              where + ": the destination holds neither the previous checkpoint nor the new one");
        }
        assertEquals(source, FaultSweep.snapshot(io, c.src()), where + ": the source changed");
        // The next run without --overwrite: completes the job, or finds it already complete.
        try {
          LocalMigration.run(
              io,
              c.request(new FaultSweep.Scenario(s.name(), 0, false, s.newShards())),
              ProgressSink.NONE,
              1);
        } catch (DestinationExistsException e) {
          assertTrue(
              oldContent != null || newContent.equals(content(c.prefix())),
              where
                  + ": a rerun refused, but the destination holds no checkpoint of ours: "
                  + e.getMessage());
        }
        assertEquals(
            List.of(),
            FaultSweep.staging(io, c.dst()),
            where + ": staging left after the next run");
        if (oldContent == null) {
          assertEquals(expected, FaultSweep.snapshot(io, c.dst()), where + ": after the rerun");
        }
        // And with --overwrite: always the reference output.
        LocalMigration.run(
            io,
            c.request(new FaultSweep.Scenario(s.name(), 0, true, s.newShards())),
            ProgressSink.NONE,
            1);
        assertEquals(
            expected, FaultSweep.snapshot(io, c.dst()), where + ": after an overwriting rerun");
        assertEquals(
            List.of(),
            FaultSweep.staging(io, c.dst()),
            where + ": staging after the overwriting rerun");
      }
    }
    assertEquals(FaultSweepTest.SCENARIOS.length * Failpoints.POINTS.size() - 2, kills);
    System.out.println("kill test: " + kills + " SIGKILLs, every invariant held");
  }

  @Test
  void sigtermWhileCopyingRemovesTheStagingAtOnce() throws Exception {
    for (FaultSweep.Scenario s : FaultSweepTest.SCENARIOS) {
      for (String point : List.of("staged", "writing-shard")) {
        String where = s.name() + ", SIGTERM at " + point;
        FaultSweep.Case c =
            FaultSweep.Case.setUp(io, dir.resolve(s.name() + "-term-" + point).toString(), s);
        Map<String, String> before = FaultSweep.snapshot(io, c.dst());
        Process p = start(c, s, point);
        awaitFailpoint(p, point, where);
        assertEquals(1, FaultSweep.staging(io, c.dst()).size(), where);
        p.destroy(); // SIGTERM: the shutdown hook removes the staging area
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), where);
        assertEquals(List.of(), FaultSweep.staging(io, c.dst()), where + ": staging left behind");
        assertEquals(before, FaultSweep.snapshot(io, c.dst()), where + ": the destination changed");
      }
    }
  }

  private Process start(FaultSweep.Case c, FaultSweep.Scenario s, String point) throws Exception {
    Path marker = dir.resolve("reached-" + System.nanoTime());
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xshare:auto");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Drebundle.failpoint=" + point);
    cmd.add("-Drebundle.failpoint.file=" + marker);
    cmd.add(KillTestMain.class.getName());
    cmd.add(c.src() + "/ckpt");
    cmd.add(c.prefix());
    cmd.add(Boolean.toString(s.overwrite()));
    cmd.add(Integer.toString(s.newShards()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectErrorStream(true);
    pb.redirectOutput(dir.resolve("child-" + point + ".log").toFile());
    Process p = pb.start();
    markerOf.put(p.pid(), marker);
    return p;
  }

  private final Map<Long, Path> markerOf = new java.util.HashMap<>();

  private void awaitFailpoint(Process p, String point, String where) throws Exception {
    Path marker = markerOf.get(p.pid());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(marker) || Files.size(marker) == 0) {
      if (!p.isAlive()) {
        fail(
            where
                + ": the process ended (exit "
                + p.exitValue()
                + ") before reaching "
                + point
                + ": "
                + Files.readString(dir.resolve("child-" + point + ".log")));
      }
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        fail(where + ": " + point + " not reached in 60 s");
      }
      Thread.sleep(10);
    }
    assertEquals(point, Files.readString(marker));
  }

  /**
   * Every tensor of the checkpoint at {@code prefix}, read as TensorFlow reads it (through the
   * index, each CRC checked); null if it has no index. Stray data files of another shard count,
   * which a reader never opens, do not count ({@code verify} reports them; recovery removes them).
   */
  private Map<String, String> content(String prefix) {
    if (!new File(Naming.indexFile(prefix)).exists()) {
      return null;
    }
    Map<String, String> out = new TreeMap<>();
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      r.records().forEach(rec -> out.put(rec.name(), Arrays.toString(r.read(rec.name()).data())));
    }
    return out;
  }
}
