package io.rebundle.jobs.io;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.FileIOContract;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract on Hadoop's local file system (file:// URIs through HadoopFileIO). */
class HadoopLocalFileIOContractTest extends FileIOContract {
  @TempDir Path temp;

  @Override
  protected FileIO storage() {
    return new HadoopFileIO(new Configuration());
  }

  @Override
  protected String freshDirectory() {
    return temp.resolve("store").toUri().toString();
  }

  @Override
  protected boolean expectsAtomicRename() {
    return true;
  }
}
