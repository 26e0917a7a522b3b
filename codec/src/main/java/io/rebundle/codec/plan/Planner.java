package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.graph.AttributeTensors;
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
 * Turns a source index and a {@link MigrationSpec} into a {@link MigrationPlan}. Pure metadata
 * work: no tensor bytes are read.
 *
 * <ul>
 *   <li>TF1 to TF2 is TensorFlow's migration-guide conversion, {@code Checkpoint(<root>={name:
 *       var})}: keys {@code <root>/<escaped name>/.ATTRIBUTES/VARIABLE_VALUE}, a {@code
 *       save_counter} of 1, and the object graph TensorFlow builds for it, with each variable's
 *       original TF1 name as its {@code full_name} so name-based restores keep working.
 *   <li>TF2 to TF1 names each variable by its {@code full_name}, falling back to its unescaped
 *       object path where the full name is empty or shared; drops {@code save_counter}, the object
 *       graph and (unless asked to keep them) optimizer slots, each with its reason.
 *   <li>Same format: keys unchanged, a plain copy into the new shard layout.
 * </ul>
 */
public final class Planner {
  public static final String SAVE_COUNTER = "save_counter";
  static final String VALUE_SUFFIX =
      "/" + KeyEscaping.ATTRIBUTES + "/" + KeyEscaping.VARIABLE_VALUE;

  private final SourceIndex source;
  private final MigrationSpec spec;
  private final MappingRules rules;

  /**
   * Target key to target logical name (a TF1-style name or object path), for transforms and graphs.
   */
  private final Map<String, String> logicalTarget = new LinkedHashMap<>();

  private final List<PlannedTensor> tensors = new ArrayList<>();
  private final List<MigrationPlan.Dropped> dropped = new ArrayList<>();
  private final List<MigrationPlan.Renamed> renamed = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Map<String, String> targetOwners = new HashMap<>();

  private Planner(SourceIndex source, MigrationSpec spec, MappingRules rules) {
    this.source = source;
    this.spec = spec;
    this.rules = rules;
  }

  public static MigrationPlan plan(SourceIndex source, MigrationSpec spec) {
    return plan(source, spec, MappingRules.none());
  }

  public static MigrationPlan plan(SourceIndex source, MigrationSpec spec, MappingRules rules) {
    return new Planner(source, spec, rules).run();
  }

  private MigrationPlan run() {
    CheckpointFormat from = source.format();
    CheckpointFormat to = spec.target();
    Map<String, List<String>> keys = new LinkedHashMap<>();
    if (rules.isEmpty()) {
      Map<String, String> names;
      if (from == CheckpointFormat.TF1 && to == CheckpointFormat.TF2) {
        names = identityNames();
        names.forEach(
            (k, v) -> {
              String key = tf2Key(spec.rootName(), v);
              logicalTarget.put(key, v);
              keys.put(k, List.of(key));
            });
      } else {
        names =
            from == CheckpointFormat.TF2 && to == CheckpointFormat.TF1
                ? tf2ToTf1Names()
                : identityNames();
        names.forEach(
            (k, v) -> {
              keys.put(k, v == null ? List.of() : List.of(v));
              if (v != null) {
                logicalTarget.put(v, v);
              }
            });
      }
    } else {
      mapWithRules(from, to, keys);
    }
    emit(keys);
    if (to == CheckpointFormat.TF2 && (from == CheckpointFormat.TF1 || !rules.isEmpty())) {
      addTf2Bookkeeping();
    }
    return new MigrationPlan(source.prefix(), from, to, tensors, dropped, renamed, notes);
  }

  /** Object path and attribute name of each TF2 source key (for restructuring TF2 to TF2). */
  private final Map<String, String[]> tf2Attr = new HashMap<>();

  private void mapWithRules(
      CheckpointFormat from, CheckpointFormat to, Map<String, List<String>> keys) {
    Map<String, String> logical;
    if (from == CheckpointFormat.TF1) {
      logical = identityNames();
    } else if (to == CheckpointFormat.TF1) {
      logical = tf2ToTf1Names();
    } else {
      logical = tf2Paths();
    }
    List<String> names =
        new ArrayList<>(
            new java.util.LinkedHashSet<>(
                logical.values().stream().filter(java.util.Objects::nonNull).toList()));
    NameMapper.Result m = NameMapper.map(names, rules, source.prefix());
    dropped.addAll(m.dropped());
    m.warnings().forEach(w -> notes.add("warning: " + w));
    for (Map.Entry<String, String> e : logical.entrySet()) {
      String sourceKey = e.getKey();
      List<String> targets = e.getValue() == null ? null : m.targets().get(e.getValue());
      if (targets == null) {
        keys.put(sourceKey, List.of());
        continue;
      }
      List<String> out = new ArrayList<>();
      for (String t : targets) {
        String key;
        if (to == CheckpointFormat.TF1) {
          key = t;
        } else if (from == CheckpointFormat.TF1) {
          key = tf2Key(spec.rootName(), t);
        } else {
          String[] pa = tf2Attr.get(sourceKey);
          key =
              pa == null
                  ? t
                  : escapePath(t)
                      + "/"
                      + KeyEscaping.ATTRIBUTES
                      + "/"
                      + KeyEscaping.escape(pa[1])
                      + pa[3];
        }
        logicalTarget.put(key, t);
        out.add(key);
      }
      keys.put(sourceKey, out);
    }
  }

