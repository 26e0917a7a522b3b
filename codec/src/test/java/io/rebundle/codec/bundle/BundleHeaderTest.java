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

  @Test
  void theCommonHeaderIsReadWithoutProtobufAndTheRestByProtobuf() {
    assertEquals(BundleHeader.of(1), BundleHeader.decodePlain(hex("08 01 1a 02 08 01")));
    assertEquals(
        new BundleHeader(7, true, 1, 0, List.of()),
        BundleHeader.decodePlain(hex("1a 04 10 00 08 01 10 01 08 07")));
    assertEquals(
        new BundleHeader(0, false, 0, 0, List.of()), BundleHeader.decodePlain(new byte[0]));
    for (String other :
        new String[] {
          "08 02 10 01 1a 05 08 01 1a 01 03", // bad_consumers
          "08 01 08 02", // num_shards twice (protobuf: the last one)
          "08 ff ff ff ff 0f", // -1 as int32 in five bytes
          "08 ff ff ff ff ff ff ff ff ff 01", // -1 in ten bytes
          "10 02", // unknown endianness
          "1a 02 10 02", // min_consumer above 1
          "1a 05 08", // length past the end
          "20 01", // an unknown field
          "08", // a varint cut short
        }) {
      assertEquals(null, BundleHeader.decodePlain(hex(other)), other);
    }
  }

  /** Seeded mutations of real headers: the hand path agrees with protobuf or leaves it to it. */
  @Test
  void decodingAgreesWithProtobufOnMutatedHeaders() {
    java.util.Random random = new java.util.Random(20261202L);
    List<byte[]> seeds =
        List.of(
            BundleHeader.of(1).encode(),
            BundleHeader.of(300).encode(),
            new BundleHeader(2, true, 1, 0, List.of(3)).encode(),
            new BundleHeader(5, false, 3, 1, List.of()).encode(),
            new byte[0]);
    int plain = 0;
    for (int n = 0; n < 50_000; n++) {
      byte[] b = mutate(seeds.get(random.nextInt(seeds.size())), random);
      String expected = outcome(() -> BundleHeader.decodeWithProtobuf(b, "p.index"));
      assertEquals(expected, outcome(() -> BundleHeader.decode(b, "p.index")), spaced(b));
      if (BundleHeader.decodePlain(b) != null) {
        plain++;
      }
    }
    assertTrue(plain > 1000, "mutations the hand path decoded: " + plain);
  }

  private static byte[] mutate(byte[] seed, java.util.Random random) {
    byte[] b = seed.clone();
    int edits = 1 + random.nextInt(3);
    for (int e = 0; e < edits; e++) {
      int op = random.nextInt(4);
      if (op == 0 && b.length > 0) {
        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
      } else if (op == 1 && b.length > 0) {
        b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
      } else if (op == 2) {
        int at = random.nextInt(b.length + 1);
        byte[] c = new byte[b.length + 1];
        System.arraycopy(b, 0, c, 0, at);
        c[at] = (byte) (random.nextBoolean() ? random.nextInt(256) : random.nextInt(4));
        System.arraycopy(b, at, c, at + 1, b.length - at);
        b = c;
      } else if (b.length > 0) {
        b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
      }
    }
    return b;
  }

  private static String outcome(java.util.function.Supplier<BundleHeader> decode) {
    try {
      return "ok " + decode.get();
    } catch (RuntimeException e) {
      return e.getClass().getName() + ": " + e.getMessage();
    }
  }
}
