package io.rebundle.jobs.io;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/** A real HDFS for tests: a {@link MiniDFSCluster} with one datanode in this JVM. */
public final class MiniHdfs {
  private MiniHdfs() {}

  /**
   * Starts a cluster whose files live under {@code target/NAME}. Seconds matter in a test: the
   * datanode heartbeats each second (the cluster is up once it has reported), and completing a file
   * is retried after 10 ms rather than 400 ms.
   */
  public static MiniDFSCluster start(String name) throws IOException {
    // The namenode's audit log (a line per operation) stays quiet even after a test in the same JVM
    // has run a command with --verbose, which turns the root logger up to INFO.
    org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit",
        org.apache.logging.log4j.Level.WARN);
    Path baseDir = Path.of("target", name).toAbsolutePath();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toString());
    conf.setInt("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 10);
    MiniDFSCluster cluster =
        new MiniDFSCluster.Builder(conf, baseDir.toFile()).numDataNodes(1).build();
    cluster.waitActive();
    return cluster;
  }
}
