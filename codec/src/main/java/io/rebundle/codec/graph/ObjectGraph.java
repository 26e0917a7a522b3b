package io.rebundle.codec.graph;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rebundle.codec.Errors;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.proto.BoolValue;
import io.rebundle.codec.proto.RegisteredSaver;
import io.rebundle.codec.proto.TrackableObjectGraph;
import io.rebundle.codec.proto.TrackableObjectGraph.TrackableObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A TF2 checkpoint's object graph (tensorbundle-format.md §7), as an immutable list of nodes; node
 * 0 is the root. Encodes to the same bytes TensorFlow writes for the same graph.
 */
public record ObjectGraph(List<Node> nodes) {
  /**
   * Deepest object path accepted. Real models nest a few dozen levels; a deeper graph is refused
   * (unsupported) rather than walked, so that no walk, path or printed tree grows without bound.
   */
  public static final int MAX_DEPTH = 1000;

  /**
   * Largest total length, in chars, of all object paths together, counted as {@link #checkSize}
   * says (once per node, once more per attribute, slot paths included).
   */
  public static final long MAX_TOTAL_PATH_CHARS = 64L << 20;

  public ObjectGraph {
    nodes = List.copyOf(nodes);
  }

  /** An edge to another node, named by its unescaped local name. */
  public record Child(int nodeId, String name) {}

  /** A saved tensor of a node: its escaped tensor name, TF1-style full name and index key. */
  public record Attribute(
      String name, String fullName, String checkpointKey, boolean optionalRestore) {
    public Attribute(String name, String fullName, String checkpointKey) {
      this(name, fullName, checkpointKey, false);
    }
  }

  /** An optimizer's slot: which variable, which slot, which node holds it. */
  public record SlotVariable(int originalVariableNodeId, String slotName, int slotVariableNodeId) {}

  /**
   * One trackable object. {@code hasCheckpointValues} is null when the field is absent (older TF);
   * {@code registeredSaver} is null when absent.
   */
  public record Node(
      int id,
      List<Child> children,
      List<Attribute> attributes,
      List<SlotVariable> slotVariables,
      RegisteredSaverRef registeredSaver,
      Boolean hasCheckpointValues) {
    public Node {
      children = List.copyOf(children);
      attributes = List.copyOf(attributes);
      slotVariables = List.copyOf(slotVariables);
    }
  }

  /** A registered saver reference (rare; TPU embeddings). */
  public record RegisteredSaverRef(String name, String objectName) {}

  public Node node(int id) {
    return nodes.get(id);
  }

  public static ObjectGraph parse(byte[] bytes, String source) {
    TrackableObjectGraph proto;
    try {
      proto = TrackableObjectGraph.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw Errors.malformedObjectGraph(
          source, "unparsable TrackableObjectGraph: " + e.getMessage(), e);
    }
    if (proto.getNodesCount() == 0) {
      throw Errors.malformedObjectGraph(
          source, "it has no nodes (TensorFlow always writes the root, node 0)", null);
    }
    List<Node> nodes = new ArrayList<>(proto.getNodesCount());
    int n = proto.getNodesCount();
    for (int id = 0; id < n; id++) {
      TrackableObject o = proto.getNodes(id);
      List<Child> children = new ArrayList<>();
      for (TrackableObject.ObjectReference c : o.getChildrenList()) {
        checkNode(c.getNodeId(), n, source, id, "child " + c.getLocalName());
        children.add(new Child(c.getNodeId(), c.getLocalName()));
      }
      List<Attribute> attrs = new ArrayList<>();
      for (TrackableObject.SerializedTensor t : o.getAttributesList()) {
        attrs.add(
            new Attribute(
                t.getName(), t.getFullName(), t.getCheckpointKey(), t.getOptionalRestore()));
      }
      List<SlotVariable> slots = new ArrayList<>();
      for (TrackableObject.SlotVariableReference s : o.getSlotVariablesList()) {
        checkNode(s.getOriginalVariableNodeId(), n, source, id, "slot " + s.getSlotName());
        checkNode(s.getSlotVariableNodeId(), n, source, id, "slot " + s.getSlotName());
        slots.add(
            new SlotVariable(
                s.getOriginalVariableNodeId(), s.getSlotName(), s.getSlotVariableNodeId()));
      }
      RegisteredSaverRef saver =
          o.hasRegisteredSaver()
              ? new RegisteredSaverRef(
                  o.getRegisteredSaver().getName(), o.getRegisteredSaver().getObjectName())
              : null;
      Boolean has = o.hasHasCheckpointValues() ? o.getHasCheckpointValues().getValue() : null;
      nodes.add(new Node(id, children, attrs, slots, saver, has));
    }
    ObjectGraph graph = new ObjectGraph(nodes);
    graph.checkSize(source);
    return graph;
  }