  /** TF2 source keys by unescaped object path; save_counter, slots and the graph handled apart. */
  private Map<String, String> tf2Paths() {
    ObjectGraph graph = source.graph();
    String[] paths = graph.objectPaths();
    java.util.Set<Integer> slots = new java.util.HashSet<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      n.slotVariables().forEach(sv -> slots.add(sv.slotVariableNodeId()));
    }
    java.util.NavigableSet<String> indexKeys = new java.util.TreeSet<>();
    fullRecords().forEach(r -> indexKeys.add(r.name()));
    Map<String, String> logical = new LinkedHashMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      for (ObjectGraph.Attribute a : n.attributes()) {
        // An attribute saved as several tensors (docs/object-graph-attributes.md) moves as a
        // whole: each tensor keeps its suffix after the attribute's new key.
        List<String> tensors = AttributeTensors.of(indexKeys, a.checkpointKey());
        if (tensors.isEmpty()) {
          tensors = List.of(a.checkpointKey());
        }
        for (String key : tensors) {
          String suffix = key.substring(a.checkpointKey().length());
          tf2PathOf(logical, slots, paths, n, a, key, suffix);
        }
      }
    }
    for (IndexRecord r : fullRecords()) {
      if (r.name().equals(Naming.OBJECT_GRAPH_KEY)) {
        logical.put(r.name(), null);
        dropped.add(
            new MigrationPlan.Dropped(r.name(), "object graph: rebuilt for the new structure"));
      } else if (!logical.containsKey(r.name())) {
        logical.put(r.name(), null);
        dropped.add(new MigrationPlan.Dropped(r.name(), "not referenced by the object graph"));
      }
    }
    return logical;
  }

  /** Plans one tensor {@code key} of attribute {@code a} of node {@code n} for a restructure. */
  private void tf2PathOf(
      Map<String, String> logical,
      java.util.Set<Integer> slots,
      String[] paths,
      ObjectGraph.Node n,
      ObjectGraph.Attribute a,
      String key,
      String suffix) {
    if (slots.contains(n.id())) {
      logical.put(key, null);
      dropped.add(
          new MigrationPlan.Dropped(key, "optimizer slot: not carried through a restructure"));
    } else if (paths[n.id()] != null && paths[n.id()].equals(SAVE_COUNTER)) {
      logical.put(key, null);
      dropped.add(new MigrationPlan.Dropped(key, "save_counter: regenerated"));
    } else {
      String path =
          unescapePath(paths[n.id()] == null ? KeyEscaping.objectPathOf(key) : paths[n.id()]);
      logical.put(key, path);
      tf2Attr.put(key, new String[] {path, a.name(), a.fullName(), suffix});
    }
  }

  static String escapePath(String path) {
    String[] parts = path.split("/", -1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(KeyEscaping.escape(parts[i]));
    }
    return sb.toString();
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

  static String tf2Key(String root, String tf1Name) {
    return KeyEscaping.escape(root) + "/" + KeyEscaping.escape(tf1Name) + VALUE_SUFFIX;
  }

  /**
   * The TF2 bookkeeping of a TF2 output made from names: {@code save_counter} and the object graph,
   * as TensorFlow builds them. From TF1 names: {@code Checkpoint(<root>={name: variable})}, dict
   * entries in bytewise name order, each variable's full_name its name. From restructured TF2
   * paths: one object per path component, attributes at the leaves, full names kept.
   */
  private void addTf2Bookkeeping() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    boolean fromNames = source.format() == CheckpointFormat.TF1;
    ObjectGraphBuilder.TrackedObject dict = fromNames ? b.root().child(spec.rootName()) : null;
    List<String[]> attrs = new ArrayList<>();
    for (PlannedTensor t : tensors) {
      if (SliceKeys.isSliceKey(t.targetKey())) {
        continue;
      }
      String key = t.targetName();
      if (!logicalTarget.containsKey(key)) {
        continue;
      }
      attrs.add(new String[] {key, logicalTarget.get(key)});
    }
    if (!fromNames) {
      attrs.sort((x, y) -> Bytes.KEY_ORDER.compare(x[1], y[1]));
    }
    TreeMap<String, String> sorted = new TreeMap<>(Bytes.KEY_ORDER);
    for (String[] a : attrs) {
      sorted.put(a[1], a[0]);
    }
    if (fromNames) {
      for (String name : sorted.keySet()) {
        dict.child(name).variable(name);
      }
    } else {
      // One attribute per object and name, also when its value is several tensors.
      java.util.Set<String> added = new java.util.HashSet<>();
      for (String[] a : attrs) {
        String sourceKey = sourceKeyOf.get(a[0]);
        String[] pa = sourceKey == null ? null : tf2Attr.get(sourceKey);
        if (!added.add(a[1] + "\u0000" + (pa == null ? "" : pa[1]))) {
          continue;
        }
        ObjectGraphBuilder.TrackedObject node = b.root();
        for (String part : a[1].split("/", -1)) {
          node = node.child(part);
        }
        node.attribute(
            pa == null ? KeyEscaping.VARIABLE_VALUE : KeyEscaping.unescape(pa[1]),
            pa == null ? a[1] : pa[2]);
      }
    }
    b.root().child(SAVE_COUNTER).variable(SAVE_COUNTER);
    byte[] counter = new byte[8];
    counter[0] = 1;
    addLiteral(SAVE_COUNTER + VALUE_SUFFIX, DType.INT64, counter, Crc32c.mask(Crc32c.of(counter)));
    StringTensors.Encoded graph = StringTensors.encode(List.of(b.build().encode()));
    addLiteral(Naming.OBJECT_GRAPH_KEY, DType.STRING, graph.bytes(), graph.maskedCrc());
  }

  /** Target key to the source key it was made from. */
  private final Map<String, String> sourceKeyOf = new HashMap<>();

  private void addLiteral(String key, DType dtype, byte[] bytes, int crc) {
    claim(key, "(generated " + key + ")");
    tensors.add(PlannedTensor.literal(Bytes.utf8(key), dtype, TensorShape.SCALAR, bytes, crc));
  }

  /**
   * TF1 names of a TF2 checkpoint's tensors ({@link VariableNames}), with drops and notes reported.
   */
  private Map<String, String> tf2ToTf1Names() {
    VariableNames v = VariableNames.of(source, false);
    Map<String, String> names = new LinkedHashMap<>();
    // Node order, plain variables and other attributes before slots, as the report lists them.
    for (Map.Entry<String, String> e : v.byKey().entrySet()) {
      String key = e.getKey();
      if (v.unreferenced().contains(key)) {
        continue;
      }
      VariableNames.Slot slot = v.slots().get(key);
      if (slot == null) {
        if (v.attributes().contains(key)) {
          notes.add(
              "Attribute "
                  + key
                  + " is not a variable value; kept under its object path "
                  + e.getValue());
        }
        names.put(key, e.getValue());
      } else if (spec.keepOptimizer() && slot.owner() != null) {
        names.put(key, slot.owner() + "/" + slot.slotName());
      } else {
        names.put(key, null);
        dropped.add(
            new MigrationPlan.Dropped(
                key,
                "optimizer slot '"
                    + slot.slotName()
                    + "' of "
                    + (slot.owner() == null ? "node " + slot.ownerNode() : slot.owner())
                    + (spec.keepOptimizer()
                        ? ": its variable has no TF1 name"
                        : " (use --keep-optimizer to keep it)")));
      }
    }
    if (v.saveCounterKey() != null) {
      names.put(v.saveCounterKey(), null);
      dropped.add(
          0,
          new MigrationPlan.Dropped(
              v.saveCounterKey(), "save_counter: TF2 bookkeeping, unknown to TF1"));
    }
    if (!v.fallbacks().isEmpty()) {
      List<String> described = new ArrayList<>();
      v.fallbacks()
          .forEach(
              (key, why) -> described.add(key + " -> " + v.byKey().get(key) + " (" + why + ")"));
      notes.add(
          described.size()
              + " variable(s) had no usable full_name and were named by object path: "
              + String.join("; ", described));
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
      throw new MigrationException(
          "Cannot plan migration of "
              + this.source.prefix()
              + ": "
              + previous
              + " and "
              + source
              + " both map to "
              + target);
    }
  }

  /** Emits output entries for every source record under its target keys (none: dropped). */
  private void emit(Map<String, List<String>> keys) {
    Map<String, List<PlannedTensor.SlicePart>> slicesOf = new HashMap<>();
    for (IndexRecord r : source.records()) {
      if (r.isSliceEntry()) {
        SliceKeys.Decoded d = SliceKeys.decode(r.key());
        slicesOf
            .computeIfAbsent(d.name(), k -> new ArrayList<>())
            .add(new PlannedTensor.SlicePart(d.slice(), r.key(), r.entry()));
      }
    }
    for (IndexRecord r : fullRecords()) {
      String from = r.name();
      List<String> targets = keys.get(from);
      BundleEntry e = r.entry();
      List<PlannedTensor.SlicePart> parts = slicesOf.remove(from);
      if (targets == null || targets.isEmpty()) {
        if (targets == null) {
          dropped.add(new MigrationPlan.Dropped(from, "no target name"));
        }
        if (parts != null) {
          for (PlannedTensor.SlicePart p : parts) {
            dropped.add(
                new MigrationPlan.Dropped(
                    Bytes.printable(p.sourceKey()), "slice of dropped tensor " + from));
          }
        }
        continue;
      }
      for (String to : targets) {
        claim(to, from);
        sourceKeyOf.put(to, from);
        if (!to.equals(from)) {
          renamed.add(new MigrationPlan.Renamed(from, to));
        }
        byte[] target = Bytes.utf8(to);
        MappingRules.Transform transform = transformFor(to);
        if (!e.isSliced()) {
          tensors.add(
              transform == null
                  ? PlannedTensor.copy(target, r.key(), e)
                  : PlannedTensor.transform(target, r.key(), e, transform));
          continue;
        }
        if (transform != null) {
          throw new MigrationException(
              "Cannot "
                  + transform.describe()
                  + " sliced tensor "
                  + from
                  + ": transforms of partitioned variables are not supported");
        }
        List<PlannedTensor.SlicePart> found = parts == null ? List.of() : parts;
        if (spec.mergeSlices()) {
          if (!DType.isKnown(e.dtypeCode()) || !e.dtype().isFixedSize()) {
            // Each slice of a string tensor is its own encoding (lengths, length CRC, bytes): the
            // slices cannot be concatenated, and a merged size of elements * -1 bytes means
            // nothing.
            throw new MigrationException(
                "Cannot plan migration of "
                    + source.prefix()
                    + ": sliced tensor "
                    + from
                    + " has dtype "
                    + e.dtypeName()
                    + ", whose slices cannot be merged (only fixed-size dtypes can); "
                    + "convert without --merge-slices to keep its slices");
          }
          tensors.add(PlannedTensor.merge(target, r.key(), e, orderedParts(from, e, found)));
          notes.add("Sliced tensor " + from + " merged from " + found.size() + " slices");
        } else {
          tensors.add(PlannedTensor.sliced(target, r.key(), e));
          for (PlannedTensor.SlicePart p : orderedParts(from, e, found)) {
            tensors.add(
                PlannedTensor.copy(SliceKeys.encode(to, p.slice()), p.sourceKey(), p.entry()));
          }
        }
      }
    }
    slicesOf.forEach(
        (name, parts) ->
            parts.forEach(
                p ->
                    dropped.add(
                        new MigrationPlan.Dropped(
                            Bytes.printable(p.sourceKey()),
                            "slice entry without a full entry for " + name))));
    for (MappingRules.Transform t : rules.transforms()) {
      if (!usedTransforms.contains(t)) {
        notes.add(
            "warning: transform '"
                + t.match().pattern()
                + "' ("
                + t.describe()
                + ") matches no tensor");
      }
    }
  }

  private final java.util.Set<MappingRules.Transform> usedTransforms = new java.util.HashSet<>();

  /** The first transform whose pattern fully matches the target's logical name. */
  private MappingRules.Transform transformFor(String targetKey) {
    String name = logicalTarget.getOrDefault(targetKey, targetKey);
    for (MappingRules.Transform t : rules.transforms()) {
      if (t.match().matcher(name).matches()) {
        usedTransforms.add(t);
        return t;
      }
    }
    return null;
  }

  private List<PlannedTensor.SlicePart> orderedParts(
      String name, BundleEntry full, List<PlannedTensor.SlicePart> found) {
    return orderedParts(source.prefix(), name, full, found);
  }

  /** The stored slices of a full entry, in its list order; a missing one is corruption. */
  static List<PlannedTensor.SlicePart> orderedParts(
      String prefix, String name, BundleEntry full, List<PlannedTensor.SlicePart> found) {
    List<PlannedTensor.SlicePart> ordered = new ArrayList<>();
    for (TensorSlice s : full.slices()) {
      PlannedTensor.SlicePart match =
          found == null
              ? null
              : found.stream().filter(p -> p.slice().equals(s)).findFirst().orElse(null);
      if (match == null) {
        throw new io.rebundle.codec.CorruptCheckpointException(
            "Cannot plan migration of "
                + prefix
                + ": sliced tensor "
                + name
                + " lists slice "
                + s
                + " but its slice entry is missing from the index");
      }
      ordered.add(match);
    }
    return ordered;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
