package io.rebundle.codec.oracle;

import io.rebundle.codec.io.LocalFileIO;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the TensorFlow oracle tests: loads TensorFlow once per class (skipping the class where
 * its native library cannot load) and gives each test a temporary directory.
 */
abstract class OracleTestBase {
  static TfOracle tf;
  final LocalFileIO io = new LocalFileIO();

  @TempDir Path dir;

  @BeforeAll
  static void loadTensorFlow() {
    tf = OracleSupport.openOrSkip();
  }

  @AfterAll
  static void closeTensorFlow() {
    if (tf != null) {
      tf.close();
      tf = null;
    }
  }
}