  /**
   * Breadth-first from the root, without recursion: refuses graphs whose object paths are deeper
   * than {@link #MAX_DEPTH} or whose path characters exceed {@link #MAX_TOTAL_PATH_CHARS} in total.
   * The total counts what the walks over the graph build from the paths, so that it bounds their
   * memory: each reachable node's path once, once more per attribute of the node (readers name
   * attributes {@code <path>/<name>}), and the {@code .OPTIMIZER_SLOT} path of each slot variable
   * node that {@link #objectPaths} names through its slot reference (original variable's path plus
   * optimizer's path), again once per attribute.
   */
  private void checkSize(String source) {
    int[] depth = new int[nodes.size()];
    long[] length = new long[nodes.size()];
    java.util.Arrays.fill(depth, -1);
    depth[0] = 0;
    long total = 0;
    Deque<Integer> queue = new ArrayDeque<>();
    queue.add(0);
    while (!queue.isEmpty()) {
      int id = queue.poll();
      for (Child c : nodes.get(id).children()) {
        if (depth[c.nodeId()] >= 0) {
          continue;
        }
        depth[c.nodeId()] = depth[id] + 1;
        length[c.nodeId()] = length[id] + 1 + KeyEscaping.escape(c.name()).length();
        total += length[c.nodeId()] * (1L + nodes.get(c.nodeId()).attributes().size());
        if (depth[c.nodeId()] > MAX_DEPTH || total > MAX_TOTAL_PATH_CHARS) {
          throw tooLarge(source, depth[c.nodeId()] > MAX_DEPTH, c.nodeId());
        }
        queue.add(c.nodeId());
      }
    }
    // Slot variable nodes not reachable through children get a path built from two others.
    boolean[] slotNamed = new boolean[nodes.size()];
    for (Node node : nodes) {
      if (depth[node.id()] < 0) {
        continue;
      }
      for (SlotVariable s : node.slotVariables()) {
        int slot = s.slotVariableNodeId();
        if (depth[slot] >= 0 || slotNamed[slot] || depth[s.originalVariableNodeId()] < 0) {
          continue;
        }
        slotNamed[slot] = true;
        long path =
            length[s.originalVariableNodeId()]
                + length[node.id()]
                + KeyEscaping.OPTIMIZER_SLOT.length()
                + KeyEscaping.escape(s.slotName()).length()
                + 3;
        total += path * (1L + nodes.get(slot).attributes().size());
        if (total > MAX_TOTAL_PATH_CHARS) {
          throw tooLarge(source, false, slot);
        }
      }
    }
  }

  private static UnsupportedCheckpointException tooLarge(String source, boolean deep, int node) {
    return new UnsupportedCheckpointException(
        String.format(
            "Cannot read the object graph of %s: its object paths are %s (node %d); "
                + "Rebundle reads graphs up to %d levels deep and %d path characters in total",
            source,
            deep
                ? "more than " + MAX_DEPTH + " levels deep"
                : "longer than " + MAX_TOTAL_PATH_CHARS + " characters in total",
            node,
            MAX_DEPTH,
            MAX_TOTAL_PATH_CHARS),
        source,
        null);
  }

  private static void checkNode(int target, int n, String source, int id, String what) {
    if (target < 0 || target >= n) {
      throw Errors.malformedObjectGraph(
          source, String.format("node %d, %s, points to node %d of %d", id, what, target, n), null);
    }
  }

  public byte[] encode() {
    TrackableObjectGraph.Builder g = TrackableObjectGraph.newBuilder();
    for (Node node : nodes) {
      TrackableObject.Builder o = TrackableObject.newBuilder();
      for (Child c : node.children()) {
        o.addChildren(
            TrackableObject.ObjectReference.newBuilder()
                .setNodeId(c.nodeId())
                .setLocalName(c.name()));
      }
      for (Attribute a : node.attributes()) {
        o.addAttributes(
            TrackableObject.SerializedTensor.newBuilder()
                .setName(a.name())
                .setFullName(a.fullName())
                .setCheckpointKey(a.checkpointKey())
                .setOptionalRestore(a.optionalRestore()));
      }
      for (SlotVariable s : node.slotVariables()) {
        o.addSlotVariables(
            TrackableObject.SlotVariableReference.newBuilder()
                .setOriginalVariableNodeId(s.originalVariableNodeId())
                .setSlotName(s.slotName())
                .setSlotVariableNodeId(s.slotVariableNodeId()));
      }
      if (node.registeredSaver() != null) {
        o.setRegisteredSaver(
            RegisteredSaver.newBuilder()
                .setName(node.registeredSaver().name())
                .setObjectName(node.registeredSaver().objectName()));
      }
      if (node.hasCheckpointValues() != null) {
        o.setHasCheckpointValues(BoolValue.newBuilder().setValue(node.hasCheckpointValues()));
      }
      g.addNodes(o);
    }
    return g.build().toByteArray();
  }

  /**
   * Object path of every node reachable through children (breadth-first, first path wins, escaped
   * components joined by {@code /}); slot variable nodes get their {@code .OPTIMIZER_SLOT} path.
   * Unreachable nodes map to null.
   */
  public String[] objectPaths() {
    String[] paths = new String[nodes.size()];
    if (nodes.isEmpty()) {
      return paths;
    }
    paths[0] = "";
    Deque<Integer> queue = new ArrayDeque<>();
    queue.add(0);
    while (!queue.isEmpty()) {
      int id = queue.poll();
      for (Child c : nodes.get(id).children()) {
        if (paths[c.nodeId()] == null) {
          String part = KeyEscaping.escape(c.name());
          paths[c.nodeId()] = paths[id].isEmpty() ? part : paths[id] + "/" + part;
          queue.add(c.nodeId());
        }
      }
    }
    for (Node node : nodes) {
      for (SlotVariable s : node.slotVariables()) {
        if (paths[s.slotVariableNodeId()] == null
            && paths[s.originalVariableNodeId()] != null
            && paths[node.id()] != null) {
          paths[s.slotVariableNodeId()] =
              paths[s.originalVariableNodeId()]
                  + "/"
                  + KeyEscaping.OPTIMIZER_SLOT
                  + "/"
                  + paths[node.id()]
                  + "/"
                  + KeyEscaping.escape(s.slotName());
        }
      }
    }
    return paths;
  }
}
