package io.rebundle.codec.plan;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.graph.ObjectGraph;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata a plan is made from: every index record of the source and, for TF2 checkpoints, its
 * object graph. Kilobytes to megabytes, held on the driver.
 */
public record SourceIndex(
    String prefix, int numShards, List<IndexRecord> records, ObjectGraph graph) {
  public SourceIndex {
    records = List.copyOf(records);
  }

  public CheckpointFormat format() {
    return graph == null ? CheckpointFormat.TF1 : CheckpointFormat.TF2;
  }

  /**
   * Reads the index and object graph. Big-endian sources are refused: migrations copy stored bytes
   * unchanged under a little-endian header (tensorbundle-format.md §4.7), which would misread them.
   */
  public static SourceIndex read(CheckpointReader reader) {
    if (reader.header().bigEndian()) {
      throw new UnsupportedCheckpointException(
          "Cannot migrate checkpoint "
              + reader.prefix()
              + ": its tensor data is big-endian, and migrations write little-endian checkpoints without byte-swapping");
    }
    List<IndexRecord> records = new ArrayList<>();
    reader.records().forEach(records::add);
    ObjectGraph graph = reader.objectGraph();
    return new SourceIndex(reader.prefix(), reader.header().numShards(), records, graph);
  }
}
