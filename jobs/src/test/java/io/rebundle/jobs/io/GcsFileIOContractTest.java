package io.rebundle.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.FileIOContract;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The storage contract on gs://: Hadoop's GCS connector against the GCS JSON API fake on loopback.
 */
class GcsFileIOContractTest extends FileIOContract {
  private static GcsServer server;
  private static final AtomicInteger DIRS = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    server = new GcsServer();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void everyRequestWasImplemented() {
    assertEquals(List.of(), server.unsupported(), "requests the loopback GCS server lacks");
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
