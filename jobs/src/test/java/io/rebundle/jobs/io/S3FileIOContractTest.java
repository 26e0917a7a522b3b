package io.rebundle.jobs.io;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.FileIOContract;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The storage contract on s3a:// against a real S3 API server on loopback. */
class S3FileIOContractTest extends FileIOContract {
  private static S3Server server;
  private static final AtomicInteger DIRS = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    server = new S3Server();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Override
  protected FileIO storage() {
    return new HadoopFileIO(server.hadoopConf());
  }

  @Override
  protected String freshDirectory() {
    return server.url("contract/" + DIRS.incrementAndGet());
  }

  @Override
  protected boolean expectsAtomicRename() {
    return false;
  }
}
