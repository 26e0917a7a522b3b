package io.rebundle.codec.bundle;

import static io.rebundle.codec.bundle.BundleEntryTest.slice;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.proto.TensorSliceProto;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorSliceTest {

  @Test
  void parsesAndFormatsTextForm() {
    TensorSlice s = TensorSlice.parse("0,2:-");
    assertEquals(List.of(new TensorSlice.Extent(0, 2), TensorSlice.Extent.FULL), s.extents());
    assertEquals("0,2:-", s.toString());
    TensorSlice full = TensorSlice.parse("-");
    assertEquals(TensorSlice.full(1), full);
    assertEquals("-", full.toString());
    assertEquals("5,5:0,4", TensorSlice.parse("5,5:0,4").toString());
    assertEquals("-:-:-", TensorSlice.full(3).toString());
  }

  @Test
  void parsesEdgeCases() {
    // Empty tokens are skipped; "0,-1" is TensorFlow's other spelling of a full dimension.
    assertEquals(slice(1, 2), TensorSlice.parse(":1,2:"));
    assertEquals(TensorSlice.full(2), TensorSlice.parse("0,-1:-"));
    assertEquals(0, TensorSlice.parse("").rank());
    assertEquals("", TensorSlice.parse("").toString());
  }

  @Test
  void rejectsMalformedText() {
    assertEquals(
        "Invalid slice: 0,2,3",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.parse("0,2,3"))
            .getMessage());
    assertEquals(
        "Invalid slice: a,b",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.parse("a,b")).getMessage());
    assertEquals(
        "Invalid slice: 0,0 (extent 0,0)",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.parse("0,0")).getMessage());
    assertEquals(
        "Invalid slice: -1,2:- (extent -1,2)",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.parse("-1,2:-"))
            .getMessage());
    assertEquals(
        "Invalid slice: 1,-1 (extent 1,-1)",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.parse("1,-1")).getMessage());
  }

  @Test
  void rejectsInvalidExtents() {
    assertEquals(
        "Invalid slice extent: start 3, length -1",
        assertThrows(IllegalArgumentException.class, () -> new TensorSlice.Extent(3, -1))
            .getMessage());
    assertEquals(
        "Invalid slice extent: start -1, length 2",
        assertThrows(IllegalArgumentException.class, () -> new TensorSlice.Extent(-1, 2))
            .getMessage());
  }

  @Test
  void encodesProtoAsTensorFlowDoes() {
    // Full: empty Extent. Partial: start omitted when 0, length always present (oneof).
    assertEquals(
        "0a 00 0a 02 10 02 0a 04 08 02 10 02",
        spaced(TensorSlice.parse("-:0,2:2,2").toProto().toByteArray()));
  }

  @Test
  void decodesProto() {
    TensorSlice s = TensorSlice.parse("-:0,2:2,2");
    assertEquals(s, TensorSlice.fromProto(s.toProto()));
    TensorSliceProto minusOne =
        TensorSliceProto.newBuilder()
            .addExtent(TensorSliceProto.Extent.newBuilder().setLength(-1))
            .build();
    assertEquals(TensorSlice.full(1), TensorSlice.fromProto(minusOne));
    TensorSliceProto badFull =
        TensorSliceProto.newBuilder()
            .addExtent(TensorSliceProto.Extent.newBuilder().setStart(3))
            .build();
    assertEquals(
        "Invalid slice extent: full dimension with start 3",
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.fromProto(badFull))
            .getMessage());
  }

  @Test
  void computesSliceShapeAndCoverage() {
    TensorShape shape = TensorShape.of(4, 6);
    assertEquals(TensorShape.of(2, 6), TensorSlice.parse("2,2:-").sliceShape(shape));
    assertEquals(TensorShape.of(4, 3), TensorSlice.parse("-:3,3").sliceShape(shape));
    assertTrue(TensorSlice.parse("-:-").coversAll(shape));
    assertTrue(TensorSlice.parse("0,4:0,6").coversAll(shape));
    assertFalse(TensorSlice.parse("0,4:0,5").coversAll(shape));
    assertEquals(2, TensorSlice.parse("2,2:-").start(0));
    assertEquals(6, TensorSlice.parse("2,2:-").length(1, shape));
  }

  @Test
  void explainsWhySliceDoesNotFit() {
    TensorShape shape = TensorShape.of(4, 6);
    assertNull(TensorSlice.parse("2,2:-").problemWith(shape));
    assertNull(TensorSlice.parse("0,4:0,6").problemWith(shape));
    assertEquals(
        "slice 0,2 has rank 1, tensor has rank 2", TensorSlice.parse("0,2").problemWith(shape));
    assertEquals(
        "extent in dimension 1 out of bounds: 4,3 of 6",
        TensorSlice.parse("-:4,3").problemWith(shape));
    assertEquals(
        "extent in dimension 0 out of bounds: 5,1 of 4",
        TensorSlice.parse("5,1:-").problemWith(shape));
  }
}
