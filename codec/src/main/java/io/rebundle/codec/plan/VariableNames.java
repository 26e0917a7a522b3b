package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.graph.ObjectGraph;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The name each tensor of a checkpoint is matched by when filling a template: a TF1 key as is; a TF2
 * variable by its {@code full_name} (or, with {@code byPath}, or where the full name is empty or
 * shared, its unescaped object path); a TF2 optimizer slot as {@code <variable name>/<slot name>}.
 * TF1 optimizer slot suffixes are normalised to Keras slot names ({@code Adam}→{@code m},
 * {@code Adam_1}→{@code v}, {@code Momentum}→{@code momentum}) so slots match across formats.
 */
public record VariableNames(Map<String, String> byKey, String saveCounterKey, boolean objectBased) {

  /** Keras (OptimizerV2) slot names for TF1 slot suffixes (tensorbundle-format.md §6.1, §6.2). */
  static final Map<String, String> TF1_TO_KERAS_SLOT = Map.of("Adam", "m", "Adam_1", "v", "Momentum", "momentum");

  public static VariableNames of(SourceIndex index, boolean byPath) {
    Map<String, String> names = new LinkedHashMap<>();
    if (index.graph() == null) {
      for (IndexRecord r : index.records()) {
        if (!r.isSliceEntry()) {
          names.put(r.name(), normalizeTf1Slot(r.name()));
        }
      }
      return new VariableNames(names, null, false);
    }
    ObjectGraph graph = index.graph();
    String[] paths = graph.objectPaths();
    Map<Integer, ObjectGraph.SlotVariable> slotOf = new HashMap<>();
    graph.nodes().forEach(n -> n.slotVariables().forEach(s -> slotOf.put(s.slotVariableNodeId(), s)));
    Map<String, Integer> fullNameCount = new HashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      for (ObjectGraph.Attribute a : n.attributes()) {
        if (!slotOf.containsKey(n.id()) && !a.fullName().isEmpty()) {
          fullNameCount.merge(a.fullName(), 1, Integer::sum);
        }
      }
    }
    String saveCounter = null;
    Map<Integer, String> variableName = new HashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      if (slotOf.containsKey(n.id())) {
        continue;
      }
      for (ObjectGraph.Attribute a : n.attributes()) {
        String path = Planner.unescapePath(paths[n.id()] == null ? KeyEscaping.objectPathOf(a.checkpointKey()) : paths[n.id()]);
        if (path.equals(Planner.SAVE_COUNTER)) {
          saveCounter = a.checkpointKey();
          continue;
        }
        boolean value = a.name().equals(KeyEscaping.VARIABLE_VALUE);
        String name;
        if (!value) {
          name = path + "/" + KeyEscaping.unescape(a.name());
        } else if (byPath || a.fullName().isEmpty() || fullNameCount.get(a.fullName()) > 1) {
          name = path;
        } else {
          name = a.fullName();
        }
        names.put(a.checkpointKey(), name);
        if (value) {
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
        names.put(a.checkpointKey(), owner == null
            ? Planner.unescapePath(paths[n.id()] == null ? a.checkpointKey() : paths[n.id()])
            : owner + "/" + s.slotName());
      }
    }
    for (IndexRecord r : index.records()) {
      if (!r.isSliceEntry() && !names.containsKey(r.name()) && !r.name().equals(Naming.OBJECT_GRAPH_KEY)
          && !r.name().equals(saveCounter)) {
        names.put(r.name(), r.name());
      }
    }
    return new VariableNames(names, saveCounter, true);
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
