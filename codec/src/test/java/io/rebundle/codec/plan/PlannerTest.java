package io.rebundle.codec.plan;

import static io.rebundle.codec.plan.PlanFixtures.VALUE;
import static io.rebundle.codec.plan.PlanFixtures.assertEverySourceKeyAccountedFor;
import static io.rebundle.codec.plan.PlanFixtures.graphBytes;
import static io.rebundle.codec.plan.PlanFixtures.graphOf;
import static io.rebundle.codec.plan.PlanFixtures.int64;
import static io.rebundle.codec.plan.PlanFixtures.outputOf;
import static io.rebundle.codec.plan.PlanFixtures.targetNames;
import static io.rebundle.codec.plan.PlanFixtures.tensor;
import static io.rebundle.codec.plan.PlanFixtures.tf1Index;
import static io.rebundle.codec.plan.PlanFixtures.tf2Index;
import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlannerTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  /**
   * tensorbundle-format.md §7.6: the graph TensorFlow wrote for the guide's converted checkpoint.
   */
  static final byte[] GUIDE_GRAPH =
      hex(
          "0a 1c 0a 08 08 01 12 04 76 61 72 73 0a 10 08 02 12 0c 73 61 76 65 5f 63 6f 75 6e 74 65 72 0a 1c 0a 0c 08 03 12 08 73 63 6f 70 65 64 2f 63 0a 05"
              + "08 04 12 01 61 0a 05 08 05 12 01 62 0a 49 12 47 0a 0e 56 41 52 49 41 42 4c 45 5f 56 41 4c 55 45 12 0c 73 61 76 65 5f 63 6f 75 6e 74 65 72 1a 27"
              + "73 61 76 65 5f 63 6f 75 6e 74 65 72 2f 2e 41 54 54 52 49 42 55 54 45 53 2f 56 41 52 49 41 42 4c 45 5f 56 41 4c 55 45 0a 47 12 45 0a 0e 56 41 52"
              + "49 41 42 4c 45 5f 56 41 4c 55 45 12 08 56 61 72 69 61 62 6c 65 1a 29 76 61 72 73 2f 73 63 6f 70 65 64 2e 53 63 2f 2e 41 54 54 52 49 42 55 54 45"
              + "53 2f 56 41 52 49 41 42 4c 45 5f 56 41 4c 55 45 0a 3f 12 3d 0a 0e 56 41 52 49 41 42 4c 45 5f 56 41 4c 55 45 12 08 56 61 72 69 61 62 6c 65 1a 21"
              + "76 61 72 73 2f 61 2f 2e 41 54 54 52 49 42 55 54 45 53 2f 56 41 52 49 41 42 4c 45 5f 56 41 4c 55 45 0a 3f 12 3d 0a 0e 56 41 52 49 41 42 4c 45 5f"
              + "56 41 4c 55 45 12 08 56 61 72 69 61 62 6c 65 1a 21 76 61 72 73 2f 62 2f 2e 41 54 54 52 49 42 55 54 45 53 2f 56 41 52 49 41 42 4c 45 5f 56 41 4c"
              + "55 45");

  private String prefix(String name) {
    return dir.resolve(name).toString();
  }

  private MigrationPlan planGuideTf1(String root) {
    String p = prefix("tf1-ckpt");
    PlanFixtures.writeGuideTf1(io, p);
    return Planner.plan(
        PlanFixtures.read(io, p), new MigrationSpec(CheckpointFormat.TF2, root, false, false));
  }

  private static MigrationSpec toTf1(boolean keepOptimizer) {
    return new MigrationSpec(
        CheckpointFormat.TF1, MigrationSpec.DEFAULT_ROOT, keepOptimizer, false);
  }

  // ---- TF1 to TF2 ----

  @Test
  void convertsTheGuideTf1CheckpointUnderRootVars() {
    MigrationPlan plan = planGuideTf1("vars");
    assertEquals(CheckpointFormat.TF1, plan.sourceFormat());
    assertEquals(CheckpointFormat.TF2, plan.targetFormat());
    assertEquals(
        List.of(
            "vars/a" + VALUE,
            "vars/b" + VALUE,
            "vars/scoped.Sc" + VALUE,
            "save_counter" + VALUE,
            "_CHECKPOINTABLE_OBJECT_GRAPH"),
        targetNames(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("a", "vars/a" + VALUE),
            new MigrationPlan.Renamed("b", "vars/b" + VALUE),
            new MigrationPlan.Renamed("scoped/c", "vars/scoped.Sc" + VALUE)),
        plan.renamed());
    assertEquals(List.of(), plan.dropped());
    assertEquals(List.of(), plan.notes());
    assertEquals(
        List.of(
            PlannedTensor.Kind.COPY,
            PlannedTensor.Kind.COPY,
            PlannedTensor.Kind.COPY,
            PlannedTensor.Kind.LITERAL,
            PlannedTensor.Kind.LITERAL),
        plan.tensors().stream().map(PlannedTensor::kind).toList());
    assertEquals("scoped/c", tensor(plan, "vars/scoped.Sc" + VALUE).sourceName());
    assertEquals(5, plan.dataTensors());
  }

  @Test
  void convertsTheGuideTf1CheckpointUnderRootVarList() {
    MigrationPlan plan = planGuideTf1("var_list");
    assertEquals(
        List.of(
            "var_list/a" + VALUE,
            "var_list/b" + VALUE,
            "var_list/scoped.Sc" + VALUE,
            "save_counter" + VALUE,
            "_CHECKPOINTABLE_OBJECT_GRAPH"),
        targetNames(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("a", "var_list/a" + VALUE),
            new MigrationPlan.Renamed("b", "var_list/b" + VALUE),
            new MigrationPlan.Renamed("scoped/c", "var_list/scoped.Sc" + VALUE)),
        plan.renamed());
    assertSameStructureAsTheGuideSample(graphOf(tensor(plan, Naming.OBJECT_GRAPH_KEY)), "var_list");
  }

  @Test
  void writesSaveCounterAsInt64ScalarOne() {
    PlannedTensor.Literal counter =
        (PlannedTensor.Literal) tensor(planGuideTf1("vars"), "save_counter" + VALUE);
    assertEquals(PlannedTensor.Kind.LITERAL, counter.kind());
    assertEquals(DType.INT64, counter.dtype());
    assertEquals(TensorShape.SCALAR, counter.shape());
    assertEquals("01 00 00 00 00 00 00 00", spaced(counter.bytes()));
    assertEquals(Crc32c.mask(Crc32c.of(int64(1))), counter.maskedCrc());
    assertEquals(8, counter.size());
    assertEquals("(generated)", counter.sourceName());
  }

  @Test
  void objectGraphHasTheStructureOfTheGuideSample() {
    ObjectGraph ours = graphOf(tensor(planGuideTf1("vars"), Naming.OBJECT_GRAPH_KEY));
    assertSameStructureAsTheGuideSample(ours, "vars");
  }

  @Test
  void objectGraphSortsDictChildrenBytewiseWhereTheSampleKeptInsertionOrder() {
    ObjectGraph guide = ObjectGraph.parse(GUIDE_GRAPH, "tensorbundle-format.md §7.6");
    ObjectGraph ours = graphOf(tensor(planGuideTf1("vars"), Naming.OBJECT_GRAPH_KEY));
    // Root: the root attribute, then save_counter, in both.
    assertEquals(
        List.of(new ObjectGraph.Child(1, "vars"), new ObjectGraph.Child(2, "save_counter")),
        guide.node(0).children());
    assertEquals(guide.node(0).children(), ours.node(0).children());
    assertEquals(
        List.of(
            new ObjectGraph.Child(3, "scoped/c"),
            new ObjectGraph.Child(4, "a"),
            new ObjectGraph.Child(5, "b")),
        guide.node(1).children());
    assertEquals(
        List.of(
            new ObjectGraph.Child(3, "a"),
            new ObjectGraph.Child(4, "b"),
            new ObjectGraph.Child(5, "scoped/c")),
        ours.node(1).children());
    assertEquals("vars/scoped.Sc" + VALUE, ours.node(5).attributes().get(0).checkpointKey());
  }

  @Test
  void objectGraphBytesAreWhatTheBuilderMakesForTheSortedDict() {
    PlannedTensor.Literal literal =
        (PlannedTensor.Literal) tensor(planGuideTf1("vars"), Naming.OBJECT_GRAPH_KEY);
    // Independently: Checkpoint(vars={'a': a, 'b': b, 'scoped/c': c}) after its first save, current
    // TF.
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject vars = b.root().child("vars");
    b.root().child("save_counter").variable("save_counter");
    vars.child("a").variable("a");
    vars.child("b").variable("b");
    vars.child("scoped/c").variable("scoped/c");
    byte[] expected = b.build().encode();
    // 338 bytes of the sample, 3 x 7 bytes shorter full names... minus 21 plus 7 for "a", "b" and
    // "scoped/c" (8 bytes like "Variable"), plus 4 bytes of has_checkpoint_values on each of 6
    // nodes.
    assertEquals(348, expected.length);
    assertEquals(spaced(expected), spaced(graphBytes(literal)));
    StringTensors.Encoded framed = StringTensors.encode(List.of(expected));
    assertArrayEquals(framed.bytes(), literal.bytes());
    assertEquals(framed.maskedCrc(), literal.maskedCrc());
    assertEquals(TensorShape.SCALAR, literal.shape());
  }

  /**
   * Compares our graph with the §7.6 sample node by node, matched by object path: same paths,
   * children (by name), attribute names and keys. Differences allowed: full names (ours are the TF1
   * names), dict order (hence node ids) and has_checkpoint_values (ours: true everywhere).
   */
  private static void assertSameStructureAsTheGuideSample(ObjectGraph ours, String root) {
    ObjectGraph guide = ObjectGraph.parse(GUIDE_GRAPH, "tensorbundle-format.md §7.6");
    assertEquals(338, GUIDE_GRAPH.length);
    assertEquals(6, guide.nodes().size());
    assertEquals(guide.nodes().size(), ours.nodes().size());
    String[] guidePaths = guide.objectPaths();
    String[] ourPaths = ours.objectPaths();
    Map<String, Integer> ourIds = new HashMap<>();
    for (int i = 0; i < ourPaths.length; i++) {
      ourIds.put(ourPaths[i], i);
    }
    Map<String, String> fullNames =
        Map.of(
            "save_counter",
            "save_counter",
            root + "/a",
            "a",
            root + "/b",
            "b",
            root + "/scoped.Sc",
            "scoped/c");
    for (ObjectGraph.Node g : guide.nodes()) {
      String path = renameRoot(guidePaths[g.id()], root);
      Integer id = ourIds.get(path);
      assertNotNull(id, "no node at path '" + path + "'");
      ObjectGraph.Node o = ours.node(id);
      assertEquals(
          childrenByName(guide, guidePaths, g, root),
          childrenByName(ours, ourPaths, o, root),
          path);
      assertEquals(g.attributes().size(), o.attributes().size(), path);
      for (int a = 0; a < g.attributes().size(); a++) {
        ObjectGraph.Attribute ga = g.attributes().get(a);
        ObjectGraph.Attribute oa = o.attributes().get(a);
        assertEquals(ga.name(), oa.name(), path);
        assertEquals(renameRoot(ga.checkpointKey(), root), oa.checkpointKey(), path);
        assertEquals(
            path.equals("save_counter") ? "save_counter" : "Variable", ga.fullName(), path);
        assertEquals(fullNames.get(path), oa.fullName(), path);
        assertEquals(false, oa.optionalRestore(), path);
      }
      assertEquals(List.of(), o.slotVariables(), path);
      assertNull(o.registeredSaver(), path);
      assertNull(g.hasCheckpointValues(), path);
      assertEquals(Boolean.TRUE, o.hasCheckpointValues(), path);
    }
  }

  private static String renameRoot(String s, String root) {
    return s.startsWith("vars") ? root + s.substring(4) : s;
  }

  private static Map<String, String> childrenByName(
      ObjectGraph g, String[] paths, ObjectGraph.Node n, String root) {
    Map<String, String> m = new HashMap<>();
    for (ObjectGraph.Child c : n.children()) {
      m.put(c.name().equals("vars") ? root : c.name(), renameRoot(paths[c.nodeId()], root));
    }
    return m;
  }

  @Test
  void escapesDotsAndSlashesInTf1NamesOncePerPathComponent() {
    MigrationPlan plan =
        Planner.plan(
            tf1Index("p", "x.y", "p/q.r", "a.Sb", "a..b", "dir/", ".", "ünï/çødé", "my/vars"),
            new MigrationSpec(CheckpointFormat.TF2, "my.root/x", false, false));
    Map<String, String> renamed = new LinkedHashMap<>();
    plan.renamed().forEach(r -> renamed.put(r.from(), r.to()));
    assertEquals("my..root.Sx/x..y" + VALUE, renamed.get("x.y"));
    assertEquals("my..root.Sx/p.Sq..r" + VALUE, renamed.get("p/q.r"));
    assertEquals("my..root.Sx/a..Sb" + VALUE, renamed.get("a.Sb"));
    assertEquals("my..root.Sx/a....b" + VALUE, renamed.get("a..b"));
    assertEquals("my..root.Sx/dir.S" + VALUE, renamed.get("dir/"));
    assertEquals("my..root.Sx/.." + VALUE, renamed.get("."));
    assertEquals("my..root.Sx/ünï.Sçødé" + VALUE, renamed.get("ünï/çødé"));
    assertEquals("my..root.Sx/my.Svars" + VALUE, renamed.get("my/vars"));
    assertEquals(8, renamed.size());
    ObjectGraph g = graphOf(tensor(plan, Naming.OBJECT_GRAPH_KEY));
    // Local names stay raw; children in bytewise UTF-8 order (ü, 0xC3, sorts last).
    assertEquals(
        List.of(new ObjectGraph.Child(1, "my.root/x"), new ObjectGraph.Child(2, "save_counter")),
        g.node(0).children());
    assertEquals(
        List.of(".", "a..b", "a.Sb", "dir/", "my/vars", "p/q.r", "x.y", "ünï/çødé"),
        g.node(1).children().stream().map(ObjectGraph.Child::name).toList());
    for (ObjectGraph.Child c : g.node(1).children()) {
      ObjectGraph.Attribute a = g.node(c.nodeId()).attributes().get(0);
      assertEquals(c.name(), a.fullName());
      assertEquals(renamed.get(c.name()), a.checkpointKey());
    }
  }

  @Test
  void tf2ToTf1RestoresEscapedNamesFromFullNames() {
    String[] names = {"x.y", "p/q.r", "a.Sb", "a..b", "dir/", ".", "ünï/çødé", "my/vars"};
    MigrationPlan there =
        Planner.plan(
            tf1Index("p", names), new MigrationSpec(CheckpointFormat.TF2, "r/s", false, false));
    SourceIndex tf2 = outputOf(there, "p2");
    MigrationPlan back = Planner.plan(tf2, toTf1(false));
    assertEquals(
        List.of(".", "a..b", "a.Sb", "dir/", "my/vars", "p/q.r", "x.y", "ünï/çødé"),
        targetNames(back));
    assertEquals(List.of(), back.notes());
    assertEverySourceKeyAccountedFor(tf2, back);
  }

  @Test
  void tf2ToTf1UnescapesObjectPathsOfEdgeCaseNamesWithoutFullNames() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject dict = b.root().child("r/s");
    List<String> names =
        List.of("x.y", "p/q.r", "a.Sb", "a..b", "dir/", ".", "ünï/çødé", "my/vars");
    names.forEach(n -> dict.child(n).variable(""));
    MigrationPlan plan = Planner.plan(tf2Index("p", b.build()), toTf1(false));
    assertEquals(
        List.of(
            "r/s/.",
            "r/s/a..b",
            "r/s/a.Sb",
            "r/s/dir/",
            "r/s/my/vars",
            "r/s/p/q.r",
            "r/s/x.y",
            "r/s/ünï/çødé"),
        targetNames(plan));
    assertEquals(1, plan.notes().size());
    assertEquals(
        "8 variable(s) had no usable full_name and were named by object path: "
            + "r.Ss/x..y"
            + VALUE
            + " -> r/s/x.y (no full_name); "
            + "r.Ss/p.Sq..r"
            + VALUE
            + " -> r/s/p/q.r (no full_name); "
            + "r.Ss/a..Sb"
            + VALUE
            + " -> r/s/a.Sb (no full_name); "
            + "r.Ss/a....b"
            + VALUE
            + " -> r/s/a..b (no full_name); "
            + "r.Ss/dir.S"
            + VALUE
            + " -> r/s/dir/ (no full_name); "
            + "r.Ss/.."
            + VALUE
            + " -> r/s/. (no full_name); "
            + "r.Ss/ünï.Sçødé"
            + VALUE
            + " -> r/s/ünï/çødé (no full_name); "
            + "r.Ss/my.Svars"
            + VALUE
            + " -> r/s/my/vars (no full_name)",
        plan.notes().get(0));
  }

  @Test
  void rejectsSaveCounterAsRootName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new MigrationSpec(CheckpointFormat.TF2, "save_counter", false, false));
    assertEquals(
        "Invalid root name: save_counter collides with the checkpoint's own save_counter",
        e.getMessage());
    IllegalArgumentException empty =
        assertThrows(
            IllegalArgumentException.class,
            () -> new MigrationSpec(CheckpointFormat.TF2, "", false, false));
    assertEquals("Invalid root name: it must not be empty", empty.getMessage());
  }

  // ---- TF2 to TF1 ----

  @Test
  void namesGuideStyleVariablesByObjectPathWhenAllFullNamesAreVariable() {
    SourceIndex source = tf2Index("guide", ObjectGraph.parse(GUIDE_GRAPH, "sample"));
    MigrationPlan plan = Planner.plan(source, toTf1(false));
    assertEquals(CheckpointFormat.TF2, plan.sourceFormat());
    assertEquals(List.of("vars/a", "vars/b", "vars/scoped/c"), targetNames(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("vars/a" + VALUE, "vars/a"),
            new MigrationPlan.Renamed("vars/b" + VALUE, "vars/b"),
            new MigrationPlan.Renamed("vars/scoped.Sc" + VALUE, "vars/scoped/c")),
        plan.renamed());
    assertEquals(
        List.of(
            new MigrationPlan.Dropped(
                "save_counter" + VALUE, "save_counter: TF2 bookkeeping, unknown to TF1"),
            new MigrationPlan.Dropped("_CHECKPOINTABLE_OBJECT_GRAPH", "object graph: TF2 only")),
        plan.dropped());
    assertEquals(
        List.of(
            "3 variable(s) had no usable full_name and were named by object path: "
                + "vars/scoped.Sc"
                + VALUE
                + " -> vars/scoped/c (full_name 'Variable' is shared by 3 variables); "
                + "vars/a"
                + VALUE
                + " -> vars/a (full_name 'Variable' is shared by 3 variables); "
                + "vars/b"
                + VALUE
                + " -> vars/b (full_name 'Variable' is shared by 3 variables)"),
        plan.notes());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void usesUniqueFullNames() {
    // The guide's tf2-ckpt: Checkpoint(variables=[a, b, c]).
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject variables = b.root().child("variables");
    b.root().child("save_counter").variable("save_counter");
    variables.child("0").variable("a");
    variables.child("1").variable("b");
    variables.child("2").variable("scoped/c");
    SourceIndex source = tf2Index("tf2-ckpt", b.build());
    MigrationPlan plan = Planner.plan(source, toTf1(false));
    assertEquals(List.of("a", "b", "scoped/c"), targetNames(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("variables/0" + VALUE, "a"),
            new MigrationPlan.Renamed("variables/1" + VALUE, "b"),
            new MigrationPlan.Renamed("variables/2" + VALUE, "scoped/c")),
        plan.renamed());
    assertEquals(List.of(), plan.notes());
    assertEquals(
        List.of("save_counter" + VALUE, "_CHECKPOINTABLE_OBJECT_GRAPH"),
        plan.dropped().stream().map(MigrationPlan.Dropped::key).toList());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void usesFullNamesWhereUniqueAndObjectPathsWhereSharedOrMissing() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject m = b.root().child("m");
    m.child("u").variable("Variable");
    m.child("v").variable("Variable");
    m.child("w").variable("dense/w");
    m.child("x").variable("");
    MigrationPlan plan = Planner.plan(tf2Index("p", b.build()), toTf1(false));
    assertEquals(List.of("m/u", "m/v", "dense/w", "m/x"), targetNames(plan));
    assertEquals(
        List.of(
            "3 variable(s) had no usable full_name and were named by object path: "
                + "m/u"
                + VALUE
                + " -> m/u (full_name 'Variable' is shared by 2 variables); "
                + "m/v"
                + VALUE
                + " -> m/v (full_name 'Variable' is shared by 2 variables); "
                + "m/x"
                + VALUE
                + " -> m/x (no full_name)"),
        plan.notes());
  }

  /**
   * A compiled Keras model with a legacy Adam optimizer, as {@code model.save_weights} writes it.
   */
  private static ObjectGraph kerasGraph() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject root = b.root();
    ObjectGraphBuilder.TrackedObject dense = root.child("layer_with_weights-0");
    root.link("layer-0", dense);
    ObjectGraphBuilder.TrackedObject optimizer = root.child("optimizer");
    root.link("root", root);
    ObjectGraphBuilder.TrackedObject kernel = dense.child("kernel").variable("dense/kernel");
    ObjectGraphBuilder.TrackedObject bias = dense.child("bias").variable("dense/bias");
    optimizer.child("iter").variable("Adam/iter");
    optimizer.child("learning_rate").variable("Adam/learning_rate");
    for (String slot : List.of("m", "v")) {
      for (ObjectGraphBuilder.TrackedObject var : List.of(kernel, bias)) {
        ObjectGraphBuilder.TrackedObject s = new ObjectGraphBuilder.TrackedObject();
        s.variable("Adam/dense/" + (var == kernel ? "kernel" : "bias") + "/" + slot);
        optimizer.slot(var, slot, s);
      }
    }
    return b.build();
  }

  private static String slotKey(String var, String slot) {
    return "layer_with_weights-0/" + var + "/.OPTIMIZER_SLOT/optimizer/" + slot + VALUE;
  }

  @Test
  void dropsOptimizerSlotsWithReasons() {
    SourceIndex source = tf2Index("keras", kerasGraph());
    MigrationPlan plan = Planner.plan(source, toTf1(false));
    assertEquals(
        List.of("dense/bias", "dense/kernel", "Adam/iter", "Adam/learning_rate"),
        targetNames(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Dropped(
                slotKey("kernel", "m"),
                "optimizer slot 'm' of dense/kernel (use --keep-optimizer to keep it)"),
            new MigrationPlan.Dropped(
                slotKey("bias", "m"),
                "optimizer slot 'm' of dense/bias (use --keep-optimizer to keep it)"),
            new MigrationPlan.Dropped(
                slotKey("kernel", "v"),
                "optimizer slot 'v' of dense/kernel (use --keep-optimizer to keep it)"),
            new MigrationPlan.Dropped(
                slotKey("bias", "v"),
                "optimizer slot 'v' of dense/bias (use --keep-optimizer to keep it)"),
            new MigrationPlan.Dropped("_CHECKPOINTABLE_OBJECT_GRAPH", "object graph: TF2 only")),
        plan.dropped());
    assertEquals(List.of(), plan.notes());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void keepsOptimizerSlotsUnderVariableNameSlashSlotName() {
    SourceIndex source = tf2Index("keras", kerasGraph());
    MigrationPlan plan = Planner.plan(source, toTf1(true));
    assertEquals(
        List.of(
            "dense/bias",
            "dense/bias/m",
            "dense/bias/v",
            "dense/kernel",
            "dense/kernel/m",
            "dense/kernel/v",
            "Adam/iter",
            "Adam/learning_rate"),
        targetNames(plan));
    assertEquals(slotKey("bias", "v"), tensor(plan, "dense/bias/v").sourceName());
    assertEquals(
        List.of(
            new MigrationPlan.Dropped("_CHECKPOINTABLE_OBJECT_GRAPH", "object graph: TF2 only")),
        plan.dropped());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void keepsNonVariableAttributesUnderTheirObjectPath() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("lookup/table").attribute("-keys", "").attribute("-values", "");
    b.root().child("w").variable("w");
    SourceIndex source = tf2Index("p", b.build());
    MigrationPlan plan = Planner.plan(source, toTf1(false));
    assertEquals(List.of("lookup/table/-keys", "lookup/table/-values", "w"), targetNames(plan));
    assertEquals(
        "lookup.Stable/.ATTRIBUTES/-keys", tensor(plan, "lookup/table/-keys").sourceName());
    assertEquals(
        List.of(
            "Attribute lookup.Stable/.ATTRIBUTES/-keys is not a variable value; kept under its object path lookup/table/-keys",
            "Attribute lookup.Stable/.ATTRIBUTES/-values is not a variable value; kept under its object path lookup/table/-values"),
        plan.notes());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void keepsKeysOutsideTheObjectGraphAsTheyAre() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("w").variable("w");
    SourceIndex source = tf2Index("p", b.build(), "global_step", "stray/key");
    MigrationPlan plan = Planner.plan(source, toTf1(false));
    assertEquals(List.of("global_step", "stray/key", "w"), targetNames(plan));
    assertEquals(List.of(new MigrationPlan.Renamed("w" + VALUE, "w")), plan.renamed());
    assertEquals(
        List.of(
            "Key global_step is not referenced by the object graph; kept as is",
            "Key stray/key is not referenced by the object graph; kept as is"),
        plan.notes());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void rejectsAFullNameEqualToAnotherVariablesFallbackPath() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("x").variable("");
    b.root().child("y").variable("x");
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () -> Planner.plan(tf2Index("/ckpt/p", b.build()), toTf1(false)));
    assertEquals(
        "Cannot plan migration of /ckpt/p: x" + VALUE + " and y" + VALUE + " both map to x",
        e.getMessage());
  }

  @Test
  void rejectsAKeptKeyEqualToAVariablesFullName() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("v").variable("global_step");
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () -> Planner.plan(tf2Index("p", b.build(), "global_step"), toTf1(false)));
    assertEquals(
        "Cannot plan migration of p: global_step and v" + VALUE + " both map to global_step",
        e.getMessage());
  }

  // ---- same format ----

  @Test
  void copiesTf1ToTf1Unchanged() {
    SourceIndex source = tf1Index("p", "a", "b", "scoped/c");
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1));
    assertEquals(List.of("a", "b", "scoped/c"), targetNames(plan));
    assertEquals(List.of(), plan.renamed());
    assertEquals(List.of(), plan.dropped());
    for (int i = 0; i < 3; i++) {
      PlannedTensor.Copy t = (PlannedTensor.Copy) plan.tensors().get(i);
      assertEquals(PlannedTensor.Kind.COPY, t.kind());
      assertArrayEquals(source.records().get(i).key(), t.sourceKey());
      assertEquals(source.records().get(i).entry(), t.sourceEntry());
    }
  }

  @Test
  void copiesTf2ToTf2IncludingGraphAndSaveCounter() {
    SourceIndex source = tf2Index("guide", ObjectGraph.parse(GUIDE_GRAPH, "sample"));
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));
    assertEquals(
        List.of(
            "_CHECKPOINTABLE_OBJECT_GRAPH",
            "save_counter" + VALUE,
            "vars/a" + VALUE,
            "vars/b" + VALUE,
            "vars/scoped.Sc" + VALUE),
        targetNames(plan));
    assertEquals(
        List.of(PlannedTensor.Kind.COPY),
        plan.tensors().stream().map(PlannedTensor::kind).distinct().toList());
    assertEquals(List.of(), plan.renamed());
    assertEquals(List.of(), plan.dropped());
  }

  // ---- sliced tensors ----

  private static final TensorShape EMB = TensorShape.of(4, 2);
  private static final TensorSlice TOP =
      new TensorSlice(List.of(new TensorSlice.Extent(0, 2), new TensorSlice.Extent(0, 2)));
  private static final TensorSlice BOTTOM =
      new TensorSlice(List.of(new TensorSlice.Extent(2, 2), new TensorSlice.Extent(0, 2)));

  /** TF1: emb [4,2] saved as two slices (listed bottom first) and a plain w. */
  private static SourceIndex slicedTf1() {
    List<IndexRecord> records = new ArrayList<>();
    records.add(
        new IndexRecord(
            SliceKeys.encode("emb", TOP),
            BundleEntry.of(DType.FLOAT, TensorShape.of(2, 2), 0, 0, 16, 11)));
    records.add(
        new IndexRecord(
            SliceKeys.encode("emb", BOTTOM),
            BundleEntry.of(DType.FLOAT, TensorShape.of(2, 2), 0, 16, 16, 22)));
    records.sort((x, y) -> java.util.Arrays.compareUnsigned(x.key(), y.key()));
    records.add(
        new IndexRecord(
            Bytes.utf8("emb"), BundleEntry.sliced(DType.FLOAT, EMB, List.of(BOTTOM, TOP))));
    records.add(
        new IndexRecord(
            Bytes.utf8("w"), BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 0, 32, 4, 33)));
    return new SourceIndex("sliced", 1, records, null);
  }

  @Test
  void keepsSlicesUnderReencodedSliceKeys() {
    SourceIndex source = slicedTf1();
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));
    String emb = "vars/emb" + VALUE;
    List<PlannedTensor> t = plan.tensors();
    assertEquals(6, t.size());
    assertEquals(PlannedTensor.Kind.SLICED, t.get(0).kind());
    assertEquals(emb, t.get(0).targetName());
    assertEquals(
        List.of(BOTTOM, TOP), ((PlannedTensor.SlicedEntry) t.get(0)).sourceEntry().slices());
    assertEquals(0, t.get(0).size());
    assertEquals(
        BundleEntry.sliced(DType.FLOAT, EMB, List.of(BOTTOM, TOP)), t.get(0).toEntry(0, 0, 0));
    assertEquals(PlannedTensor.Kind.COPY, t.get(1).kind());
    assertArrayEquals(SliceKeys.encode(emb, BOTTOM), t.get(1).targetKey());
    assertArrayEquals(SliceKeys.encode("emb", BOTTOM), ((PlannedTensor.Copy) t.get(1)).sourceKey());
    assertEquals(16, ((PlannedTensor.Copy) t.get(1)).sourceEntry().offset());
    assertArrayEquals(SliceKeys.encode(emb, TOP), t.get(2).targetKey());
    assertArrayEquals(SliceKeys.encode("emb", TOP), ((PlannedTensor.Copy) t.get(2)).sourceKey());
    assertEquals("vars/w" + VALUE, t.get(3).targetName());
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("emb", emb),
            new MigrationPlan.Renamed("w", "vars/w" + VALUE)),
        plan.renamed());
    assertEquals(5, plan.dataTensors());
    assertEquals(16 + 16 + 4 + 8 + t.get(5).size(), plan.dataBytes());
    // The graph names the full tensor once; slice keys never appear in it.
    ObjectGraph g = graphOf(tensor(plan, Naming.OBJECT_GRAPH_KEY));
    assertEquals(
        List.of("emb", "w"), g.node(1).children().stream().map(ObjectGraph.Child::name).toList());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void mergesSlicesWhenAsked() {
    SourceIndex source = slicedTf1();
    MigrationPlan plan =
        Planner.plan(source, new MigrationSpec(CheckpointFormat.TF2, "vars", false, true));
    PlannedTensor.MergedSlices merged = (PlannedTensor.MergedSlices) plan.tensors().get(0);
    assertEquals(PlannedTensor.Kind.MERGE_SLICES, merged.kind());
    assertEquals("vars/emb" + VALUE, merged.targetName());
    assertEquals(EMB, merged.shape());
    assertEquals(List.of(), merged.toEntry(0, 0, 0).slices());
    assertEquals(32, merged.size());
    assertEquals(
        List.of(BOTTOM, TOP), merged.parts().stream().map(PlannedTensor.SlicePart::slice).toList());
    assertEquals(
        List.of(
            "vars/emb" + VALUE,
            "vars/w" + VALUE,
            "save_counter" + VALUE,
            "_CHECKPOINTABLE_OBJECT_GRAPH"),
        targetNames(plan));
    assertEquals(List.of("Sliced tensor emb merged from 2 slices"), plan.notes());
    assertEquals(BundleEntry.of(DType.FLOAT, EMB, 1, 64, 32, 7), merged.toEntry(1, 64, 7));
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void keepsSlicesInTf1ToTf1Copies() {
    SourceIndex source = slicedTf1();
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1));
    assertEquals(
        List.of(
            PlannedTensor.Kind.SLICED,
            PlannedTensor.Kind.COPY,
            PlannedTensor.Kind.COPY,
            PlannedTensor.Kind.COPY),
        plan.tensors().stream().map(PlannedTensor::kind).toList());
    assertArrayEquals(SliceKeys.encode("emb", BOTTOM), plan.tensors().get(1).targetKey());
    assertEquals(List.of(), plan.renamed());
  }

  @Test
  void dropsSliceEntriesWithoutAFullEntry() {
    List<IndexRecord> records = new ArrayList<>(slicedTf1().records());
    records.add(
        0,
        new IndexRecord(
            SliceKeys.encode("ghost", TOP),
            BundleEntry.of(DType.FLOAT, TensorShape.of(2, 2), 0, 36, 16, 1)));
    records.sort((x, y) -> java.util.Arrays.compareUnsigned(x.key(), y.key()));
    SourceIndex source = new SourceIndex("p", 1, records, null);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1));
    assertEquals(
        List.of(
            new MigrationPlan.Dropped(
                Bytes.printable(SliceKeys.encode("ghost", TOP)),
                "slice entry without a full entry for ghost")),
        plan.dropped());
    assertEquals("\\x00ghost\\x00\\x01\\x01\\x02\\x80\\x82\\x80\\x82", plan.dropped().get(0).key());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void rejectsAFullEntryWhoseSliceEntryIsMissing() {
    List<IndexRecord> records = new ArrayList<>(slicedTf1().records());
    records.removeIf(r -> java.util.Arrays.equals(r.key(), SliceKeys.encode("emb", TOP)));
    SourceIndex source = new SourceIndex("/x/p", 1, records, null);
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2)));
    assertEquals(
        "Cannot plan migration of /x/p: sliced tensor emb lists slice 0,2:0,2 but its slice entry is "
            + "missing from the index",
        e.getMessage());
  }

  @Test
  void refusesToMergeSlicesOfVariableLengthDtypes() {
    TensorShape shape = TensorShape.of(2);
    TensorSlice first = new TensorSlice(List.of(new TensorSlice.Extent(0, 1)));
    TensorSlice second = new TensorSlice(List.of(new TensorSlice.Extent(1, 1)));
    List<IndexRecord> records = new ArrayList<>();
    records.add(
        new IndexRecord(
            SliceKeys.encode("names", first),
            BundleEntry.of(DType.STRING, TensorShape.of(1), 0, 0, 7, 1)));
    records.add(
        new IndexRecord(
            SliceKeys.encode("names", second),
            BundleEntry.of(DType.STRING, TensorShape.of(1), 0, 7, 8, 2)));
    records.add(
        new IndexRecord(
            Bytes.utf8("names"), BundleEntry.sliced(DType.STRING, shape, List.of(first, second))));
    SourceIndex source = new SourceIndex("/x/p", 1, records, null);
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                Planner.plan(source, new MigrationSpec(CheckpointFormat.TF2, "vars", false, true)));
    assertEquals(
        "Cannot plan migration of /x/p: sliced tensor names has dtype string, whose slices cannot be merged "
            + "(only fixed-size dtypes can); convert without --merge-slices to keep its slices",
        e.getMessage());
    // Kept as slices, it converts.
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));
    assertEquals(PlannedTensor.Kind.SLICED, plan.tensors().get(0).kind());
    assertEverySourceKeyAccountedFor(source, plan);
  }

  @Test
  void tf2ToTf1KeepsSlicesOfAConvertedVariable() {
    MigrationPlan there = Planner.plan(slicedTf1(), MigrationSpec.to(CheckpointFormat.TF2));
    SourceIndex tf2 = outputOf(there, "p2");
    MigrationPlan back = Planner.plan(tf2, toTf1(false));
    List<String> targets =
        back.tensors().stream().map(t -> Bytes.printable(t.targetKey())).toList();
    assertEquals(
        List.of(
            Bytes.printable(SliceKeys.encode("emb", TOP)),
            Bytes.printable(SliceKeys.encode("emb", BOTTOM)),
            "emb",
            "w"),
        targets.stream().sorted().toList());
    assertEverySourceKeyAccountedFor(tf2, back);
  }
}
