package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.graph.ObjectGraph;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * The name each tensor of a checkpoint is matched by when filling a template: a TF1 key as is; a
 * TF2 variable by its {@code full_name} (or, with {@code byPath}, or where the full name is empty
 * or shared, its unescaped object path); a TF2 optimizer slot as {@code <variable name>/<slot
 * name>}. TF1 optimizer slot suffixes are normalised to Keras slot names ({@code Adam}→{@code m},
 * {@code Adam_1}→{@code v}, {@code Momentum}→{@code momentum}) so slots match across formats.
 */
public record VariableNames(
    Map<String, String> byKey,
    String saveCounterKey,
    boolean objectBased,
    Map<String, String> fallbacks,
    Map<String, Slot> slots,
    Set<String> attributes,
    Set<String> unreferenced) {

  /**
   * An optimizer slot: its slot name and the TF1 name of the variable it belongs to (null when that
   * variable has none); the slot's own name is {@code owner/slot}, or its object path without
   * owner.
   */
  public record Slot(String slotName, String owner, int ownerNode) {}

  /** Keras (OptimizerV2) slot names for TF1 slot suffixes (tensorbundle-format.md §6.1, §6.2). */
  static final Map<String, String> TF1_TO_KERAS_SLOT =
      Map.of("Adam", "m", "Adam_1", "v", "Momentum", "momentum");

  /**
   * Names every tensor of {@code index}. For TF2: {@code fallbacks} holds the variables named by
   * object path and why, {@code slots} the optimizer slots, {@code attributes} the tensors that are
   * not variable values (named {@code <path>/<attribute>}), {@code unreferenced} the keys the
   * object graph does not mention (named by themselves). {@code save_counter} and the graph are not
   * named.
   */
  public static VariableNames of(SourceIndex index, boolean byPath) {
    Map<String, String> names = new LinkedHashMap<>();
    if (index.graph() == null) {
      for (IndexRecord r : index.records()) {
        if (!r.isSliceEntry()) {
          names.put(r.name(), normalizeTf1Slot(r.name()));
        }
      }
      return new VariableNames(names, null, false, Map.of(), Map.of(), Set.of(), Set.of());
    }
    ObjectGraph graph = index.graph();
    String[] paths = graph.objectPaths();
    NavigableSet<String> indexKeys = new TreeSet<>();
    for (IndexRecord r : index.records()) {
      if (!r.isSliceEntry()) {
        indexKeys.add(r.name());
      }
    }
    Map<Integer, ObjectGraph.SlotVariable> slotOf = new HashMap<>();
    graph
        .nodes()
        .forEach(n -> n.slotVariables().forEach(s -> slotOf.put(s.slotVariableNodeId(), s)));
    int saveCounterNode = -1;
    for (ObjectGraph.Child c : graph.node(0).children()) {
      if (c.name().equals(Planner.SAVE_COUNTER)) {
        saveCounterNode = c.nodeId();
      }
    }
    // Full names of plain variables (not slots, not save_counter), and how often each occurs.
    Map<String, Integer> fullNameCount = new HashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      if (slotOf.containsKey(n.id()) || n.id() == saveCounterNode) {
        continue;
      }
      for (ObjectGraph.Attribute a : n.attributes()) {
        if (a.name().equals(KeyEscaping.VARIABLE_VALUE) && !a.fullName().isEmpty()) {
          fullNameCount.merge(a.fullName(), 1, Integer::sum);
        }
      }
    }
    String saveCounter = null;
    Map<String, String> fallbacks = new LinkedHashMap<>();
    Map<String, Slot> slots = new LinkedHashMap<>();
    Set<String> attributes = new LinkedHashSet<>();
    Set<String> unreferenced = new LinkedHashSet<>();
    Map<Integer, String> variableName = new HashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      if (slotOf.containsKey(n.id())) {
        continue;
      }
      for (ObjectGraph.Attribute a : n.attributes()) {
        if (n.id() == saveCounterNode) {
          saveCounter = a.checkpointKey();
          continue;
        }
        String path =
            Planner.unescapePath(
                paths[n.id()] == null
                    ? KeyEscaping.objectPathOf(a.checkpointKey())
                    : paths[n.id()]);
        String name;
        if (!a.name().equals(KeyEscaping.VARIABLE_VALUE)) {
          name = path + "/" + KeyEscaping.unescape(a.name());
          // An attribute saved as several tensors (a hash table's -keys and -values,
          // docs/object-graph-attributes.md) names each of them: the attribute's name plus the
          // same suffix, as TF1's saver names a table's specs after the table.
          List<String> tensors = AttributeTensors.of(indexKeys, a.checkpointKey());
          if (tensors.isEmpty() || tensors.get(0).equals(a.checkpointKey())) {
            attributes.add(a.checkpointKey());
          } else {
            for (String k : tensors) {
              attributes.add(k);
              names.put(k, name + k.substring(a.checkpointKey().length()));
            }
            continue;
          }
        } else if (byPath || a.fullName().isEmpty() || fullNameCount.get(a.fullName()) > 1) {
          name = path;
          if (!byPath) {
            fallbacks.put(
                a.checkpointKey(),
                a.fullName().isEmpty()
                    ? "no full_name"
                    : "full_name '"
                        + a.fullName()
                        + "' is shared by "
                        + fullNameCount.get(a.fullName())
                        + " variables");
          }
        } else {
          name = a.fullName();
        }
        names.put(a.checkpointKey(), name);
        if (a.name().equals(KeyEscaping.VARIABLE_VALUE)) {
          variableName.put(n.id(), name);
        }
      }
    }
    for (ObjectGraph.Node n : graph.nodes()) {
      ObjectGraph.SlotVariable s = slotOf.get(n.id());
      if (s == null) {
        continue;
      }
      String owner = variableName.get(s.originalVariableNodeId());
      for (ObjectGraph.Attribute a : n.attributes()) {
        slots.put(a.checkpointKey(), new Slot(s.slotName(), owner, s.originalVariableNodeId()));
        names.put(
            a.checkpointKey(),
            owner == null
                ? Planner.unescapePath(paths[n.id()] == null ? a.checkpointKey() : paths[n.id()])
                : owner + "/" + s.slotName());
      }
    }
    for (IndexRecord r : index.records()) {
      if (!r.isSliceEntry()
          && !names.containsKey(r.name())
          && !r.name().equals(Naming.OBJECT_GRAPH_KEY)
          && !r.name().equals(saveCounter)) {
        names.put(r.name(), r.name());
        unreferenced.add(r.name());
      }
    }
    return new VariableNames(names, saveCounter, true, fallbacks, slots, attributes, unreferenced);
  }

  static String normalizeTf1Slot(String name) {
    int slash = name.lastIndexOf('/');
    if (slash > 0) {
      String keras = TF1_TO_KERAS_SLOT.get(name.substring(slash + 1));
      if (keras != null) {
        return name.substring(0, slash + 1) + keras;
      }
    }
    return name;
  }
}
