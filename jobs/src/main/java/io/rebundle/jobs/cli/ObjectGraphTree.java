package io.rebundle.jobs.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.ObjectGraph;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.NavigableSet;

/** Renders a TF2 object graph as a tree (text) or as JSON. */
final class ObjectGraphTree {
  private ObjectGraphTree() {}

  /**
   * Prints the tree. {@code indexKeys} (the checkpoint's tensor names, null when unknown) shows,
   * for an attribute saved as several tensors (docs/object-graph-attributes.md), which tensors hold
   * it, and marks an attribute whose tensors are missing.
   */
  static void print(PrintWriter out, ObjectGraph graph, NavigableSet<String> keys) {
    out.println("object graph: " + graph.nodes().size() + " nodes");
    boolean[] shown = new boolean[graph.nodes().size()];
    out.println("(root) #0" + attributes(graph.node(0), keys));
    shown[0] = true;
    printChildren(out, graph, keys, 0, "", shown);
    for (int id = 0; id < shown.length; id++) {
      if (!shown[id]) {
        out.println("(unreachable) #" + id + attributes(graph.node(id), keys));
      }
    }
  }

  private static void printChildren(
      PrintWriter out,
      ObjectGraph graph,
      NavigableSet<String> keys,
      int id,
      String indent,
      boolean[] shown) {
    ObjectGraph.Node node = graph.node(id);
    int total = node.children().size() + node.slotVariables().size();
    int i = 0;
    for (ObjectGraph.Child c : node.children()) {
      boolean last = ++i == total;
      String branch = indent + (last ? "└── " : "├── ");
      if (shown[c.nodeId()]) {
        out.println(branch + c.name() + " → #" + c.nodeId() + " (shown above)");
        continue;
      }
      shown[c.nodeId()] = true;
      out.println(branch + c.name() + " #" + c.nodeId() + attributes(graph.node(c.nodeId()), keys));
      printChildren(out, graph, keys, c.nodeId(), indent + (last ? "    " : "│   "), shown);
    }
    for (ObjectGraph.SlotVariable s : node.slotVariables()) {
      boolean last = ++i == total;
      String branch = indent + (last ? "└── " : "├── ");
      shown[s.slotVariableNodeId()] = true;
      out.println(
          branch
              + "slot '"
              + s.slotName()
              + "' of #"
              + s.originalVariableNodeId()
              + " #"
              + s.slotVariableNodeId()
              + attributes(graph.node(s.slotVariableNodeId()), keys));
    }
  }

  private static String attributes(ObjectGraph.Node node, NavigableSet<String> keys) {
    StringBuilder sb = new StringBuilder();
    for (ObjectGraph.Attribute a : node.attributes()) {
      sb.append("  [").append(a.name());
      if (!a.fullName().isEmpty()) {
        sb.append(" full_name=").append(a.fullName());
      }
      sb.append(" key=").append(a.checkpointKey());
      if (keys != null) {
        List<String> tensors = AttributeTensors.of(keys, a.checkpointKey());
        if (tensors.isEmpty()) {
          sb.append(" (not in the index)");
        } else if (!tensors.get(0).equals(a.checkpointKey())) {
          sb.append(" tensors=").append(String.join(",", tensors));
        }
      }
      sb.append(']');
    }
    return sb.toString();
  }

  static void json(JsonGenerator g, ObjectGraph graph) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("nodes");
    for (ObjectGraph.Node n : graph.nodes()) {
      g.writeStartObject();
      g.writeNumberField("id", n.id());
      g.writeArrayFieldStart("children");
      for (ObjectGraph.Child c : n.children()) {
        g.writeStartObject();
        g.writeStringField("name", c.name());
        g.writeNumberField("node_id", c.nodeId());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("attributes");
      for (ObjectGraph.Attribute a : n.attributes()) {
        g.writeStartObject();
        g.writeStringField("name", a.name());
        g.writeStringField("full_name", a.fullName());
        g.writeStringField("checkpoint_key", a.checkpointKey());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("slot_variables");
      for (ObjectGraph.SlotVariable s : n.slotVariables()) {
        g.writeStartObject();
        g.writeNumberField("original_variable_node_id", s.originalVariableNodeId());
        g.writeStringField("slot_name", s.slotName());
        g.writeNumberField("slot_variable_node_id", s.slotVariableNodeId());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (n.hasCheckpointValues() != null) {
        g.writeBooleanField("has_checkpoint_values", n.hasCheckpointValues());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }
}
