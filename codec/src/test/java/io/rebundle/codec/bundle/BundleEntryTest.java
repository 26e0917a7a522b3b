package io.rebundle.codec.bundle;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.util.List;
import org.junit.jupiter.api.Test;

class BundleEntryTest {

  /**
   * The §5.2 full entry of {@code emb}: float32 [4,2] in two explicit [2,2] slices along axis 0.
   */
  static final String EMB_FULL_ENTRY =
      "08 01 12 08 12 02 08 04 12 02 08 02 3A 08 0A 02 10 02 0A 02 10 02 3A 0A 0A 04 08 02 10 02 0A 02 10 02";

  static TensorSlice slice(long... startLength) {
    List<TensorSlice.Extent> extents = new java.util.ArrayList<>();
    for (int i = 0; i < startLength.length; i += 2) {
      extents.add(new TensorSlice.Extent(startLength[i], startLength[i + 1]));
    }
    return new TensorSlice(extents);
  }

  @Test
  void encodesInt64ScalarAsSpecExample() {
    int crc = Varints.getFixed32(hex("37 38 58 B4"), 0);
    BundleEntry e = BundleEntry.of(DType.INT64, TensorShape.SCALAR, 0, 182702864L, 8, crc);
    assertEquals(
        spaced(hex("08 09 12 00 20 90 A6 8F 57 28 08 35 37 38 58 B4")), spaced(e.encode()));
  }

  @Test
  void encodesFloatVectorAtOffsetZeroAsSpecExample() {
    int crc = Varints.getFixed32(hex("BB ED 83 9B"), 0);
    BundleEntry e = BundleEntry.of(DType.FLOAT, TensorShape.of(256), 0, 0, 1024, crc);
    assertEquals(
        spaced(hex("08 01 12 05 12 03 08 80 02 28 80 08 35 BB ED 83 9B")), spaced(e.encode()));
  }

