package io.rebundle.codec.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an object graph exactly as TensorFlow numbers it (tensorbundle-format.md §7.3): objects
 * form a tree (or DAG) of named children; node ids are assigned breadth-first in children order,
 * then slot variables are appended per optimizer. Not thread-safe.
 */
public final class ObjectGraphBuilder {
  private final TrackedObject root = new TrackedObject();
  private boolean withCheckpointValues = true;

  /** A trackable object: ordered named children, attributes, and (for optimizers) slot tables. */
  public static final class TrackedObject {
    private final List<Map.Entry<String, TrackedObject>> children = new ArrayList<>();
    private final List<String[]> attributes = new ArrayList<>();
    private final Map<String, Map<TrackedObject, TrackedObject>> slots = new LinkedHashMap<>();

    /** Adds (or returns the existing) child object under {@code name}. */
    public TrackedObject child(String name) {
      for (Map.Entry<String, TrackedObject> e : children) {
        if (e.getKey().equals(name)) {
          return e.getValue();
        }
      }
      TrackedObject c = new TrackedObject();
      children.add(Map.entry(name, c));
      return c;
    }

    /** Adds an edge to an existing object (a second name or parent for it). */
    public TrackedObject link(String name, TrackedObject target) {
      children.add(Map.entry(name, target));
      return target;
    }

    /** Adds a saved tensor: its (unescaped) tensor name and its TF1-style full name. */
    public TrackedObject attribute(String tensorName, String fullName) {
      attributes.add(new String[] {tensorName, fullName});
      return this;
    }

    /** A variable: one {@code VARIABLE_VALUE} attribute. */
    public TrackedObject variable(String fullName) {
      return attribute(KeyEscaping.VARIABLE_VALUE, fullName);
    }

    /** Registers {@code slot} as this optimizer's slot {@code slotName} of {@code variable}. */
    public TrackedObject slot(TrackedObject variable, String slotName, TrackedObject slot) {
      slots.computeIfAbsent(slotName, k -> new LinkedHashMap<>()).put(variable, slot);
      return slot;
    }
  }

  public TrackedObject root() {
    return root;
  }

  /** Whether to emit {@code has_checkpoint_values} (current TensorFlow does; default true). */
  public ObjectGraphBuilder withCheckpointValues(boolean emit) {
    this.withCheckpointValues = emit;
    return this;
  }

  /** The graph plus, for every attribute in node order, its checkpoint key. */
  public ObjectGraph build() {
    IdentityHashMap<TrackedObject, Integer> ids = new IdentityHashMap<>();
    List<TrackedObject> order = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    ids.put(root, 0);
    order.add(root);
    paths.add("");
    Deque<TrackedObject> queue = new ArrayDeque<>();
    queue.add(root);
    while (!queue.isEmpty()) {
      TrackedObject o = queue.poll();
      String path = paths.get(ids.get(o));
      for (Map.Entry<String, TrackedObject> e : o.children) {
        if (!ids.containsKey(e.getValue())) {
          ids.put(e.getValue(), order.size());
          order.add(e.getValue());
          String part = KeyEscaping.escape(e.getKey());
          paths.add(path.isEmpty() ? part : path + "/" + part);
          queue.add(e.getValue());
        }
      }
    }
    int bfsCount = order.size();
    List<List<ObjectGraph.SlotVariable>> slotRefs = new ArrayList<>();
    for (int i = 0; i < bfsCount; i++) {
      slotRefs.add(new ArrayList<>());
    }
    for (int optId = 0; optId < bfsCount; optId++) {
      TrackedObject opt = order.get(optId);
      for (Map.Entry<String, Map<TrackedObject, TrackedObject>> table : opt.slots.entrySet()) {
        for (int varId = 0; varId < bfsCount; varId++) {
          TrackedObject slot = table.getValue().get(order.get(varId));
          if (slot == null) {
            continue;
          }
          int slotId = order.size();
          ids.put(slot, slotId);
          order.add(slot);
          paths.add(
              paths.get(varId)
                  + "/"
                  + KeyEscaping.OPTIMIZER_SLOT
                  + "/"
                  + paths.get(optId)
                  + "/"
                  + KeyEscaping.escape(table.getKey()));
          slotRefs.get(optId).add(new ObjectGraph.SlotVariable(varId, table.getKey(), slotId));
        }
      }
    }
    boolean[] hasValues = new boolean[order.size()];
    for (int i = 0; i < order.size(); i++) {
      hasValues[i] =
          !order.get(i).attributes.isEmpty() || (i < bfsCount && !slotRefs.get(i).isEmpty());
    }
    // Propagate "has values" to every node from which a node with values is reachable.
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int i = 0; i < order.size(); i++) {
        if (hasValues[i]) {
          continue;
        }
        for (Map.Entry<String, TrackedObject> e : order.get(i).children) {
          if (hasValues[ids.get(e.getValue())]) {
            hasValues[i] = true;
            changed = true;
            break;
          }
        }
      }
    }
    List<ObjectGraph.Node> nodes = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      TrackedObject o = order.get(i);
      List<ObjectGraph.Child> children = new ArrayList<>();
      if (i < bfsCount) {
        for (Map.Entry<String, TrackedObject> e : o.children) {
          children.add(new ObjectGraph.Child(ids.get(e.getValue()), e.getKey()));
        }
      }
      List<ObjectGraph.Attribute> attrs = new ArrayList<>();
      for (String[] a : o.attributes) {
        attrs.add(
            new ObjectGraph.Attribute(
                KeyEscaping.escape(a[0]), a[1], KeyEscaping.attributeKey(paths.get(i), a[0])));
      }
      nodes.add(
          new ObjectGraph.Node(
              i,
              children,
              attrs,
              i < bfsCount ? slotRefs.get(i) : List.of(),
              null,
              withCheckpointValues ? hasValues[i] : null));
    }
    return new ObjectGraph(nodes);
  }
}
