package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NamingTest {

  @Test
  void namesIndexAndDataFiles() {
    assertEquals("/d/ckpt-3.index", Naming.indexFile("/d/ckpt-3"));
    assertEquals("/d/ckpt-3.data-00000-of-00001", Naming.dataFile("/d/ckpt-3", 0, 1));
    assertEquals("p.data-00002-of-00003", Naming.dataFile("p", 2, 3));
    assertEquals("p.data-99999-of-99999", Naming.dataFile("p", 99999, 99999));
  }

  @Test
  void printsSixDigitShardNumbersInFull() {
    assertEquals("p.data-123456-of-200000", Naming.dataFile("p", 123456, 200000));
    assertEquals("p.data-00007-of-100000", Naming.dataFile("p", 7, 100000));
  }

  @Test
  void namesSpecialKeysAndFiles() {
    assertEquals("_CHECKPOINTABLE_OBJECT_GRAPH", Naming.OBJECT_GRAPH_KEY);
    assertEquals("checkpoint", Naming.STATE_FILE);
  }
}
