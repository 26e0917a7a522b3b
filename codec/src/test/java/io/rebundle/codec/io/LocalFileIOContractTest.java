package io.rebundle.codec.io;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class LocalFileIOContractTest extends FileIOContract {
  @TempDir Path temp;

  @Override
  protected FileIO storage() {
    return new LocalFileIO();
  }

  @Override
  protected String freshDirectory() {
    return temp.resolve("store").toString();
  }

  @Override
  protected boolean expectsAtomicRename() {
    return true;
  }
}
