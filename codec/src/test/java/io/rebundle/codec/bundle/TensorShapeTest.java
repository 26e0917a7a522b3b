package io.rebundle.codec.bundle;

import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.proto.TensorShapeProto;
import org.junit.jupiter.api.Test;

class TensorShapeTest {

  @Test
  void countsElements() {
    assertEquals(1, TensorShape.SCALAR.numElements());
    assertTrue(TensorShape.SCALAR.isScalar());
    assertEquals(6, TensorShape.of(2, 3).numElements());
    assertEquals(0, TensorShape.of(2, 0).numElements());
    assertEquals("[2, 3]", TensorShape.of(2, 3).toString());
    assertEquals("[]", TensorShape.SCALAR.toString());
  }

  @Test
  void encodesDimsAndZeroSizedDims() {
    assertEquals("", spaced(TensorShape.SCALAR.toProto().toByteArray()));
    assertEquals("12 03 08 80 02", spaced(TensorShape.of(256).toProto().toByteArray()));
    assertEquals("12 00", spaced(TensorShape.of(0).toProto().toByteArray()));
  }

  @Test
  void rejectsInvalidShapes() {
    assertEquals(
        "Invalid tensor shape [2, -1]: negative dimension -1",
        assertThrows(IllegalArgumentException.class, () -> TensorShape.of(2, -1)).getMessage());
    assertEquals(
        "Invalid tensor shape [4294967296, 4294967296]: element count overflows int64",
        assertThrows(IllegalArgumentException.class, () -> TensorShape.of(1L << 32, 1L << 32))
            .getMessage());
    assertEquals("rank 255 exceeds 254", TensorShape.problem(new long[255]));
    TensorShapeProto negative =
        TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(-3)).build();
    assertNull(TensorShape.fromProtoOrNull(negative));
  }

  @Test
  void copiesDims() {
    long[] dims = {2, 3};
    TensorShape s = TensorShape.of(dims);
    dims[0] = 9;
    assertEquals(2, s.dim(0));
    s.dims()[1] = 9;
    assertEquals(3, s.dim(1));
  }
}
