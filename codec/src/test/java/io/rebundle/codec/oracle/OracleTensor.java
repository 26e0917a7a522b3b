package io.rebundle.codec.oracle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One tensor as TensorFlow sees it, in plain Java values.
 *
 * <p>{@code dtype} is TensorFlow's DataType enum number. For every dtype except string (7), {@code
 * data} holds the elements' raw little-endian bytes in row-major order and {@code strings} is null.
 * For strings it is the other way round. {@code shapeAndSlice} is "" for a whole tensor, or a TF
 * slice spec such as "4 2 0,2:0,2"; then {@code shape} is the shape of the slice, and the data is
 * the slice's content.
 */
record OracleTensor(
    String key, int dtype, long[] shape, byte[] data, List<byte[]> strings, String shapeAndSlice) {

  static final int DT_FLOAT = 1;
  static final int DT_DOUBLE = 2;
  static final int DT_INT32 = 3;
  static final int DT_UINT8 = 4;
  static final int DT_INT16 = 5;
  static final int DT_INT8 = 6;
  static final int DT_STRING = 7;
  static final int DT_COMPLEX64 = 8;
  static final int DT_INT64 = 9;
  static final int DT_BOOL = 10;
  static final int DT_QINT8 = 11;
  static final int DT_QUINT8 = 12;
  static final int DT_QINT32 = 13;
  static final int DT_BFLOAT16 = 14;
  static final int DT_QINT16 = 15;
  static final int DT_QUINT16 = 16;
  static final int DT_UINT16 = 17;
  static final int DT_COMPLEX128 = 18;
  static final int DT_HALF = 19;
  static final int DT_UINT32 = 22;
  static final int DT_UINT64 = 23;
  static final int DT_FLOAT8_E5M2 = 24;
  static final int DT_FLOAT8_E4M3FN = 25;
  static final int DT_INT4 = 29;
  static final int DT_UINT4 = 30;

  public OracleTensor {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(shape, "shape");
    shape = shape.clone();
    shapeAndSlice = shapeAndSlice == null ? "" : shapeAndSlice;
    if (dtype == DT_STRING) {
      if (strings == null || data != null) {
        throw new IllegalArgumentException("string tensor needs strings and no data: " + key);
      }
      List<byte[]> copy = new ArrayList<>(strings.size());
      for (byte[] s : strings) {
        copy.add(Objects.requireNonNull(s, "string element").clone());
      }
      strings = Collections.unmodifiableList(copy);
    } else {
      if (data == null || strings != null) {
        throw new IllegalArgumentException("numeric tensor needs data and no strings: " + key);
      }
      data = data.clone();
    }
  }

  /** A whole (unsliced) tensor of a non-string dtype. */
  static OracleTensor of(String key, int dtype, long[] shape, byte[] data) {
    return new OracleTensor(key, dtype, shape, data, null, "");
  }

  /** A whole string tensor; values are arbitrary bytes. */
  static OracleTensor ofStrings(String key, long[] shape, List<byte[]> strings) {
    return new OracleTensor(key, DT_STRING, shape, null, strings, "");
  }

  /** A slice of a larger tensor; {@code sliceShape} and {@code data} describe the slice only. */
  static OracleTensor slice(String key, int dtype, long[] sliceShape, byte[] data, String spec) {
    return new OracleTensor(key, dtype, sliceShape, data, null, spec);
  }

  /** A slice of a larger string tensor. */
  static OracleTensor sliceOfStrings(
      String key, long[] sliceShape, List<byte[]> strings, String spec) {
    return new OracleTensor(key, DT_STRING, sliceShape, null, strings, spec);
  }

  long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Bytes per element, or -1 for strings and for dtypes this helper does not know. */
  static int elementSize(int dtype) {
    return switch (dtype) {
      case DT_UINT8,
          DT_INT8,
          DT_BOOL,
          DT_QINT8,
          DT_QUINT8,
          DT_FLOAT8_E5M2,
          DT_FLOAT8_E4M3FN,
          26,
          27,
          28,
          DT_INT4,
          DT_UINT4 ->
          1;
      case DT_INT16, DT_UINT16, DT_QINT16, DT_QUINT16, DT_BFLOAT16, DT_HALF -> 2;
      case DT_FLOAT, DT_INT32, DT_UINT32, DT_QINT32 -> 4;
      case DT_DOUBLE, DT_INT64, DT_UINT64, DT_COMPLEX64 -> 8;
      case DT_COMPLEX128 -> 16;
      default -> -1;
    };
  }

  static String dtypeName(int dtype) {
    return switch (dtype) {
      case DT_FLOAT -> "float32";
      case DT_DOUBLE -> "float64";
      case DT_INT32 -> "int32";
      case DT_UINT8 -> "uint8";
      case DT_INT16 -> "int16";
      case DT_INT8 -> "int8";
      case DT_STRING -> "string";
      case DT_COMPLEX64 -> "complex64";
      case DT_INT64 -> "int64";
      case DT_BOOL -> "bool";
      case DT_QINT8 -> "qint8";
      case DT_QUINT8 -> "quint8";
      case DT_QINT32 -> "qint32";
      case DT_BFLOAT16 -> "bfloat16";
      case DT_QINT16 -> "qint16";
      case DT_QUINT16 -> "quint16";
      case DT_UINT16 -> "uint16";
      case DT_COMPLEX128 -> "complex128";
      case DT_HALF -> "float16";
      case DT_UINT32 -> "uint32";
      case DT_UINT64 -> "uint64";
      case DT_FLOAT8_E5M2 -> "float8_e5m2";
      case DT_FLOAT8_E4M3FN -> "float8_e4m3fn";
      case DT_INT4 -> "int4";
      case DT_UINT4 -> "uint4";
      default -> "dtype" + dtype;
    };
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof OracleTensor t)) {
      return false;
    }
    return dtype == t.dtype
        && key.equals(t.key)
        && shapeAndSlice.equals(t.shapeAndSlice)
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data)
        && stringsEqual(strings, t.strings);
  }

  private static boolean stringsEqual(List<byte[]> a, List<byte[]> b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(key, dtype, shapeAndSlice);
    h = 31 * h + Arrays.hashCode(shape);
    h = 31 * h + Arrays.hashCode(data);
    if (strings != null) {
      for (byte[] s : strings) {
        h = 31 * h + Arrays.hashCode(s);
      }
    }
    return h;
  }

  @Override
  public String toString() {
    StringBuilder sb =
        new StringBuilder("OracleTensor[key=")
            .append(key)
            .append(", dtype=")
            .append(dtypeName(dtype))
            .append(", shape=")
            .append(Arrays.toString(shape));
    if (!shapeAndSlice.isEmpty()) {
      sb.append(", slice=\"").append(shapeAndSlice).append('"');
    }
    if (data != null) {
      sb.append(", data(").append(data.length).append(")=").append(hex(data, 64));
    } else {
      sb.append(", strings(").append(strings.size()).append(")=[");
      int shown = Math.min(strings.size(), 8);
      for (int i = 0; i < shown; i++) {
        sb.append(i == 0 ? "" : ", ").append(hex(strings.get(i), 32));
      }
      sb.append(strings.size() > shown ? ", ...]" : "]");
    }
    return sb.append(']').toString();
  }

  private static String hex(byte[] b, int max) {
    StringBuilder sb = new StringBuilder();
    int n = Math.min(b.length, max);
    for (int i = 0; i < n; i++) {
      sb.append(String.format("%02x", b[i] & 0xff));
    }
    return b.length > max ? sb.append("...").toString() : sb.toString();
  }
}
