package io.rebundle.codec.plan;

/**
 * What the user asked for. {@code rootName} is the TF2 root attribute that holds the converted
 * variables ({@code vars} in TensorFlow's migration guide); {@code keepOptimizer} keeps optimizer
 * slot variables in TF2 to TF1 conversions; {@code mergeSlices} writes partitioned variables as
 * full tensors.
 */
public record MigrationSpec(
    CheckpointFormat target, String rootName, boolean keepOptimizer, boolean mergeSlices)
    implements java.io.Serializable {
  public static final String DEFAULT_ROOT = "vars";

  public MigrationSpec {
    if (target == null) {
      throw new IllegalArgumentException("Invalid migration: no target format");
    }
    if (rootName == null || rootName.isEmpty()) {
      throw new IllegalArgumentException("Invalid root name: it must not be empty");
    }
    if (rootName.equals(Planner.SAVE_COUNTER)) {
      throw new IllegalArgumentException(
          "Invalid root name: " + rootName + " collides with the checkpoint's own save_counter");
    }
  }

  public static MigrationSpec to(CheckpointFormat target) {
    return new MigrationSpec(target, DEFAULT_ROOT, false, false);
  }
}
