package io.rebundle.codec.migrate;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.safetensors.SafetensorsReader;
import io.rebundle.codec.source.TensorSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code convert --to tf1|tf2 model.safetensors DST} (and {@code --template}): a safetensors model
 * as the source of the ordinary migration path. The model is seen as a name-based (TF1) source
 * whose index the planners read like any other ({@link #index}); every tensor is streamed into new
 * TensorBundle shards by {@link MigrationTask.ImportShard} tasks, which compute the CRC32C
 * safetensors does not store. Source data files are never reused whole: they are not TensorBundle
 * data files.
 */
public final class SafetensorsImport {
  private SafetensorsImport() {}

  /** Whether {@code location} is safetensors input (a file, an index json, a model directory). */
  public static boolean isSource(FileIO io, String location) {
    return SafetensorsReader.isSafetensors(io, location);
  }

  /** Opens {@code location}, reports its warnings and returns its {@link #index}. */
  static SourceIndex read(FileIO io, String location, Consumer<String> warnings) {
    try (SafetensorsReader reader = SafetensorsReader.open(io, location)) {
      reader.warnings().forEach(warnings);
      return index(reader);
    }
  }

  /**
   * The model as a planner's source index: one record per tensor, keyed by its safetensors name,
   * sorted as a TensorBundle index sorts its keys (bytewise). Each entry's shard id is the index of
   * the file holding the tensor, its offset the tensor's start in that file's data region, and its
   * CRC32C 0: safetensors stores none, and the import computes the output's as it writes. The
   * index's prefix is where the reader was opened from; there is no object graph.
   */
  public static SourceIndex index(SafetensorsReader reader) {
    List<IndexRecord> records = new ArrayList<>();
    for (TensorSource.SourceTensor t : reader.tensors()) {
      BundleEntry e =
          BundleEntry.of(
              t.dtype(), t.shape(), t.file(), reader.entry(t.name()).begin(), t.size(), 0);
      records.add(new IndexRecord(t.name().getBytes(StandardCharsets.UTF_8), e));
    }
    records.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
    return new SourceIndex(reader.location(), reader.numFiles(), records, null);
  }

  /** What the report says of every import: the source's format and how its bytes are checked. */
  static final String NOTE =
      "source is safetensors (read as name-based keys): every tensor is streamed and its CRC32C "
          + "computed, since safetensors stores none";

  /**
   * {@code plan} with {@link #NOTE} first among its notes, once every output key is known to be
   * possible: safetensors allows a tensor named {@code ""}, a TensorBundle does not.
   */
  static MigrationPlan withNote(MigrationPlan plan) {
    for (PlannedTensor t : plan.tensors()) {
      if (t.targetKey().length == 0) {
        throw Errors.emptyImportKey(plan.sourcePrefix());
      }
    }
    List<String> notes = new ArrayList<>();
    notes.add(NOTE);
    notes.addAll(plan.notes());
    return new MigrationPlan(
        plan.sourcePrefix(),
        plan.sourceFormat(),
        plan.targetFormat(),
        plan.tensors(),
        plan.dropped(),
        plan.renamed(),
        notes);
  }

  /**
   * The checkpoint name a model directory destination gives the import: the source's file name
   * without {@code .safetensors} ({@code model.safetensors} becomes {@code model}), or the model
   * directory's name.
   */
  static String checkpointName(FileIO io, String sourceLocation) {
    String name = io.fileName(sourceLocation);
    if (name.endsWith(SafetensorsReader.EXTENSION)
        && name.length() > SafetensorsReader.EXTENSION.length()) {
      name = name.substring(0, name.length() - SafetensorsReader.EXTENSION.length());
    }
    return name;
  }
}
