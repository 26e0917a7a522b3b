package io.rebundle.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.FaultyFileIO.Fault;
import io.rebundle.codec.migrate.FaultSweep;
import java.io.IOException;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fault sweep ({@link FaultSweep}) on a real HDFS: a {@link MiniDFSCluster} in this JVM under
 * {@link HadoopFileIO}, so HDFS's own rename, replace (rename with overwrite) and delete semantics
 * are what the commit protocol meets. The process is "killed" at every mutation of a conversion,
 * for a new destination and for overwrites in place and moved aside; every operation fails in turn
 * for the overwrite in place, whose commit point is HDFS's rename with overwrite.
 */
class HdfsFaultSweepIT {
  private static MiniDFSCluster cluster;
  private static HadoopFileIO io;
  private static String root;

  @BeforeAll
  static void startCluster() throws IOException {
    cluster = MiniHdfs.start("minidfs-faults");
    root = cluster.getFileSystem().getUri().toString() + "/sweep";
    io = new HadoopFileIO(cluster.getConfiguration(0));
    io.mkdirs(root);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @Test
  void everyOperationFailingOnHdfs() {
    assertTrue(io.renameIsAtomic(root), "HDFS renames atomically");
    int runs = 0;
    for (FaultSweep.Scenario s :
        new FaultSweep.Scenario[] {
          new FaultSweep.Scenario("new", 0, false, 2),
          new FaultSweep.Scenario("overwrite-3-to-2", 3, true, 2),
          new FaultSweep.Scenario("overwrite-2-to-2", 2, true, 2)
        }) {
      // Every kill point in every case; every failing operation where HDFS's own replace runs
      // (in place). The local sweep covers the rest; this keeps the suite within a minute or two.
      Fault[] faults =
          s.name().equals("overwrite-3-to-2")
              ? new Fault[] {Fault.ERROR, Fault.CRASH}
              : new Fault[] {Fault.CRASH};
      for (Fault fault : faults) {
        FaultSweep.Report r = FaultSweep.sweep(io, root, s, fault);
        assertEquals(r.runs(), r.failed() + r.succeeded() + r.recovered(), r.toString());
        runs += r.runs();
        System.out.println("hdfs fault sweep " + fault + " " + s.name() + ": " + r);
      }
    }
    assertTrue(runs > 150, "runs: " + runs);
  }
}
