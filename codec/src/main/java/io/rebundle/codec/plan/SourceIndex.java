package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.graph.ObjectGraph;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata a plan is made from: every index record of the source and, for TF2 checkpoints, its
 * object graph. Kilobytes to megabytes, held on the driver.
 */
public record SourceIndex(String prefix, int numShards, List<IndexRecord> records, ObjectGraph graph) {
  public SourceIndex {
    records = List.copyOf(records);
  }

  public CheckpointFormat format() {
    return graph == null ? CheckpointFormat.TF1 : CheckpointFormat.TF2;
  }

  /**
   * Reads the metadata of an opened checkpoint. Big-endian bundles are refused: their bytes would be
   * copied unchanged into a little-endian output and misread.
   */
  public static SourceIndex read(CheckpointReader reader) {
    if (reader.header().bigEndian()) {
      throw new io.rebundle.codec.UnsupportedCheckpointException("Cannot migrate " + reader.prefix()
          + ": it is a big-endian bundle; converting its tensor bytes to little-endian is not supported");
    }
    List<IndexRecord> records = new ArrayList<>();
    reader.records().forEach(records::add);
    ObjectGraph graph = reader.objectGraph();
    return new SourceIndex(reader.prefix(), reader.header().numShards(), records, graph);
  }
}