  @Test
  void encodesWorkedExampleEntry() {
    int crc = Crc32c.mask(Crc32c.of(hex("00 00 80 3F")));
    BundleEntry e = BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 0, 0, 4, crc);
    assertEquals(spaced(hex("08 01 12 00 28 04 35 81 A5 DA 2B")), spaced(e.encode()));
  }

  @Test
  void encodesShardIdAndEmptyPodTensor() {
    // Zero elements: size omitted, crc = mask(0), a zero dimension is an empty Dim (§3.4, §4.6).
    BundleEntry e = BundleEntry.of(DType.FLOAT, TensorShape.of(2, 0), 2, 5, 0, Crc32c.mask(0));
    assertEquals("08 01 12 06 12 02 08 02 12 00 18 02 20 05 35 d8 ea 82 a2", spaced(e.encode()));
  }

  @Test
  void encodesFullEntryOfSlicedEmbAsSpecExample() {
    BundleEntry e =
        BundleEntry.sliced(
            DType.FLOAT, TensorShape.of(4, 2), List.of(slice(0, 2, 0, 2), slice(2, 2, 0, 2)));
    assertEquals(spaced(hex(EMB_FULL_ENTRY)), spaced(e.encode()));
    assertTrue(e.isSliced());
  }

  @Test
  void encodesFullDimensionAsEmptyExtent() {
    BundleEntry e =
        BundleEntry.sliced(
            DType.FLOAT,
            TensorShape.of(4, 2),
            List.of(
                new TensorSlice(List.of(new TensorSlice.Extent(0, 2), TensorSlice.Extent.FULL))));
    assertEquals("08 01 12 08 12 02 08 04 12 02 08 02 3a 06 0a 02 10 02 0a 00", spaced(e.encode()));
  }

  @Test
  void decodesWhatItEncodes() {
    List<BundleEntry> entries =
        List.of(
            BundleEntry.of(DType.INT64, TensorShape.SCALAR, 0, 182702864L, 8, 0xB4583837),
            BundleEntry.of(DType.STRING, TensorShape.of(3, 1), 4, Long.MAX_VALUE / 2, 77, -1),
            BundleEntry.sliced(
                DType.DOUBLE, TensorShape.of(4, 2), List.of(slice(0, 2, 0, 2), slice(2, 2, 0, 2))),
            new BundleEntry(99, TensorShape.of(1), 0, 0, 4, 123, List.of()));
    for (BundleEntry e : entries) {
      assertEquals(e, BundleEntry.decode(e.encode(), "p.index", "k"));
    }
  }

  @Test
  void decodesSpecBytes() {
    BundleEntry e =
        BundleEntry.decode(hex("08 09 12 00 20 90 A6 8F 57 28 08 35 37 38 58 B4"), "p.index", "k");
    assertEquals(DType.INT64, e.dtype());
    assertTrue(e.shape().isScalar());
    assertEquals(182702864L, e.offset());
    assertEquals(8, e.size());
    assertEquals(0xB4583837, e.crc32c());
    assertFalse(e.isSliced());
    BundleEntry emb = BundleEntry.decode(hex(EMB_FULL_ENTRY), "p.index", "emb");
    assertEquals(List.of(slice(0, 2, 0, 2), slice(2, 2, 0, 2)), emb.slices());
    assertEquals(TensorShape.of(4, 2), emb.shape());
  }

  @Test
  void keepsUnknownDtypeCodeAndReportsItOnUse() {
    BundleEntry e = BundleEntry.decode(hex("08 63 12 00 28 04"), "p.index", "odd");
    assertEquals(99, e.dtypeCode());
    assertEquals("dtype<99>", e.dtypeName());
    UnsupportedCheckpointException x = assertThrows(UnsupportedCheckpointException.class, e::dtype);
    assertEquals("Unsupported dtype: unknown DataType code 99", x.getMessage());
  }

  @Test
  void rejectsUnparsableEntry() {
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> BundleEntry.decode(hex("12 05 12"), "p.index", "w"));
    assertTrue(
        e.getMessage().startsWith("Cannot read p.index: entry for key w not parseable: "),
        e.getMessage());
  }

  @Test
  void rejectsNegativeDimension() {
    // shape { dim { size: -1 } }
    byte[] value = hex("08 01 12 0d 12 0b 08 ff ff ff ff ff ff ff ff ff 01");
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> BundleEntry.decode(value, "p.index", "w"));
    assertEquals("Cannot read p.index: invalid tensor shape for key w: [-1]", e.getMessage());
  }

  @Test
  void rejectsSliceOutsideTheShape() {
    byte[] value =
        BundleEntry.sliced(DType.FLOAT, TensorShape.of(4, 2), List.of(slice(3, 2, 0, 2))).encode();
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> BundleEntry.decode(value, "p.index", "emb"));
    assertEquals(
        "Cannot read p.index: entry for key emb: extent in dimension 0 out of bounds: 3,2 of 4",
        e.getMessage());
  }

  @Test
  void rejectsNegativeLocation() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 0, -4, 4, 0));
    assertEquals("Invalid bundle entry: shard 0, offset -4, size 4", e.getMessage());
    // offset: -4 as an int64 varint.
    byte[] value = hex("08 01 12 00 20 fc ff ff ff ff ff ff ff ff 01 28 04");
    CorruptCheckpointException c =
        assertThrows(
            CorruptCheckpointException.class, () -> BundleEntry.decode(value, "p.index", "w"));
    assertEquals(
        "Cannot read p.index: entry for key w has negative location: shard 0, offset -4, size 4",
        c.getMessage());
  }

  @Test
  void withLocationKeepsEverythingElse() {
    BundleEntry e = BundleEntry.of(DType.HALF, TensorShape.of(3), 0, 0, 6, 42);
    BundleEntry moved = e.withLocation(2, 1000);
    assertEquals(BundleEntry.of(DType.HALF, TensorShape.of(3), 2, 1000, 6, 42), moved);
  }

  /** Entries the hand decoder reads itself: it must agree with protobuf's parser on each. */
  @Test
  void handDecoderAgreesWithProtobufOnCommonEntries() {
    int crc = Varints.getFixed32(hex("37 38 58 B4"), 0);
    String[] encodings = {
      "08 09 12 00 20 90 A6 8F 57 28 08 35 37 38 58 B4", // the spec's int64 scalar
      spaced(BundleEntry.of(DType.FLOAT, TensorShape.of(3, 4), 2, 1234, 48, crc).encode()),
      "08 FF FF FF FF FF FF FF FF FF 01", // dtype -1: an int32 as a ten-byte varint
      "18 01 18 02 28 04", // a repeated scalar keeps its last value
      "12 06 12 02 08 03 18 01 28 0C", // unknown_rank is ignored
      "28 04 08 01 35 01 02 03 04", // fields out of order
      "08 07", // no shape: a scalar
    };
    for (String h : encodings) {
      byte[] b = hex(h);
      BundleEntry fast = BundleEntry.decodeCommon(b, null);
      assertEquals(BundleEntry.decodeWithProtobuf(b, "x.index", "k"), fast, h);
      assertEquals(fast, BundleEntry.decode(b, "x.index", "k"), h);
    }
    assertEquals(-1, BundleEntry.decodeCommon(hex(encodings[2]), null).dtypeCode());
    assertEquals(2, BundleEntry.decodeCommon(hex(encodings[3]), null).shardId());
    assertEquals(TensorShape.of(3), BundleEntry.decodeCommon(hex(encodings[4]), null).shape());
    assertEquals(0x04030201, BundleEntry.decodeCommon(hex(encodings[5]), null).crc32c());
  }

  @Test
  void handDecoderSharesOneShapePerDimsThroughTheRecentShapes() {
    TensorShape.Recent shapes = new TensorShape.Recent();
    byte[] a = BundleEntry.of(DType.FLOAT, TensorShape.of(3, 4), 0, 0, 48, 0).encode();
    byte[] b = BundleEntry.of(DType.FLOAT, TensorShape.of(4, 3), 0, 48, 48, 0).encode();
    TensorShape first = BundleEntry.decodeCommon(a, shapes).shape();
    TensorShape other = BundleEntry.decodeCommon(b, shapes).shape();
    assertEquals(TensorShape.of(3, 4), first);
    assertEquals(TensorShape.of(4, 3), other);
    assertFalse(first == other);
    // Alternating shapes (kernel, bias, kernel, ...) still find their instance.
    assertTrue(BundleEntry.decodeCommon(a, shapes).shape() == first);
    assertTrue(BundleEntry.decodeCommon(b, shapes).shape() == other);
    assertTrue(BundleEntry.decode(a, "x.index", new byte[] {'k'}, shapes).shape() == first);
  }

  /** Anything else is left to protobuf, whose result (or message) is the decoder's. */
  @Test
  void handDecoderLeavesUnusualEntriesToProtobuf() {
    byte[] sliced = hex(EMB_FULL_ENTRY);
    assertEquals(null, BundleEntry.decodeCommon(sliced, null));
    assertEquals(2, BundleEntry.decode(sliced, "x.index", "emb").slices().size());
    byte[] unknownField = hex("08 01 40 05 28 04");
    assertEquals(null, BundleEntry.decodeCommon(unknownField, null));
    assertEquals(4, BundleEntry.decode(unknownField, "x.index", "k").size());
    byte[] namedDim = hex("12 09 12 05 08 03 12 01 78 18 01 28 0C");
    assertEquals(null, BundleEntry.decodeCommon(namedDim, null));
    assertEquals(TensorShape.of(3), BundleEntry.decode(namedDim, "x.index", "k").shape());
    byte[] key = {0, 'k'};
    CorruptCheckpointException truncated =
        assertThrows(
            CorruptCheckpointException.class,
            () -> BundleEntry.decode(hex("08 FF"), "x.index", key, null));
    assertTrue(
        truncated
            .getMessage()
            .startsWith("Cannot read x.index: entry for key \\x00k not parseable"),
        truncated.getMessage());
    CorruptCheckpointException negative =
        assertThrows(
            CorruptCheckpointException.class,
            () -> BundleEntry.decode(hex("20 FF FF FF FF FF FF FF FF FF 01"), "x.index", "k"));
    assertEquals(
        "Cannot read x.index: entry for key k has negative location: shard 0, offset -1, size 0",
        negative.getMessage());
    CorruptCheckpointException badDim =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                BundleEntry.decode(
                    hex("12 0D 12 0B 08 FF FF FF FF FF FF FF FF FF 01"), "x.index", "k"));
    assertEquals("Cannot read x.index: invalid tensor shape for key k: [-1]", badDim.getMessage());
  }

  /**
   * Seeded mutations of real encodings (bytes flipped, cut, inserted): whenever the hand decoder
   * accepts, protobuf's parser gives the same entry; decode's result or message is protobuf's.
   */
  @Test
  void handDecoderAgreesWithProtobufOnMutatedBytes() {
    byte[][] seeds = {
      BundleEntry.of(DType.FLOAT, TensorShape.of(3, 4), 2, 1234, 48, 0x12345678).encode(),
      hex("08 09 12 00 20 90 A6 8F 57 28 08 35 37 38 58 B4"),
      hex("12 09 12 05 08 03 12 01 78 18 01 28 0C"),
      hex(EMB_FULL_ENTRY),
    };
    java.util.Random random = new java.util.Random(11);
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
      byte[] b = seeds[random.nextInt(seeds.length)].clone();
      int edits = 1 + random.nextInt(3);
      for (int e = 0; e < edits && b.length > 0; e++) {
        int at = random.nextInt(b.length);
        switch (random.nextInt(3)) {
          case 0 -> b[at] = (byte) random.nextInt(256);
          case 1 -> b = java.util.Arrays.copyOf(b, at);
          default -> {
            byte[] longer = new byte[b.length + 1];
            System.arraycopy(b, 0, longer, 0, at);
            longer[at] = (byte) random.nextInt(256);
            System.arraycopy(b, at, longer, at + 1, b.length - at);
            b = longer;
          }
        }
      }
      String expected;
      try {
        expected = BundleEntry.decodeWithProtobuf(b, "x.index", "k").toString();
      } catch (CorruptCheckpointException e) {
        expected = e.getMessage();
      }
      BundleEntry fast = BundleEntry.decodeCommon(b, null);
      if (fast != null) {
        accepted++;
        assertEquals(expected, fast.toString(), spaced(b));
      }
      String actual;
      try {
        actual = BundleEntry.decode(b, "x.index", "k").toString();
      } catch (CorruptCheckpointException e) {
        actual = e.getMessage();
      }
      assertEquals(expected, actual, spaced(b));
    }
    assertTrue(accepted > 1000, "accepted " + accepted);
  }
}
