package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.io.LocalFileIO;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer refuses slices TensorFlow could not restore (tensorbundle-format.md §5). */
class CheckpointWriterSliceTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;

  private static Tensor floats(long... shape) {
    return Tensor.of(
        DType.FLOAT,
        TensorShape.of(shape),
        new byte[(int) TensorShape.of(shape).numElements() * 4]);
  }

  @Test
  void rejectsSlicesOfDtypesTensorFlowCannotAssemble() {
    try (CheckpointWriter w = CheckpointWriter.create(io, dir.resolve("c").toString())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.addSlice(
                      0,
                      "h",
                      TensorShape.of(4),
                      TensorSlice.parse("0,2"),
                      Tensor.of(DType.HALF, TensorShape.of(2), new byte[4])));
      assertEquals(
          "Invalid slice for h: TensorFlow cannot restore sliced float16 tensors", e.getMessage());
    }
  }

  @Test
  void rejectsOverlappingAndMismatchedSlices() {
    try (CheckpointWriter w = CheckpointWriter.create(io, dir.resolve("c").toString())) {
      w.addSlice(0, "e", TensorShape.of(4, 2), TensorSlice.parse("0,2:-"), floats(2, 2));
      assertEquals(
          "Invalid slice for e: 1,2:- overlaps 0,2:-",
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      w.addSlice(
                          0, "e", TensorShape.of(4, 2), TensorSlice.parse("1,2:-"), floats(2, 2)))
              .getMessage());
      assertEquals(
          "Invalid slice for e: int32 [4, 2] does not match earlier slices of float32 [4, 2]",
          assertThrows(
                  IllegalArgumentException.class,
                  () ->
                      w.addSlice(
                          0,
                          "e",
                          TensorShape.of(4, 2),
                          TensorSlice.parse("2,2:-"),
                          Tensor.of(DType.INT32, TensorShape.of(2, 2), new byte[16])))
              .getMessage());
    }
  }

  @Test
  void storesASliceCoveringTheWholeTensorAsAPlainEntry() {
    String prefix = dir.resolve("c").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.addSlice(0, "w", TensorShape.of(2, 2), TensorSlice.parse("-:0,2"), floats(2, 2));
      w.finish();
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      assertFalse(r.entry("w").isSliced());
      int n = 0;
      for (IndexRecord rec : r.records()) {
        n++;
      }
      assertEquals(1, n);
    }
  }
}
