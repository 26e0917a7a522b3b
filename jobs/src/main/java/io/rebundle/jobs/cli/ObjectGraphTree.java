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
    printChildren(out, graph, keys, shown);
    for (int id = 0; id < shown.length; id++) {
      if (!shown[id]) {
        out.println("(unreachable) #" + id + attributes(graph.node(id), keys));
      }
    }
  }

  /**
   * Levels drawn with tree lines; deeper lines start with their depth instead, so that a line's
   * length does not grow with the depth (ObjectGraph allows 1000 levels).
   */
  static final int DRAWN_DEPTH = 32;

  /** A node being printed: its id and the next of its children and slots to print. */
  private static final class Frame {
    final int id;
    int next;

    Frame(int id) {
      this.id = id;
    }
  }

  /**
   * Depth-first, in children order, with an explicit stack (no recursion, so any depth the graph
   * allows prints); the indent is one buffer shared by all lines, so memory stays linear in depth.
   */
  private static void printChildren(
      PrintWriter out, ObjectGraph graph, NavigableSet<String> keys, boolean[] shown) {
    java.util.ArrayDeque<Frame> stack = new java.util.ArrayDeque<>();
    StringBuilder indent = new StringBuilder();
    stack.push(new Frame(0));
    while (!stack.isEmpty()) {
      Frame f = stack.peek();
      ObjectGraph.Node node = graph.node(f.id);
      int children = node.children().size();
      int total = children + node.slotVariables().size();
      if (f.next >= total) {
        stack.pop();
        if (!stack.isEmpty() && stack.size() < DRAWN_DEPTH) {
          indent.setLength(indent.length() - 4);
        }
        continue;
      }
      int i = f.next++;
      boolean last = i == total - 1;
      int depth = stack.size();
      String branch =
          (depth <= DRAWN_DEPTH ? indent : new StringBuilder("[depth " + depth + "] "))
              + (last ? "└── " : "├── ");
      if (i < children) {
        ObjectGraph.Child c = node.children().get(i);
        if (shown[c.nodeId()]) {
          out.println(branch + c.name() + " → #" + c.nodeId() + " (shown above)");
          continue;
        }
        shown[c.nodeId()] = true;
        out.println(
            branch + c.name() + " #" + c.nodeId() + attributes(graph.node(c.nodeId()), keys));
        if (depth < DRAWN_DEPTH) {
          indent.append(last ? "    " : "│   ");
        }
        stack.push(new Frame(c.nodeId()));
      } else {
        ObjectGraph.SlotVariable s = node.slotVariables().get(i - children);
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
