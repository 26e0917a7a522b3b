package io.rebundle.codec.safetensors;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.DType;

/**
 * Every user-facing safetensors error, built in one place so the wording stays the same in every
 * command: "Cannot read FILE: REASON" for files that contradict the format (exit code 3).
 */
final class SafetensorsErrors {
  private SafetensorsErrors() {}

  static CorruptCheckpointException corrupt(String file, String reason) {
    return new CorruptCheckpointException("Cannot read " + file + ": " + reason);
  }

  static CorruptCheckpointException corruptAt(String file, long offset, String reason) {
    return new CorruptCheckpointException(
        "Cannot read " + file + ": " + reason + " (at byte " + offset + ")");
  }

  static CorruptCheckpointException corruptTensor(String file, String key, String reason) {
    return new CorruptCheckpointException(
        "Cannot read " + file + ": tensor '" + key + "' " + reason);
  }

  static UnsupportedCheckpointException unknownDtype(String file, String key, String dtype) {
    return new UnsupportedCheckpointException(
        "Cannot read "
            + file
            + ": tensor '"
            + key
            + "' has dtype '"
            + dtype
            + "', which Rebundle does not support (supported: "
            + supportedNames()
            + ")");
  }

  static UnsupportedCheckpointException noCounterpart(String key, DType dtype) {
    return new UnsupportedCheckpointException(
        "Cannot write tensor "
            + key
            + " to safetensors: dtype "
            + dtype.displayName()
            + " has no safetensors counterpart (exclude it with a mapping rule)");
  }

  static String supportedNames() {
    StringBuilder sb = new StringBuilder();
    for (SafetensorsDType t : SafetensorsDType.values()) {
      sb.append(sb.length() == 0 ? "" : " ").append(t.name());
    }
    return sb.toString();
  }
}
