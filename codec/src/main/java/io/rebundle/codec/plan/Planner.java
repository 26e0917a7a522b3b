package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a source index and a {@link MigrationSpec} into a {@link MigrationPlan}. Pure metadata work:
 * no tensor bytes are read.
 *
 * <ul>
 *   <li>TF1 to TF2 is TensorFlow's migration-guide conversion, {@code Checkpoint(<root>={name: var})}:
 *       keys {@code <root>/<escaped name>/.ATTRIBUTES/VARIABLE_VALUE}, a {@code save_counter} of 1, and
 *       the object graph TensorFlow builds for it, with each variable's original TF1 name as its
 *       {@code full_name} so name-based restores keep working.
 *   <li>TF2 to TF1 names each variable by its {@code full_name}, falling back to its unescaped object
 *       path where the full name is empty or shared; drops {@code save_counter}, the object graph and
 *       (unless asked to keep them) optimizer slots, each with its reason.
 *   <li>Same format: keys unchanged, a plain copy into the new shard layout.
 * </ul>
 */
public final class Planner {
  public static final String SAVE_COUNTER = "save_counter";
  static final String VALUE_SUFFIX = "/" + KeyEscaping.ATTRIBUTES + "/" + KeyEscaping.VARIABLE_VALUE;

  private final SourceIndex source;
  private final MigrationSpec spec;
  private final List<PlannedTensor> tensors = new ArrayList<>();
  private final List<MigrationPlan.Dropped> dropped = new ArrayList<>();
  private final List<MigrationPlan.Renamed> renamed = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Map<String, String> targetOwners = new HashMap<>();

  private Planner(SourceIndex source, MigrationSpec spec) {
    this.source = source;
    this.spec = spec;
  }

  public static MigrationPlan plan(SourceIndex source, MigrationSpec spec) {
    return new Planner(source, spec).run();
  }

  private MigrationPlan run() {
    CheckpointFormat from = source.format();
    Map<String, String> names;
    if (from == CheckpointFormat.TF1 && spec.target() == CheckpointFormat.TF2) {
      names = tf1ToTf2Names();
    } else if (from == CheckpointFormat.TF2 && spec.target() == CheckpointFormat.TF1) {
      names = tf2ToTf1Names();
    } else {
      names = identityNames();
    }
    emit(names);
    if (from == CheckpointFormat.TF1 && spec.target() == CheckpointFormat.TF2) {
      addTf2Bookkeeping(names);
    }
    return new MigrationPlan(source.prefix(), from, spec.target(), tensors, dropped, renamed, notes);
  }

  /** Every full tensor name of the source (slice entries excluded), in index order. */
  private List<IndexRecord> fullRecords() {
    return source.records().stream().filter(r -> !r.isSliceEntry()).toList();
  }

  private Map<String, String> identityNames() {
    Map<String, String> names = new LinkedHashMap<>();
    for (IndexRecord r : fullRecords()) {
      names.put(r.name(), r.name());
    }
    return names;
  }

  private Map<String, String> tf1ToTf2Names() {
    Map<String, String> names = new LinkedHashMap<>();
    for (IndexRecord r : fullRecords()) {
      names.put(r.name(), tf2Key(spec.rootName(), r.name()));
    }
    return names;
  }

  static String tf2Key(String root, String tf1Name) {
    return KeyEscaping.escape(root) + "/" + KeyEscaping.escape(tf1Name) + VALUE_SUFFIX;
  }

  /** The TF2 side of TF1 to TF2: save_counter and the object graph, as TensorFlow builds them. */
  private void addTf2Bookkeeping(Map<String, String> names) {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject dict = b.root().child(spec.rootName());
    b.root().child(SAVE_COUNTER).variable(SAVE_COUNTER);
    TreeMap<String, String> sorted = new TreeMap<>(Bytes.KEY_ORDER);
    names.forEach((from, to) -> {
      if (to != null) {
        sorted.put(from, to);
      }
    });
    for (String tf1Name : sorted.keySet()) {
      dict.child(tf1Name).variable(tf1Name);
    }
    byte[] counter = new byte[8];
    counter[0] = 1;
    addLiteral(SAVE_COUNTER + VALUE_SUFFIX, DType.INT64, counter, Crc32c.mask(Crc32c.of(counter)));
    StringTensors.Encoded graph = StringTensors.encode(List.of(b.build().encode()));
    addLiteral(Naming.OBJECT_GRAPH_KEY, DType.STRING, graph.bytes(), graph.maskedCrc());
  }

