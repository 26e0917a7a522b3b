package io.rebundle.codec.bundle;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import java.util.List;
import org.junit.jupiter.api.Test;

class BundleHeaderTest {

  @Test
  void encodesOneShardHeaderAsTensorFlowDoes() {
    assertEquals("08 01 1a 02 08 01", spaced(BundleHeader.of(1).encode()));
    assertEquals("08 03 1a 02 08 01", spaced(BundleHeader.of(3).encode()));
  }

  @Test
  void encodesBigEndianAndBadConsumers() {
    BundleHeader h = new BundleHeader(2, true, 1, 0, List.of(3));
    assertEquals("08 02 10 01 1a 05 08 01 1a 01 03", spaced(h.encode()));
    assertEquals(h, BundleHeader.decode(h.encode(), "p.index"));
  }

  @Test
  void decodesTensorFlowHeader() {
    assertEquals(BundleHeader.of(1), BundleHeader.decode(hex("08 01 1A 02 08 01"), "p.index"));
  }

  @Test
  void rejectsUnparsableHeader() {
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> BundleHeader.decode(hex("1a 05 08"), "p.index"));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read p.index: unable to parse the bundle header (the entry under the empty key): "),
        e.getMessage());
  }

  @Test
  void rejectsNegativeShardCount() {
    byte[] value = hex("08 ff ff ff ff ff ff ff ff ff 01 1a 02 08 01");
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> BundleHeader.decode(value, "p.index"));
    assertEquals("Cannot read p.index: invalid num_shards -1 in header", e.getMessage());
  }

  @Test
  void rejectsVersionsThisReaderCannotConsume() {
    UnsupportedCheckpointException e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () ->
                BundleHeader.decode(
                    new BundleHeader(1, false, 1, 2, List.of()).encode(), "p.index"));
    assertEquals(
        "Cannot read p.index: checkpoint min consumer version 2 above current version 1; "
            + "it was written by a newer TensorFlow",
        e.getMessage());
    e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () ->
                BundleHeader.decode(
                    new BundleHeader(1, false, -1, 0, List.of()).encode(), "p.index"));
    assertEquals(
        "Cannot read p.index: checkpoint producer version -1 below min producer 0", e.getMessage());
    e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () ->
                BundleHeader.decode(
                    new BundleHeader(1, false, 1, 0, List.of(0, 1)).encode(), "p.index"));
    assertEquals("Cannot read p.index: checkpoint disallows consumer version 1", e.getMessage());
  }

  @Test
  void rejectsUnknownEndianness() {
    UnsupportedCheckpointException e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () -> BundleHeader.decode(hex("08 01 10 02 1a 02 08 01"), "p.index"));
    assertEquals("Cannot read p.index: unknown endianness 2", e.getMessage());
  }
}
