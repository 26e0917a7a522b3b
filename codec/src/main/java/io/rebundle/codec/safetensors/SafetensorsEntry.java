package io.rebundle.codec.safetensors;

import io.rebundle.codec.bundle.TensorShape;

/**
 * One tensor of a safetensors header: {@code {"dtype", "shape", "data_offsets": [begin, end]}}.
 * Offsets are relative to the first byte after the header, end exclusive; {@link #size()} is {@code
 * end - begin} and equals elements × element size in a valid file. Immutable.
 */
public record SafetensorsEntry(
    String name, SafetensorsDType dtype, TensorShape shape, long begin, long end) {
  public SafetensorsEntry {
    if (name == null || dtype == null || shape == null) {
      throw new IllegalArgumentException(
          "Invalid safetensors entry: name, dtype and shape are required");
    }
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(
          "Invalid safetensors entry " + name + ": data_offsets [" + begin + ", " + end + "]");
    }
  }

  /** Bytes of the tensor's data. */
  public long size() {
    return end - begin;
  }
}