  private void addLiteral(String key, DType dtype, byte[] bytes, int crc) {
    claim(key, "(generated " + key + ")");
    tensors.add(PlannedTensor.literal(Bytes.utf8(key), dtype, TensorShape.SCALAR, bytes, crc));
  }

  private Map<String, String> tf2ToTf1Names() {
    ObjectGraph graph = source.graph();
    String[] paths = graph.objectPaths();
    Map<Integer, ObjectGraph.SlotVariable> slotOf = new HashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      for (ObjectGraph.SlotVariable s : n.slotVariables()) {
        slotOf.put(s.slotVariableNodeId(), s);
      }
    }
    int saveCounterNode = -1;
    for (ObjectGraph.Child c : graph.node(0).children()) {
      if (c.name().equals(SAVE_COUNTER)) {
        saveCounterNode = c.nodeId();
      }
    }
    // Full names of plain variables, and how often each occurs.
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
    Map<String, String> names = new LinkedHashMap<>();
    Map<Integer, String> variableName = new HashMap<>();
    List<String> fallbacks = new ArrayList<>();
    // Plain variables and other attributes first, so slots can name themselves after their variable.
    for (ObjectGraph.Node n : graph.nodes()) {
      if (slotOf.containsKey(n.id())) {
        continue;
      }
      for (ObjectGraph.Attribute a : n.attributes()) {
        String key = a.checkpointKey();
        if (n.id() == saveCounterNode) {
          names.put(key, null);
          dropped.add(new MigrationPlan.Dropped(key, "save_counter: TF2 bookkeeping, unknown to TF1"));
          continue;
        }
        String path = unescapePath(paths[n.id()] == null ? KeyEscaping.objectPathOf(key) : paths[n.id()]);
        String name;
        if (a.name().equals(KeyEscaping.VARIABLE_VALUE)) {
          if (!a.fullName().isEmpty() && fullNameCount.get(a.fullName()) == 1) {
            name = a.fullName();
          } else {
            name = path;
            fallbacks.add(key + " -> " + name + (a.fullName().isEmpty() ? " (no full_name)"
                : " (full_name '" + a.fullName() + "' is shared by " + fullNameCount.get(a.fullName()) + " variables)"));
          }
          variableName.put(n.id(), name);
        } else {
          name = path + "/" + KeyEscaping.unescape(a.name());
          notes.add("Attribute " + key + " is not a variable value; kept under its object path " + name);
        }
        names.put(key, name);
      }
    }
    for (ObjectGraph.Node n : graph.nodes()) {
      ObjectGraph.SlotVariable slot = slotOf.get(n.id());
      if (slot == null) {
        continue;
      }
      for (ObjectGraph.Attribute a : n.attributes()) {
        String key = a.checkpointKey();
        String owner = variableName.get(slot.originalVariableNodeId());
        if (spec.keepOptimizer() && owner != null) {
          names.put(key, owner + "/" + slot.slotName());
        } else {
          names.put(key, null);
          dropped.add(new MigrationPlan.Dropped(key, "optimizer slot '" + slot.slotName() + "' of "
              + (owner == null ? "node " + slot.originalVariableNodeId() : owner)
              + (spec.keepOptimizer() ? ": its variable has no TF1 name" : " (use --keep-optimizer to keep it)")));
        }
      }
    }
    if (!fallbacks.isEmpty()) {
      notes.add(fallbacks.size() + " variable(s) had no usable full_name and were named by object path: "
          + String.join("; ", fallbacks));
    }
    for (IndexRecord r : fullRecords()) {
      String key = r.name();
      if (key.equals(Naming.OBJECT_GRAPH_KEY)) {
        names.put(key, null);
        dropped.add(new MigrationPlan.Dropped(key, "object graph: TF2 only"));
      } else if (!names.containsKey(key)) {
        names.put(key, key);
        notes.add("Key " + key + " is not referenced by the object graph; kept as is");
      }
    }
    return names;
  }

  /** {@code vars/scoped.Sc} becomes {@code vars/scoped/c}. */
  static String unescapePath(String path) {
    if (path == null) {
      return "";
    }
    String[] parts = path.split("/", -1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(KeyEscaping.unescape(parts[i]));
    }
    return sb.toString();
  }

  private void claim(String target, String source) {
    String previous = targetOwners.putIfAbsent(target, source);
    if (previous != null) {
      throw new MigrationException("Cannot plan migration of " + this.source.prefix() + ": " + previous
          + " and " + source + " both map to " + target);
    }
  }

  /** Emits output entries for every source record under the target names. */
  private void emit(Map<String, String> names) {
    Map<String, List<PlannedTensor.SlicePart>> slicesOf = new HashMap<>();
    for (IndexRecord r : source.records()) {
      if (r.isSliceEntry()) {
        SliceKeys.Decoded d = SliceKeys.decode(r.key());
        slicesOf.computeIfAbsent(d.name(), k -> new ArrayList<>())
            .add(new PlannedTensor.SlicePart(d.slice(), r.key(), r.entry()));
      }
    }
    for (IndexRecord r : fullRecords()) {
      String from = r.name();
      String to = names.get(from);
      BundleEntry e = r.entry();
      List<PlannedTensor.SlicePart> parts = slicesOf.remove(from);
      if (to == null) {
        if (!names.containsKey(from)) {
          dropped.add(new MigrationPlan.Dropped(from, "no target name"));
        }
        if (parts != null) {
          for (PlannedTensor.SlicePart p : parts) {
            dropped.add(new MigrationPlan.Dropped(Bytes.printable(p.sourceKey()), "slice of dropped tensor " + from));
          }
        }
        continue;
      }
      claim(to, from);
      if (!to.equals(from)) {
        renamed.add(new MigrationPlan.Renamed(from, to));
      }
      byte[] target = Bytes.utf8(to);
      if (!e.isSliced()) {
        tensors.add(PlannedTensor.copy(target, r.key(), e));
        continue;
      }
      List<PlannedTensor.SlicePart> found = parts == null ? List.of() : parts;
      if (spec.mergeSlices()) {
        if (!DType.isKnown(e.dtypeCode()) || !e.dtype().isFixedSize()) {
          // Each slice of a string tensor is its own encoding (lengths, length CRC, bytes): the
          // slices cannot be concatenated, and a merged size of elements * -1 bytes means nothing.
          throw new MigrationException("Cannot plan migration of " + source.prefix() + ": sliced tensor " + from
              + " has dtype " + e.dtypeName() + ", whose slices cannot be merged (only fixed-size dtypes can); "
              + "convert without --merge-slices to keep its slices");
        }
        tensors.add(PlannedTensor.merge(target, r.key(), e, orderedParts(from, e, found)));
        notes.add("Sliced tensor " + from + " merged from " + found.size() + " slices");
      } else {
        tensors.add(PlannedTensor.sliced(target, r.key(), e));
        for (PlannedTensor.SlicePart p : orderedParts(from, e, found)) {
          tensors.add(PlannedTensor.copy(SliceKeys.encode(to, p.slice()), p.sourceKey(), p.entry()));
        }
      }
    }
    slicesOf.forEach((name, parts) -> parts.forEach(p -> dropped.add(new MigrationPlan.Dropped(
        Bytes.printable(p.sourceKey()), "slice entry without a full entry for " + name))));
  }

  /** The stored slices of a full entry, in its list order; a missing one is corruption. */
  private List<PlannedTensor.SlicePart> orderedParts(String name, BundleEntry full, List<PlannedTensor.SlicePart> found) {
    List<PlannedTensor.SlicePart> ordered = new ArrayList<>();
    for (TensorSlice s : full.slices()) {
      PlannedTensor.SlicePart match = found.stream().filter(p -> p.slice().equals(s)).findFirst().orElse(null);
      if (match == null) {
        throw new io.rebundle.codec.CorruptCheckpointException("Cannot plan migration of " + source.prefix()
            + ": sliced tensor " + name + " lists slice " + s + " but its slice entry is missing from the index");
      }
      ordered.add(match);
    }
    return ordered;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
