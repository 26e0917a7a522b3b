package io.rebundle.codec.graph;

import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.util.Varints;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectGraphBuilderTest {

  /** tensorbundle-format.md §7.6: the migration guide's 338-byte graph. */
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

  /** {@code tf.train.Checkpoint(vars={'scoped/c': v, 'a': v, 'b': v})} after its first save. */
  static ObjectGraph guideGraph(boolean withCheckpointValues) {
    ObjectGraphBuilder b = new ObjectGraphBuilder().withCheckpointValues(withCheckpointValues);
    ObjectGraphBuilder.TrackedObject vars = b.root().child("vars");
    b.root().child("save_counter").variable("save_counter");
    vars.child("scoped/c").variable("Variable");
    vars.child("a").variable("Variable");
    vars.child("b").variable("Variable");
    return b.build();
  }

  /** The node messages of a serialized graph (field 1 of TrackableObjectGraph), in order. */
  static List<byte[]> nodeMessages(byte[] graph) {
    List<byte[]> nodes = new ArrayList<>();
    Varints.Cursor c = new Varints.Cursor(graph, 0, graph.length);
    while (c.remaining() > 0) {
      assertEquals(0x0A, c.varint32());
      int len = c.varint32();
      nodes.add(Arrays.copyOfRange(graph, c.position(), c.position() + len));
      c.skip(len);
    }
    return nodes;
  }

  @Test
  void reproducesTheGuideGraphByteForByte() {
    assertEquals(338, GUIDE_GRAPH.length);
    assertEquals(spaced(GUIDE_GRAPH), spaced(guideGraph(false).encode()));
  }

  @Test
  void addsHasCheckpointValuesToEveryNode() {
    byte[] encoded = guideGraph(true).encode();
    assertEquals(362, encoded.length);
    List<byte[]> withValues = nodeMessages(encoded);
    List<byte[]> without = nodeMessages(GUIDE_GRAPH);
    assertEquals(6, withValues.size());
    for (int i = 0; i < 6; i++) {
      byte[] node = withValues.get(i);
      assertEquals(
          "2a 02 08 01",
          spaced(Arrays.copyOfRange(node, node.length - 4, node.length)),
          "node " + i);
      assertArrayEquals(without.get(i), Arrays.copyOf(node, node.length - 4), "node " + i);
    }
  }

  @Test
  void marksNodesWithoutValuesFalse() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("empty");
    b.root().child("layer").child("w").variable("w");
    ObjectGraph g = b.build();
    assertEquals(Boolean.TRUE, g.node(0).hasCheckpointValues());
    assertEquals(Boolean.FALSE, g.node(1).hasCheckpointValues());
    assertEquals(Boolean.TRUE, g.node(2).hasCheckpointValues());
    assertEquals(Boolean.TRUE, g.node(3).hasCheckpointValues());
    // An empty BoolValue: 2A 00.
    assertEquals("2a 00", spaced(nodeMessages(g.encode()).get(1)));
  }

  @Test
  void numbersNodesBreadthFirstInChildrenOrder() {
    ObjectGraph g = guideGraph(false);
    assertEquals(
        List.of(new ObjectGraph.Child(1, "vars"), new ObjectGraph.Child(2, "save_counter")),
        g.node(0).children());
    assertEquals(
        List.of(
            new ObjectGraph.Child(3, "scoped/c"),
            new ObjectGraph.Child(4, "a"),
            new ObjectGraph.Child(5, "b")),
        g.node(1).children());
    assertEquals(
        List.of(
            new ObjectGraph.Attribute(
                "VARIABLE_VALUE", "Variable", "vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE")),
        g.node(3).attributes());
    assertEquals(
        List.of(
            new ObjectGraph.Attribute(
                "VARIABLE_VALUE", "save_counter", "save_counter/.ATTRIBUTES/VARIABLE_VALUE")),
        g.node(2).attributes());
    assertNull(g.node(0).hasCheckpointValues());
  }

  /**
   * A compiled two-layer Keras model with a legacy Adam optimizer, as model.save_weights sees it.
   */
  private static ObjectGraph kerasGraph() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject root = b.root();
    ObjectGraphBuilder.TrackedObject dense = root.child("layer_with_weights-0");
    root.link("layer-0", dense);
    ObjectGraphBuilder.TrackedObject dense1 = root.child("layer_with_weights-1");
    root.link("layer-1", dense1);
    ObjectGraphBuilder.TrackedObject optimizer = root.child("optimizer");
    root.link("root", root);
    ObjectGraphBuilder.TrackedObject k0 = dense.child("kernel").variable("dense/kernel");
    ObjectGraphBuilder.TrackedObject b0 = dense.child("bias").variable("dense/bias");
    ObjectGraphBuilder.TrackedObject k1 = dense1.child("kernel").variable("dense_1/kernel");
    ObjectGraphBuilder.TrackedObject b1 = dense1.child("bias").variable("dense_1/bias");
    optimizer.child("iter").variable("Adam/iter");
    optimizer.child("learning_rate").variable("Adam/learning_rate");
    // Registered in reverse variable order: ids must still follow the variables' node ids.
    for (String slot : List.of("m", "v")) {
      for (ObjectGraphBuilder.TrackedObject var : List.of(b1, k1, b0, k0)) {
        ObjectGraphBuilder.TrackedObject s = new ObjectGraphBuilder.TrackedObject();
        s.variable(
            "Adam/"
                + (var == k0 || var == b0 ? "dense/" : "dense_1/")
                + (var == k0 || var == k1 ? "kernel" : "bias")
                + "/"
                + slot);
        optimizer.slot(var, slot, s);
      }
    }
    return b.build();
  }

  @Test
  void appendsSlotVariablesAfterAllBreadthFirstNodesMBeforeV() {
    ObjectGraph g = kerasGraph();
    // 0 root, 1 dense, 2 dense_1, 3 optimizer, 4-5 dense vars, 6-7 dense_1 vars, 8-9 optimizer
    // vars.
    assertEquals(18, g.nodes().size());
    assertEquals(
        List.of(
            new ObjectGraph.SlotVariable(4, "m", 10), new ObjectGraph.SlotVariable(5, "m", 11),
            new ObjectGraph.SlotVariable(6, "m", 12), new ObjectGraph.SlotVariable(7, "m", 13),
            new ObjectGraph.SlotVariable(4, "v", 14), new ObjectGraph.SlotVariable(5, "v", 15),
            new ObjectGraph.SlotVariable(6, "v", 16), new ObjectGraph.SlotVariable(7, "v", 17)),
        g.node(3).slotVariables());
    assertEquals(
        "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
        g.node(10).attributes().get(0).checkpointKey());
    assertEquals("Adam/dense/kernel/m", g.node(10).attributes().get(0).fullName());
    assertEquals(
        "layer_with_weights-1/bias/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
        g.node(17).attributes().get(0).checkpointKey());
    for (int i = 10; i < 18; i++) {
      assertEquals(List.of(), g.node(i).children());
      assertEquals(Boolean.TRUE, g.node(i).hasCheckpointValues());
    }
    assertEquals(
        "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", g.node(8).attributes().get(0).checkpointKey());
  }

  @Test
  void keepsEveryEdgeIncludingSecondNamesAndTheRootSelfReference() {
    ObjectGraph g = kerasGraph();
    assertEquals(
        List.of(
            new ObjectGraph.Child(1, "layer_with_weights-0"),
            new ObjectGraph.Child(1, "layer-0"),
            new ObjectGraph.Child(2, "layer_with_weights-1"),
            new ObjectGraph.Child(2, "layer-1"),
            new ObjectGraph.Child(3, "optimizer"),
            new ObjectGraph.Child(0, "root")),
        g.node(0).children());
    // Node id 0 is omitted: the reference is 0A 06 12 04 "root" (§6.2).
    byte[] root = nodeMessages(g.encode()).get(0);
    assertTrue(spaced(root).contains("0a 06 12 04 72 6f 6f 74"), spaced(root));
    // Keys use the first name: layer_with_weights-0, never layer-0.
    assertEquals(
        "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE",
        g.node(5).attributes().get(0).checkpointKey());
  }

  @Test
  void linkedObjectKeepsItsFirstBreadthFirstPath() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject deep = b.root().child("deep").child("inner");
    ObjectGraphBuilder.TrackedObject shared = deep.child("x").variable("x");
    b.root().link("shortcut", shared);
    b.root().child("other").link("alias", shared);
    ObjectGraph g = b.build();
    // Root children first: deep (1), x via "shortcut" (2), other (3); then inner (4).
    assertEquals(
        List.of(
            new ObjectGraph.Child(1, "deep"),
            new ObjectGraph.Child(2, "shortcut"),
            new ObjectGraph.Child(3, "other")),
        g.node(0).children());
    assertEquals(
        "shortcut/.ATTRIBUTES/VARIABLE_VALUE", g.node(2).attributes().get(0).checkpointKey());
    assertEquals(List.of(new ObjectGraph.Child(2, "alias")), g.node(3).children());
    assertEquals(List.of(new ObjectGraph.Child(2, "x")), g.node(4).children());
    assertEquals(5, g.nodes().size());
  }

  @Test
  void childReturnsTheExistingObjectForARepeatedName() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject first = b.root().child("a");
    b.root().child("b");
    assertTrue(first == b.root().child("a"));
    assertEquals(
        List.of(new ObjectGraph.Child(1, "a"), new ObjectGraph.Child(2, "b")),
        b.build().node(0).children());
  }

  @Test
  void escapesNamesInPathsAndTensorNamesTwice() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("a.b").child("c/d").attribute("x/y", "full");
    ObjectGraph g = b.build();
    ObjectGraph.Attribute a = g.node(2).attributes().get(0);
    assertEquals("x.Sy", a.name());
    assertEquals("a..b/c.Sd/.ATTRIBUTES/x..Sy", a.checkpointKey());
    assertEquals(List.of(new ObjectGraph.Child(2, "c/d")), g.node(1).children());
  }
}
