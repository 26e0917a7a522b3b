package io.rebundle.codec.plan;

import java.util.List;

/**
 * What a migration will do: every output entry with the source of its bytes, every source tensor
 * that is dropped with its reason, renames and notes for the report. Nothing is lost silently: each
 * source key is either the source of an output entry or in {@link #dropped()}.
 */
public record MigrationPlan(
    String sourcePrefix,
    CheckpointFormat sourceFormat,
    CheckpointFormat targetFormat,
    List<PlannedTensor> tensors,
    List<Dropped> dropped,
    List<Renamed> renamed,
    List<String> notes)
    implements java.io.Serializable {

  public MigrationPlan {
    tensors = List.copyOf(tensors);
    dropped = List.copyOf(dropped);
    renamed = List.copyOf(renamed);
    notes = List.copyOf(notes);
  }

  /** A source key that does not reach the output, and why. */
  public record Dropped(String key, String reason) implements java.io.Serializable {}

  /** A source key written under a new key. */
  public record Renamed(String from, String to) implements java.io.Serializable {}

  /** Bytes the output data files will hold. */
  public long dataBytes() {
    return tensors.stream().filter(PlannedTensor::hasData).mapToLong(PlannedTensor::size).sum();
  }

  public long dataTensors() {
    return tensors.stream().filter(PlannedTensor::hasData).count();
  }
}
