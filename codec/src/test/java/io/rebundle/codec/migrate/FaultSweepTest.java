package io.rebundle.codec.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.FaultyFileIO.Fault;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.ObjectStoreFileIO;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Storage failing at every operation of a conversion, on a local disk ({@link FaultSweep}): a new
 * destination in a model directory, an overwrite with another shard count, and an overwrite with
 * the same one (where new and old data files share names).
 */
class FaultSweepTest {
  @TempDir Path dir;

  static final FaultSweep.Scenario[] SCENARIOS = {
    new FaultSweep.Scenario("new", 0, false, 2),
    new FaultSweep.Scenario("overwrite-3-to-2", 3, true, 2),
    new FaultSweep.Scenario("overwrite-2-to-2", 2, true, 2),
  };

  @ParameterizedTest
  @EnumSource(Fault.class)
  void everyOperationCanFail(Fault fault) {
    int runs = 0;
    for (FaultSweep.Scenario s : SCENARIOS) {
      FaultSweep.Report r = FaultSweep.sweep(new LocalFileIO(), dir.toString(), s, fault);
      assertEquals(r.runs(), r.failed() + r.succeeded() + r.recovered(), r.toString());
      if (fault == Fault.CRASH) {
        assertTrue(r.recovered() > 10, s + ": " + r);
      } else {
        assertTrue(r.failed() > 10, s + ": " + r);
      }
      runs += r.runs();
      System.out.println("fault sweep " + fault + " " + s.name() + ": " + r);
    }
    assertTrue(runs > 100, "runs: " + runs);
  }

  /**
   * Storage that renames by copying, as object stores do ({@code renameIsAtomic} false): new data
   * files go straight to their final names where none of them exists, and the commit point is the
   * one upload of the index.
   */
  @ParameterizedTest
  @EnumSource(
      value = Fault.class,
      names = {"ERROR", "CRASH"})
  void everyOperationCanFailOnAnObjectStore(Fault fault) {
    for (FaultSweep.Scenario s : SCENARIOS) {
      FaultSweep.Report r = FaultSweep.sweep(objectStore(), dir.toString(), s, fault);
      assertEquals(r.runs(), r.failed() + r.succeeded() + r.recovered(), r.toString());
      System.out.println("fault sweep (object store) " + fault + " " + s.name() + ": " + r);
    }
  }

  static FileIO objectStore() {
    return new ObjectStoreFileIO();
  }
}
