package io.rebundle.codec.bundle;

import java.util.Arrays;
import java.util.List;

/**
 * A tensor's values in memory: raw little-endian element bytes in row-major order for fixed-size
 * types, or the byte strings of a DT_STRING tensor. Only for tensors small enough to hold; the copy
 * paths stream instead.
 */
public record Tensor(DType dtype, TensorShape shape, byte[] data, List<byte[]> strings) {
  public Tensor {
    if (dtype == DType.STRING) {
      if (strings == null || strings.size() != shape.numElements()) {
        throw new IllegalArgumentException(
            "Invalid string tensor: "
                + (strings == null ? 0 : strings.size())
                + " values for shape "
                + shape);
      }
      strings = List.copyOf(strings);
    } else {
      if (!dtype.isFixedSize()) {
        throw new IllegalArgumentException(
            "Invalid tensor dtype for values: " + dtype.displayName());
      }
      if (data == null || data.length != shape.numElements() * dtype.elementSize()) {
        throw new IllegalArgumentException(
            "Invalid tensor data: "
                + (data == null ? 0 : data.length)
                + " bytes for "
                + dtype.displayName()
                + " "
                + shape);
      }
    }
  }

  public static Tensor of(DType dtype, TensorShape shape, byte[] data) {
    return new Tensor(dtype, shape, data, null);
  }

  public static Tensor ofStrings(TensorShape shape, List<byte[]> strings) {
    return new Tensor(DType.STRING, shape, null, strings);
  }

  /** This single-element tensor as a scalar. */
  public Tensor withShapeScalar() {
    if (shape.numElements() != 1) {
      throw new IllegalArgumentException(
          "Invalid reshape to scalar: " + shape + " has " + shape.numElements() + " elements");
    }
    return new Tensor(dtype, TensorShape.SCALAR, data, strings);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor t) || dtype != t.dtype || !shape.equals(t.shape)) {
      return false;
    }
    if (dtype != DType.STRING) {
      return Arrays.equals(data, t.data);
    }
    for (int i = 0; i < strings.size(); i++) {
      if (!Arrays.equals(strings.get(i), t.strings.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return 31 * shape.hashCode() + dtype.hashCode();
  }

  @Override
  public String toString() {
    return "Tensor[" + dtype.displayName() + " " + shape + "]";
  }
}
