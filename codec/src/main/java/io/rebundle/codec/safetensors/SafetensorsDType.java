package io.rebundle.codec.safetensors;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.DType;

/**
 * The element types a safetensors header names, with their sizes and their TensorFlow counterparts.
 * The declaration order is the reference implementation's {@code Dtype} order (increasing
 * alignment); its writer lays tensors out by this order, descending, then by name, so every tensor
 * starts at an offset aligned to its element size.
 */
public enum SafetensorsDType {
  BOOL(1, DType.BOOL),
  U8(1, DType.UINT8),
  I8(1, DType.INT8),
  F8_E5M2(1, DType.FLOAT8_E5M2),
  F8_E4M3(1, DType.FLOAT8_E4M3FN),
  I16(2, DType.INT16),
  U16(2, DType.UINT16),
  F16(2, DType.HALF),
  BF16(2, DType.BFLOAT16),
  I32(4, DType.INT32),
  U32(4, DType.UINT32),
  F32(4, DType.FLOAT),
  F64(8, DType.DOUBLE),
  I64(8, DType.INT64),
  U64(8, DType.UINT64);

  private final int elementSize;
  private final DType tfType;

  SafetensorsDType(int elementSize, DType tfType) {
    this.elementSize = elementSize;
    this.tfType = tfType;
  }

  /** Bytes per element. */
  public int elementSize() {
    return elementSize;
  }

  /** The TensorFlow dtype with the same element encoding. */
  public DType tfType() {
    return tfType;
  }

  /** The header's name for a dtype ("F32"), or null when the name is not one of ours. */
  public static SafetensorsDType byName(String name) {
    for (SafetensorsDType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /**
   * The safetensors dtype for a TensorFlow dtype, or an {@link UnsupportedCheckpointException}
   * naming the tensor and the dtype: strings, complex numbers, variants, resources and quantized
   * types have no safetensors counterpart.
   */
  public static SafetensorsDType fromTf(String key, DType dtype) {
    for (SafetensorsDType t : values()) {
      if (t.tfType == dtype) {
        return t;
      }
    }
    throw SafetensorsErrors.noCounterpart(key, dtype);
  }
}
