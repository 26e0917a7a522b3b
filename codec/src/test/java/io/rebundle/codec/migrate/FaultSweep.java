package io.rebundle.codec.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.commit.Recovery;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FaultyFileIO;
import io.rebundle.codec.io.FaultyFileIO.Fault;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.ObjectStoreFileIO;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs one conversion again and again on storage that fails at operation 1, 2, ... n in turn
 * ({@link FaultyFileIO}), over any {@link FileIO} (a local disk, HDFS), and checks after each run
 * what "nothing is lost" means (docs/commit-protocol.md, "What is proven"):
 *
 * <ul>
 *   <li>the run succeeds, or fails with the injected fault as its cause (a crash: the process stops
 *       there, and the next run's recovery takes over);
 *   <li>the destination directory then holds exactly its previous files or exactly the new
 *       checkpoint, with the state file's other entries kept;
 *   <li>the source is byte-identical;
 *   <li>no staging directory is left (after the failed run's cleanup, or the recovery);
 *   <li>a rerun with {@code --overwrite} succeeds and produces the reference output.
 * </ul>
 */
public final class FaultSweep {
  private FaultSweep() {}

  /**
   * A case: the destination model directory holds a state file naming {@code model.ckpt-0} and,
   * when {@code previousShards} &gt; 0, a previous checkpoint at the destination prefix.
   */
  public record Scenario(String name, int previousShards, boolean overwrite, int newShards) {}

  /** What a sweep did: runs, and how they ended. */
  public record Report(int runs, int failed, int succeeded, int recovered) {}

  /** Sweeps every operation of {@code scenario} under {@code root} with {@code fault}. */
  public static Report sweep(FileIO io, String root, Scenario scenario, Fault fault) {
    boolean crash = fault == Fault.CRASH;
    // The reference: a run with no fault gives the expected output and the number of operations.
    String refRoot = io.join(root, scenario.name() + "-" + fault + "-ref");
    Case ref = Case.setUp(io, refRoot, scenario);
    FaultyFileIO counting = new FaultyFileIO(io, 0, fault, crash);
    LocalMigration.run(counting, ref.request(scenario), ProgressSink.NONE, 1);
    Map<String, String> expected = snapshot(io, ref.dst);
    int n = counting.operations();
    assertTrue(n > 10, "a conversion takes more than 10 operations: " + n);
    int failed = 0;
    int succeeded = 0;
    int recovered = 0;
    for (int k = 1; k <= n; k++) {
      String caseRoot = io.join(root, scenario.name() + "-" + fault + "-" + k);
      Case c = Case.setUp(io, caseRoot, scenario);
      Map<String, String> before = snapshot(io, c.dst);
      Map<String, String> source = snapshot(io, c.src);
      FaultyFileIO faulty = new FaultyFileIO(io, k, fault, crash);
      String where = scenario.name() + ", " + fault + " at operation " + k;
      try {
        LocalMigration.run(faulty, c.request(scenario), ProgressSink.NONE, 1);
        succeeded++;
      } catch (FaultyFileIO.SimulatedCrash dead) {
        // The process is gone here. The next run recovers; its owner is this test's pid, which
        // "still runs", so recovery is told the owner is dead.
        Recovery.recover(io, c.prefix(), line -> {}, owner -> false);
        recovered++;
      } catch (RuntimeException e) {
        failed++;
        assertTrue(
            causedByInjection(e),
            where
                + ": failed with something else than the injected fault ("
                + faulty.injected()
                + "): "
                + e);
      }
      if (faulty.injected() == null && !crash) {
        fail(where + ": no operation " + k + " happened (the sweep is not deterministic)");
      }
      Map<String, String> after = snapshot(io, c.dst);
      assertTrue(
          after.equals(before) || after.equals(expected),
          where
              + " ("
              + faulty.injected()
              + ") left the destination neither as it was nor complete:\n"
              + "  before "
              + before.keySet()
              + "\n  after  "
              + after.keySet()
              + "\n  new    "
              + expected.keySet());
      assertEquals(source, snapshot(io, c.src), where + ": the source changed");
      assertEquals(List.of(), staging(io, c.dst), where + ": staging left behind");
      if (io instanceof ObjectStoreFileIO store && !crash) {
        assertEquals(
            List.of(),
            store.pendingUploads(c.dst),
            where + ": uploads left pending (billed, invisible)");
      }
      // A rerun (over whatever the failed run left) produces the reference output.
      LocalMigration.run(
          io,
          c.request(new Scenario(scenario.name(), 0, true, scenario.newShards())),
          ProgressSink.NONE,
          1);
      assertEquals(expected, snapshot(io, c.dst), where + ": the rerun's output differs");
      assertEquals(List.of(), staging(io, c.dst), where + ": the rerun left staging behind");
      remove(io, caseRoot);
    }
    remove(io, refRoot);
    return new Report(n, failed, succeeded, recovered);
  }

  private static boolean causedByInjection(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (m.contains("Injected fault")
          || m.contains("No space left")
          || m.contains("injected short read")) {
        return true;
      }
      for (Throwable s : t.getSuppressed()) {
        if (causedByInjection(s)) {
          return true;
        }
      }
    }
    return false;
  }

  /** One case's directories: a source checkpoint, and the destination model directory. */
  record Case(String src, String dst) {
    static Case setUp(FileIO io, String root, Scenario s) {
      String src = io.join(root, "src");
      String dst = io.join(root, "dst");
      io.mkdirs(src);
      io.mkdirs(dst);
      try (CheckpointWriter w = CheckpointWriter.create(io, io.join(src, "ckpt"), 2, false)) {
        w.add(0, "dense/kernel", tensor(24, 1));
        w.add(0, "dense/bias", tensor(4, 2));
        w.add(1, "embedding", tensor(40, 3));
        w.add(1, "global_step", Tensor.of(DType.INT64, TensorShape.of(), new byte[8]));
        w.finish();
      }
      // The model directory's own history, which no run may lose.
      write(io, io.join(dst, "model.ckpt-0.index"), new byte[] {1, 2, 3});
      write(io, io.join(dst, "model.ckpt-0.data-00000-of-00001"), new byte[] {4, 5});
      List<String> paths = new ArrayList<>(List.of("model.ckpt-0"));
      List<Double> stamps = new ArrayList<>(List.of(1.0e9));
      if (s.previousShards() > 0) {
        try (CheckpointWriter w =
            CheckpointWriter.create(io, io.join(dst, "ckpt"), s.previousShards(), false)) {
          for (int i = 0; i < s.previousShards(); i++) {
            w.add(i, "old/" + i, tensor(8, 10 + i));
          }
          w.finish();
        }
        paths.add("ckpt");
        stamps.add(1.1e9);
      }
      new CheckpointState("model.ckpt-0", paths, stamps, 0).write(io, dst);
      return new Case(src, dst);
    }

    String prefix() {
      return io(dst) + "ckpt";
    }

    private static String io(String dir) {
      return dir.endsWith("/") ? dir : dir + "/";
    }

    MigrationRequest request(Scenario s) {
      return new MigrationRequest(
          io(src) + "ckpt",
          prefix(),
          MigrationSpec.to(CheckpointFormat.TF2),
          MappingRules.none(),
          s.newShards(),
          Scheduler.DEFAULT_SHARD_SIZE,
          s.overwrite(),
          true,
          null,
          null,
          null,
          null);
    }
  }

  private static Tensor tensor(int n, int seed) {
    byte[] b = new byte[n * 4];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (seed * 31 + i);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(n), b);
  }

  private static void write(FileIO io, String location, byte[] bytes) {
    try (var out = io.newOutputFile(location).create()) {
      out.write(bytes);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The files of {@code dir} (not its staging directories) by name, as their bytes in hex; the
   * state file as what it says (latest, paths, how many timestamps), since a new timestamp differs
   * from run to run.
   */
  static Map<String, String> snapshot(FileIO io, String dir) {
    Map<String, String> files = new TreeMap<>();
    for (String name : io.list(dir)) {
      String f = io.join(dir, name);
      if (name.startsWith(StagingArea.DIRECTORY_PREFIX) || io.isDirectory(f)) {
        continue;
      }
      if (name.equals(Naming.STATE_FILE)) {
        CheckpointState s = CheckpointState.read(io, f);
        files.put(
            name,
            s.modelCheckpointPath()
                + " "
                + s.allModelCheckpointPaths()
                + " "
                + s.allModelCheckpointTimestamps().size());
        continue;
      }
      try (RangeReader r = io.newInputFile(f).open()) {
        files.put(name, Arrays.toString(r.readFully(0, (int) r.length())));
      }
    }
    return files;
  }

  static List<String> staging(FileIO io, String dir) {
    return io.list(dir).stream()
        .filter(n -> n.startsWith(StagingArea.DIRECTORY_PREFIX) || n.startsWith("checkpoint.tmp"))
        .toList();
  }

  private static void remove(FileIO io, String dir) {
    if (io instanceof ObjectStoreFileIO store) {
      store.abortPendingUploads(dir); // a crash leaves them, as on S3 (a lifecycle rule ends them)
    }
    for (String name : io.list(dir)) {
      String f = io.join(dir, name);
      if (io.isDirectory(f)) {
        remove(io, f);
      } else {
        io.delete(f);
      }
    }
    io.delete(dir);
  }
}
