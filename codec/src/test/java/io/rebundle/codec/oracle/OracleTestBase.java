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

  private static int verifiedBefore;

  @BeforeAll
  static void loadTensorFlow() {
    tf = OracleSupport.openOrSkip();
    verifiedBefore = OracleSupport.swept();
  }

  /** Prints the no-false-alarm sweep's count (see {@link OracleSupport#sweep}). */
  @AfterAll
  static void closeTensorFlow(org.junit.jupiter.api.TestInfo info) {
    int total = OracleSupport.swept();
    System.out.printf(
        "oracle sweep: %s: %d TensorFlow-written checkpoints verified clean (%d in this run)%n",
        info.getTestClass().map(Class::getSimpleName).orElse("?"), total - verifiedBefore, total);
    if (tf != null) {
      tf.close();
      tf = null;
    }
  }
}
