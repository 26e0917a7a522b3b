package io.rebundle.codec.plan;

import java.util.Locale;

/** The two checkpoint flavours stored in the TensorBundle format. */
public enum CheckpointFormat {
  /** Name-based ({@code tf.compat.v1.train.Saver}): keys are variable names. */
  TF1,
  /** Object-based ({@code tf.train.Checkpoint}): keys are object paths, plus an object graph. */
  TF2;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static CheckpointFormat parse(String s) {
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "tf1" -> TF1;
      case "tf2" -> TF2;
      default ->
          throw new IllegalArgumentException("Invalid format: " + s + " (expected tf1 or tf2)");
    };
  }
}
