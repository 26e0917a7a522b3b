package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.UnsupportedCheckpointException;
import org.junit.jupiter.api.Test;

class DTypeTest {

  @Test
  void hasTensorFlowCodesAndElementSizes() {
    // tensorbundle-format.md §3.6, in code order.
    Object[][] table = {
      {1, 4}, {2, 8}, {3, 4}, {4, 1}, {5, 2}, {6, 1}, {7, -1}, {8, 8}, {9, 8}, {10, 1}, {11, 1},
      {12, 1}, {13, 4}, {14, 2}, {15, 2}, {16, 2}, {17, 2}, {18, 16}, {19, 2}, {20, -1}, {21, -1},
      {22, 4}, {23, 8}, {24, 1}, {25, 1}, {26, 1}, {27, 1}, {28, 1}, {29, 1}, {30, 1}, {31, 1},
      {32, 1}, {33, 1},
    };
    assertEquals(table.length, DType.values().length);
    for (Object[] row : table) {
      DType t = DType.fromCode((Integer) row[0]);
      assertEquals(row[0], t.code());
      assertEquals(row[1], t.elementSize(), t.name());
      assertEquals((Integer) row[1] > 0, t.isFixedSize(), t.name());
    }
    assertEquals(DType.FLOAT, DType.fromCode(1));
    assertEquals(DType.INT64, DType.fromCode(9));
    assertEquals(DType.STRING, DType.fromCode(7));
    assertEquals(DType.HALF, DType.fromCode(19));
    assertEquals(DType.FLOAT4_E2M1FN, DType.fromCode(33));
  }

  @Test
  void rejectsUnknownAndReferenceCodes() {
    assertEquals(
        "Unsupported dtype: unknown DataType code 99",
        assertThrows(UnsupportedCheckpointException.class, () -> DType.fromCode(99)).getMessage());
    assertEquals(
        "Unsupported dtype: unknown DataType code 0",
        assertThrows(UnsupportedCheckpointException.class, () -> DType.fromCode(0)).getMessage());
    assertEquals(
        "Unsupported dtype: reference type code 101 never appears in valid bundles",
        assertThrows(UnsupportedCheckpointException.class, () -> DType.fromCode(101)).getMessage());
    assertFalse(DType.isKnown(99));
    assertFalse(DType.isKnown(0));
    assertFalse(DType.isKnown(-1));
    assertTrue(DType.isKnown(33));
  }

  @Test
  void parsesDisplayAndEnumNames() {
    assertEquals(DType.FLOAT, DType.parse("float32"));
    assertEquals(DType.FLOAT, DType.parse("DT_FLOAT"));
    assertEquals(DType.BFLOAT16, DType.parse("bfloat16"));
    assertEquals(DType.HALF, DType.parse("float16"));
    assertEquals(DType.HALF, DType.parse("half"));
    assertEquals(DType.INT64, DType.parse("Int64"));
    assertEquals(
        "Invalid dtype: float33",
        assertThrows(IllegalArgumentException.class, () -> DType.parse("float33")).getMessage());
  }

  @Test
  void knowsWhichTypesTensorFlowCanAssembleFromSlices() {
    assertTrue(DType.FLOAT.isSliceable());
    assertTrue(DType.BFLOAT16.isSliceable());
    assertFalse(DType.HALF.isSliceable());
    assertFalse(DType.STRING.isSliceable());
    assertFalse(DType.UINT32.isSliceable());
  }

  @Test
  void knowsByteSwapWidths() {
    assertEquals(0, DType.BOOL.swapWidth());
    assertEquals(2, DType.HALF.swapWidth());
    assertEquals(4, DType.COMPLEX64.swapWidth());
    assertEquals(8, DType.COMPLEX128.swapWidth());
    assertEquals(-1, DType.STRING.swapWidth());
    assertEquals(-1, DType.FLOAT8_E5M2.swapWidth());
  }
}
