package io.rebundle.jobs.io;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.FileIOContract;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The storage contract on HDFS: a MiniDFSCluster with one datanode in this JVM. */
class HdfsFileIOContractTest extends FileIOContract {
  private static MiniDFSCluster cluster;
  private static String root;
  private static final AtomicInteger DIRS = new AtomicInteger();

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = MiniHdfs.start("minidfs-contract");
    root = cluster.getFileSystem().getUri().toString();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @Override
  protected FileIO storage() {
    return new HadoopFileIO(cluster.getConfiguration(0));
  }

  @Override
  protected String freshDirectory() {
    return root + "/contract/" + DIRS.incrementAndGet();
  }

  @Override
  protected boolean expectsAtomicRename() {
    return true;
  }
}
