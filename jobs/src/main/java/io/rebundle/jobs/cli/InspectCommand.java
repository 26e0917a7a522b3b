package io.rebundle.jobs.cli;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code inspect}: what a checkpoint holds, from its index (and its object graph). */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = {"List the tensors of a checkpoint: key, dtype, shape, bytes, shard, slices.",
        "Reads only the index (values and the TF2 object graph need the data files)."})
public final class InspectCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "PATH",
      description = "A checkpoint prefix, a model directory with a 'checkpoint' file, or a SavedModel directory.")
  String path;

  @Option(names = "--values", description = "Print each tensor's values, numpy style.")
  boolean values;

  @Option(names = "--max-elements", paramLabel = "N", defaultValue = "10",
      description = "With --values, elide after N elements (default: ${DEFAULT-VALUE}).")
  int maxElements;

  @Option(names = "--tree", description = "Print the TF2 object graph as a tree.")
  boolean tree;

  @Option(names = "--json", description = "Print one JSON object on stdout instead of tables.")
  boolean json;

  /** One row: a tensor, with its slice entries folded in. */
  record Row(String key, BundleEntry entry, long bytes, int shard, int slices) {}

  @Override
  public Integer call() {
    if (maxElements < 1) {
      throw new UsageException("Invalid --max-elements: " + maxElements + " (must be at least 1)");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (CheckpointReader reader = CheckpointReader.open(StorageOptions.forLocation(path), path)) {
      reader.warnings().forEach(w -> err.println("rebundle: warning: " + w));
      List<Row> rows = rows(reader);
      boolean tf2 = rows.stream().anyMatch(r -> r.key().equals(Naming.OBJECT_GRAPH_KEY));
      ObjectGraph graph = null;
      String graphError = null;
      if (tf2 && (tree || json)) {
        try {
          graph = reader.objectGraph();
        } catch (RebundleException e) {
          graphError = e.getMessage();
          err.println("rebundle: warning: cannot read the object graph: " + e.getMessage());
        }
      }
      if (json) {
        out.println(json(reader, rows, tf2, graph, graphError));
      } else {
        printTable(out, reader, rows, tf2);
        if (tree && graph != null) {
          out.println();
          ObjectGraphTree.print(out, graph);
        } else if (tree && !tf2) {
          out.println();
          out.println("(no object graph: a TF1 name-based checkpoint)");
        }
      }
      out.flush();
    }
    return ExitCodes.OK;
  }

  static List<Row> rows(CheckpointReader reader) {
    Map<String, long[]> sliceBytes = new HashMap<>();
    Map<String, TreeSet<Integer>> sliceShards = new HashMap<>();
    List<Row> rows = new ArrayList<>();
    for (IndexRecord r : reader.records()) {
      if (r.isSliceEntry()) {
        String name = SliceKeys.decode(r.key()).name();
        sliceBytes.computeIfAbsent(name, k -> new long[1])[0] += r.entry().size();
        sliceShards.computeIfAbsent(name, k -> new TreeSet<>()).add(r.entry().shardId());
        continue;
      }
      String key = r.name();
      BundleEntry e = r.entry();
      if (e.isSliced()) {
        long[] b = sliceBytes.getOrDefault(key, new long[1]);
        TreeSet<Integer> shards = sliceShards.getOrDefault(key, new TreeSet<>());
        rows.add(new Row(key, e, b[0], shards.isEmpty() ? 0 : shards.first(), e.slices().size()));
      } else {
        rows.add(new Row(key, e, e.size(), e.shardId(), 0));
      }
    }
    return rows;
  }

  private void printTable(PrintWriter out, CheckpointReader reader, List<Row> rows, boolean tf2) {
    long total = rows.stream().mapToLong(Row::bytes).sum();
    out.printf("prefix: %s%n", reader.prefix());
    out.printf("format: %s, %d shard%s, %d tensors, %d bytes%n",
        tf2 ? "tf2 (object-based)" : "tf1 (name-based)", reader.header().numShards(),
        reader.header().numShards() == 1 ? "" : "s", rows.size(), total);
    int keyWidth = Math.max(3, rows.stream().mapToInt(r -> r.key().length()).max().orElse(3));
    int shapeWidth = Math.max(5, rows.stream().mapToInt(r -> r.entry().shape().toString().length()).max().orElse(5));
    String fmt = "%-" + keyWidth + "s  %-10s  %-" + shapeWidth + "s  %12s  %5s  %6s%n";
    out.printf(fmt, "KEY", "DTYPE", "SHAPE", "BYTES", "SHARD", "SLICES");
    // Format each row into a private buffer: PrintWriter.printf pads one synchronized char write at
    // a time, which dominated listing a million-entry index.
    StringBuilder line = new StringBuilder();
    java.util.Formatter formatter = new java.util.Formatter(line);
    for (Row r : rows) {
      line.setLength(0);
      formatter.format(fmt, r.key(), r.entry().dtypeName(), r.entry().shape(), r.bytes(), r.shard(), r.slices());
      out.append(line);
      if (values) {
        out.println(indent(valueOf(reader, r)));
      }
    }
  }

  private String valueOf(CheckpointReader reader, Row r) {
    if (r.key().equals(Naming.OBJECT_GRAPH_KEY)) {
      return "(serialized object graph, " + r.bytes() + " bytes; see --tree)";
    }
    try {
      Tensor t = reader.read(r.key(), r.entry());
      return ValueFormatter.format(t, maxElements);
    } catch (RebundleException e) {
      return "(cannot read: " + e.getMessage() + ")";
    }
  }

  private static String indent(String s) {
    return "    " + s.replace("\n", "\n    ");
  }

  private String json(CheckpointReader reader, List<Row> rows, boolean tf2, ObjectGraph graph, String graphError) {
    Json j = new Json().beginObject()
        .field("prefix", reader.prefix())
        .field("format", tf2 ? "tf2" : "tf1")
        .field("num_shards", reader.header().numShards());
    j.key("tensors").beginArray();
    for (Row r : rows) {
      j.beginObject().field("key", r.key()).field("dtype", r.entry().dtypeName());
      j.key("shape").beginArray();
      for (long d : r.entry().shape().dims()) {
        j.value(d);
      }
      j.endArray();
      j.field("bytes", r.bytes()).field("shard", r.shard()).field("slices", r.slices());
      if (values) {
        j.field("value", valueOf(reader, r));
      }
      j.endObject();
    }
    j.endArray();
    if (tf2) {
      j.key("object_graph");
      if (graph == null) {
        j.value((String) null);
        j.field("object_graph_error", graphError);
      } else {
        ObjectGraphTree.json(j, graph);
      }
    }
    return j.endObject().toString();
  }
}
