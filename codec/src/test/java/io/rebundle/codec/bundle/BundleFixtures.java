package io.rebundle.codec.bundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Tensors and file helpers shared by the checkpoint tests. */
public final class BundleFixtures {
  private BundleFixtures() {}

  public static Tensor random(DType dtype, Random random, long... dims) {
    TensorShape shape = TensorShape.of(dims);
    byte[] data = new byte[(int) (shape.numElements() * dtype.elementSize())];
    random.nextBytes(data);
    return Tensor.of(dtype, shape, data);
  }

  /** float32 values 0, 1, 2, ... so a misplaced element is easy to spot. */
  public static Tensor iota(long... dims) {
    TensorShape shape = TensorShape.of(dims);
    byte[] data = new byte[(int) shape.numElements() * 4];
    for (int i = 0; i < shape.numElements(); i++) {
      int bits = Float.floatToIntBits(i);
      for (int b = 0; b < 4; b++) {
        data[4 * i + b] = (byte) (bits >>> (8 * b));
      }
    }
    return Tensor.of(DType.FLOAT, shape, data);
  }

  static Tensor strings(long[] dims, byte[]... values) {
    return Tensor.ofStrings(TensorShape.of(dims), List.of(values));
  }

  /**
   * The dense row-major block a slice selects, element by element (deliberately not the row-copy
   * algorithm of {@link SliceAssembler}).
   */
  public static Tensor extract(Tensor full, TensorSlice slice) {
    TensorShape shape = full.shape();
    TensorShape part = slice.sliceShape(shape);
    int elem = full.dtype().elementSize();
    byte[] out = new byte[(int) part.numElements() * elem];
    int rank = shape.rank();
    long[] index = new long[rank];
    for (long n = 0; n < part.numElements(); n++) {
      long rem = n;
      for (int d = rank - 1; d >= 0; d--) {
        index[d] = rem % part.dim(d);
        rem /= part.dim(d);
      }
      long src = 0;
      for (int d = 0; d < rank; d++) {
        src = src * shape.dim(d) + slice.start(d) + index[d];
      }
      System.arraycopy(full.data(), (int) src * elem, out, (int) n * elem, elem);
    }
    return Tensor.of(full.dtype(), part, out);
  }

  /** Sorted names in a directory; empty if it does not exist. */
  public static List<String> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      List<String> names = new ArrayList<>();
      s.forEach(p -> names.add(p.getFileName().toString()));
      names.sort(null);
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void flipByte(Path file, long offset) {
    try {
      byte[] b = Files.readAllBytes(file);
      b[(int) offset] ^= 0x01;
      Files.write(file, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
