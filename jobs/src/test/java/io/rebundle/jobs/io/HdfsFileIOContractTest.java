package io.rebundle.jobs.io;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.FileIOContract;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
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
    Path baseDir = Path.of("target", "minidfs-contract").toAbsolutePath();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toString());
    conf.setInt("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 10);
    cluster = new MiniDFSCluster.Builder(conf, baseDir.toFile()).numDataNodes(1).build();
    cluster.waitActive();
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
