package io.rebundle.codec.bundle;

import io.rebundle.codec.UnsupportedCheckpointException;

/**
 * TensorFlow's DataType codes (types.proto) with the names numpy/TensorFlow print and the size of
 * one element in a data file (tensorbundle-format.md §3.6). {@link #STRING} and {@link #VARIANT}
 * have variable-length encodings (size -1).
 */
public enum DType {
  FLOAT(1, "float32", 4),
  DOUBLE(2, "float64", 8),
  INT32(3, "int32", 4),
  UINT8(4, "uint8", 1),
  INT16(5, "int16", 2),
  INT8(6, "int8", 1),
  STRING(7, "string", -1),
  COMPLEX64(8, "complex64", 8),
  INT64(9, "int64", 8),
  BOOL(10, "bool", 1),
  QINT8(11, "qint8", 1),
  QUINT8(12, "quint8", 1),
  QINT32(13, "qint32", 4),
  BFLOAT16(14, "bfloat16", 2),
  QINT16(15, "qint16", 2),
  QUINT16(16, "quint16", 2),
  UINT16(17, "uint16", 2),
  COMPLEX128(18, "complex128", 16),
  HALF(19, "float16", 2),
  RESOURCE(20, "resource", -1),
  VARIANT(21, "variant", -1),
  UINT32(22, "uint32", 4),
  UINT64(23, "uint64", 8),
  FLOAT8_E5M2(24, "float8_e5m2", 1),
  FLOAT8_E4M3FN(25, "float8_e4m3fn", 1),
  FLOAT8_E4M3FNUZ(26, "float8_e4m3fnuz", 1),
  FLOAT8_E4M3B11FNUZ(27, "float8_e4m3b11fnuz", 1),
  FLOAT8_E5M2FNUZ(28, "float8_e5m2fnuz", 1),
  INT4(29, "int4", 1),
  UINT4(30, "uint4", 1),
  INT2(31, "int2", 1),
  UINT2(32, "uint2", 1),
  FLOAT4_E2M1FN(33, "float4_e2m1fn", 1);

  private static final DType[] BY_CODE = new DType[34];

  static {
    for (DType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;
  private final String displayName;
  private final int elementSize;

  DType(int code, String displayName, int elementSize) {
    this.code = code;
    this.displayName = displayName;
    this.elementSize = elementSize;
  }

  /** TensorFlow's DataType number. */
  public int code() {
    return code;
  }

  /** The name TensorFlow and numpy print: "float32", "int64", "string", "bfloat16", ... */
  public String displayName() {
    return displayName;
  }

  /** Bytes per element in a data file, or -1 for variable-length encodings. */
  public int elementSize() {
    return elementSize;
  }

  /** Whether tensors of this type are stored as raw element bytes (TensorFlow's memcpy types). */
  public boolean isFixedSize() {
    return elementSize > 0;
  }

  /**
   * Whether TensorFlow can assemble a tensor of this type from several slices (§5.5); slicing any
   * other type produces checkpoints TensorFlow cannot restore.
   */
  public boolean isSliceable() {
    return switch (this) {
      case FLOAT,
          DOUBLE,
          INT32,
          UINT8,
          INT16,
          INT8,
          COMPLEX64,
          COMPLEX128,
          INT64,
          BOOL,
          QINT32,
          QUINT8,
          QINT8,
          BFLOAT16 ->
          true;
      default -> false;
    };
  }

  public boolean isFloating() {
    return switch (this) {
      case FLOAT, DOUBLE, BFLOAT16, HALF -> true;
      default -> false;
    };
  }

  /**
   * Width of the byte swap a big-endian bundle needs for this type (§4.7): 0 for none (1-byte
   * types), or the component width; -1 where TensorFlow refuses to swap.
   */
  public int swapWidth() {
    return switch (this) {
      case UINT8, INT8, BOOL, QINT8, QUINT8 -> 0;
      case BFLOAT16, HALF, QINT16, QUINT16, UINT16, INT16 -> 2;
      case FLOAT, INT32, QINT32, UINT32, COMPLEX64 -> 4;
      case INT64, DOUBLE, UINT64, COMPLEX128 -> 8;
      default -> -1;
    };
  }

  /** The type for a code, or an {@link UnsupportedCheckpointException} naming the number. */
  public static DType fromCode(int code) {
    if (code > 0 && code < BY_CODE.length && BY_CODE[code] != null) {
      return BY_CODE[code];
    }
    if (code > 100 && code - 100 < BY_CODE.length && BY_CODE[code - 100] != null) {
      throw new UnsupportedCheckpointException(
          "Unsupported dtype: reference type code " + code + " never appears in valid bundles");
    }
    throw new UnsupportedCheckpointException("Unsupported dtype: unknown DataType code " + code);
  }

  public static boolean isKnown(int code) {
    return code > 0 && code < BY_CODE.length && BY_CODE[code] != null;
  }

  /** Parses a display name ("float32") or an enum name ("DT_FLOAT", "FLOAT"). */
  public static DType parse(String name) {
    for (DType t : values()) {
      if (t.displayName.equalsIgnoreCase(name)
          || t.name().equalsIgnoreCase(name)
          || ("DT_" + t.name()).equalsIgnoreCase(name)) {
        return t;
      }
    }
    if ("half".equalsIgnoreCase(name)) {
      return HALF;
    }
    throw new IllegalArgumentException("Invalid dtype: " + name);
  }
}
