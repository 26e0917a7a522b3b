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
import java.util.function.Consumer;
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

  /** The first value --values could not read: reported (exit 3) once the listing is printed. */
  private RebundleException unreadable;

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
      boolean tf2 = reader.isObjectBased();
      ObjectGraph graph = null;
      String graphError = null;
      if (tf2 && (tree || json)) {
        try {
          graph = reader.objectGraph();
        } catch (RebundleException e) {
          if (!json) {
            // --tree asked for the graph: an unreadable one is the command's failure (exit 3).
            throw e;
          }
          graphError = e.getMessage();
          err.println("rebundle: warning: cannot read the object graph: " + e.getMessage());
        }
      }
      if (json) {
        json(out, reader, tf2, graph, graphError);
        out.println();
      } else {
        printTable(out, reader, tf2);
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
    if (unreadable != null) {
      throw unreadable;
    }
    return ExitCodes.OK;
  }

  /**
   * Streams one row per tensor, in index order, to {@code sink}: the index is read block by block and
   * rows are never collected, so a million entries need no more memory than one. Slice entries sort
   * before every tensor name (their keys start with 0x00), so their sizes are summed before their
   * tensor's row is made.
   */
  static void forEachRow(CheckpointReader reader, Consumer<Row> sink) {
    Map<String, long[]> sliceBytes = new HashMap<>();
    Map<String, TreeSet<Integer>> sliceShards = new HashMap<>();
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
        sink.accept(new Row(key, e, b[0], shards.isEmpty() ? 0 : shards.first(), e.slices().size()));
      } else {
        sink.accept(new Row(key, e, e.size(), e.shardId(), 0));
      }
    }
  }

  /** Two passes over the index: the first sizes the columns and totals, the second prints. */
  private void printTable(PrintWriter out, CheckpointReader reader, boolean tf2) {
    long[] totals = new long[4]; // rows, bytes, key width, shape width
    totals[2] = 3;
    totals[3] = 5;
    forEachRow(reader, r -> {
      totals[0]++;
      totals[1] += r.bytes();
      totals[2] = Math.max(totals[2], r.key().length());
      totals[3] = Math.max(totals[3], r.entry().shape().toString().length());
    });
    out.print("prefix: " + reader.prefix() + "\n");
    out.print("format: " + (tf2 ? "tf2 (object-based)" : "tf1 (name-based)") + ", " + reader.header().numShards()
        + " shard" + (reader.header().numShards() == 1 ? "" : "s") + ", " + totals[0] + " tensors, " + totals[1]
        + " bytes\n");
    int keyWidth = (int) totals[2];
    int shapeWidth = (int) totals[3];
    StringBuilder line = new StringBuilder(256);
    row(line, keyWidth, shapeWidth, "KEY", "DTYPE", "SHAPE", "BYTES", "SHARD", "SLICES");
    out.print(line);
    forEachRow(reader, r -> {
      line.setLength(0);
      row(line, keyWidth, shapeWidth, r.key(), r.entry().dtypeName(), r.entry().shape().toString(),
          Long.toString(r.bytes()), Integer.toString(r.shard()), Integer.toString(r.slices()));
      out.print(line);
      if (values) {
        out.println(indent(valueOf(reader, r)));
      }
    });
  }

  /** One table line; the same layout as {@code %-Ks  %-10s  %-Ss  %12s  %5s  %6s}, without Formatter's cost. */
  private static void row(StringBuilder sb, int keyWidth, int shapeWidth, String key, String dtype, String shape,
      String bytes, String shard, String slices) {
    left(sb, key, keyWidth).append("  ");
    left(sb, dtype, 10).append("  ");
    left(sb, shape, shapeWidth).append("  ");
    right(sb, bytes, 12).append("  ");
    right(sb, shard, 5).append("  ");
    right(sb, slices, 6).append('\n');
  }

  private static StringBuilder left(StringBuilder sb, String s, int width) {
    sb.append(s);
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb;
  }

  private static StringBuilder right(StringBuilder sb, String s, int width) {
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb.append(s);
  }

  private String valueOf(CheckpointReader reader, Row r) {
    if (r.key().equals(Naming.OBJECT_GRAPH_KEY)) {
      return "(serialized object graph, " + r.bytes() + " bytes; see --tree)";
    }
    try {
      Tensor t = reader.read(r.key(), r.entry());
      return ValueFormatter.format(t, maxElements);
    } catch (RebundleException e) {
      if (unreadable == null) {
        unreadable = e;
      }
      return "(cannot read: " + e.getMessage() + ")";
    }
  }

  private static String indent(String s) {
    return "    " + s.replace("\n", "\n    ");
  }

  private void json(PrintWriter out, CheckpointReader reader, boolean tf2, ObjectGraph graph, String graphError) {
    Json j = new Json(out).beginObject()
        .field("prefix", reader.prefix())
        .field("format", tf2 ? "tf2" : "tf1")
        .field("num_shards", reader.header().numShards());
    j.key("tensors").beginArray();
    forEachRow(reader, r -> {
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
    });
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
    j.endObject();
  }

}
