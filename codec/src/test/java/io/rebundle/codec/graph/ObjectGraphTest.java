package io.rebundle.codec.graph;

import static io.rebundle.codec.graph.ObjectGraphBuilderTest.GUIDE_GRAPH;
import static io.rebundle.codec.graph.ObjectGraphBuilderTest.guideGraph;
import static io.rebundle.codec.util.TestBytes.hex;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectGraphTest {

  private static ObjectGraph.Node node(int id, List<ObjectGraph.Child> children) {
    return new ObjectGraph.Node(id, children, List.of(), List.of(), null, null);
  }

  @Test
  void parsesTheGuideGraph() {
    ObjectGraph g = ObjectGraph.parse(GUIDE_GRAPH, "guide");
    assertEquals(6, g.nodes().size());
    assertEquals(guideGraph(false), g);
    assertEquals(
        List.of(
            new ObjectGraph.Attribute(
                "VARIABLE_VALUE", "Variable", "vars/b/.ATTRIBUTES/VARIABLE_VALUE", false)),
        g.node(5).attributes());
    assertNull(g.node(0).hasCheckpointValues());
    assertNull(g.node(0).registeredSaver());
  }

  @Test
  void encodesWhatItParses() {
    assertArrayEquals(GUIDE_GRAPH, ObjectGraph.parse(GUIDE_GRAPH, "guide").encode());
    byte[] withValues = guideGraph(true).encode();
    ObjectGraph parsed = ObjectGraph.parse(withValues, "guide");
    assertEquals(guideGraph(true), parsed);
    assertArrayEquals(withValues, parsed.encode());
    for (ObjectGraph.Node n : parsed.nodes()) {
      assertEquals(Boolean.TRUE, n.hasCheckpointValues());
    }
  }

  @Test
  void roundTripsRareFields() {
    ObjectGraph g =
        new ObjectGraph(
            List.of(
                new ObjectGraph.Node(
                    0,
                    List.of(new ObjectGraph.Child(1, "table")),
                    List.of(),
                    List.of(),
                    new ObjectGraph.RegisteredSaverRef("tpu_embedding", "emb"),
                    Boolean.FALSE),
                new ObjectGraph.Node(
                    1,
                    List.of(),
                    List.of(
                        new ObjectGraph.Attribute("-keys", "", "table/.ATTRIBUTES/-keys", true)),
                    List.of(),
                    null,
                    Boolean.TRUE)));
    byte[] encoded = g.encode();
    assertEquals(g, ObjectGraph.parse(encoded, "rare"));
    // optional_restore = true is field 4 of SerializedTensor: 20 01.
    assertTrue(spaced(encoded).contains("20 01"), spaced(encoded));
  }

  @Test
  void computesObjectPaths() {
    assertArrayEquals(
        new String[] {"", "vars", "save_counter", "vars/scoped.Sc", "vars/a", "vars/b"},
        guideGraph(false).objectPaths());
  }

  @Test
  void computesSlotPathsAndLeavesUnreachableNodesNull() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject w = b.root().child("dense").child("kernel").variable("k");
    ObjectGraphBuilder.TrackedObject opt = b.root().child("optimizer");
    opt.slot(w, "m", new ObjectGraphBuilder.TrackedObject().variable("m"));
    ObjectGraph built = b.build();
    assertArrayEquals(
        new String[] {
          "", "dense", "optimizer", "dense/kernel", "dense/kernel/.OPTIMIZER_SLOT/optimizer/m"
        },
        built.objectPaths());

    ObjectGraph orphan = new ObjectGraph(List.of(node(0, List.of()), node(1, List.of())));
    assertArrayEquals(new String[] {"", null}, orphan.objectPaths());
    assertArrayEquals(new String[0], new ObjectGraph(List.of()).objectPaths());
  }

  @Test
  void rejectsGarbage() {
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> ObjectGraph.parse(hex("0a 05 0a 03"), "ckpt-1"));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read the object graph of ckpt-1: unparsable " + "TrackableObjectGraph: "),
        e.getMessage());
    assertThrows(
        CorruptCheckpointException.class, () -> ObjectGraph.parse(hex("ff ff ff"), "ckpt-1"));
  }

  @Test
  void rejectsChildPointingOutsideTheGraph() {
    byte[] bytes =
        new ObjectGraph(List.of(node(0, List.of(new ObjectGraph.Child(7, "x"))))).encode();
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> ObjectGraph.parse(bytes, "ckpt-1"));
    assertEquals(
        "Cannot read the object graph of ckpt-1: node 0, child x, points to node 7 of 1",
        e.getMessage());
    byte[] negative =
        new ObjectGraph(
                List.of(node(0, List.of()), node(1, List.of(new ObjectGraph.Child(-1, "y")))))
            .encode();
    e = assertThrows(CorruptCheckpointException.class, () -> ObjectGraph.parse(negative, "ckpt-1"));
    assertEquals(
        "Cannot read the object graph of ckpt-1: node 1, child y, points to node -1 of 2",
        e.getMessage());
  }

  @Test
  void rejectsSlotReferencePointingOutsideTheGraph() {
    byte[] bytes =
        new ObjectGraph(
                List.of(
                    new ObjectGraph.Node(
                        0,
                        List.of(),
                        List.of(),
                        List.of(new ObjectGraph.SlotVariable(0, "m", 3)),
                        null,
                        null)))
            .encode();
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> ObjectGraph.parse(bytes, "ckpt-1"));
    assertEquals(
        "Cannot read the object graph of ckpt-1: node 0, slot m, points to node 3 of 1",
        e.getMessage());
  }

  /** A chain of {@code depth} nodes named "c", whose last node has {@code leaves} children. */
  static ObjectGraph comb(int depth, int leaves) {
    List<ObjectGraph.Node> nodes = new ArrayList<>();
    for (int i = 0; i < depth; i++) {
      List<ObjectGraph.Child> children = new ArrayList<>();
      if (i + 1 < depth) {
        children.add(new ObjectGraph.Child(i + 1, "c"));
      } else {
        for (int l = 0; l < leaves; l++) {
          children.add(new ObjectGraph.Child(depth + l, "leaf" + l));
        }
      }
      nodes.add(node(i, children));
    }
    for (int l = 0; l < leaves; l++) {
      nodes.add(node(depth + l, List.of()));
    }
    return new ObjectGraph(nodes);
  }

  @Test
  void aHundredThousandNodeGraphWithinTheBoundsParsesAndGetsItsPathsQuickly() {
    byte[] bytes = comb(100, 99_900).encode();
    long start = System.nanoTime();
    ObjectGraph g = ObjectGraph.parse(bytes, "m");
    String[] paths = g.objectPaths();
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(100_000, paths.length);
    assertEquals("c/".repeat(99).substring(0, 197), paths[99]);
    assertEquals(paths[99] + "/leaf99899", paths[99_999]);
    assertTrue(ms < 3000, "took " + ms + " ms");
  }

  /**
   * Slot paths are built from two other paths; many slots of a variable with a long path would make
   * objectPaths quadratic in the graph's size, so they count towards the bound too.
   */
  @Test
  void slotPathsCountTowardsThePathBound() {
    String longName = "x".repeat(1 << 20);
    List<ObjectGraph.SlotVariable> slots = new ArrayList<>();
    List<ObjectGraph.Node> nodes = new ArrayList<>();
    int n = 100;
    for (int k = 0; k < n; k++) {
      slots.add(new ObjectGraph.SlotVariable(1, "m" + k, 3 + k));
    }
    nodes.add(
        node(0, List.of(new ObjectGraph.Child(1, longName), new ObjectGraph.Child(2, "opt"))));
    nodes.add(node(1, List.of()));
    nodes.add(new ObjectGraph.Node(2, List.of(), List.of(), slots, null, null));
    for (int k = 0; k < n; k++) {
      nodes.add(node(3 + k, List.of()));
    }
    byte[] bytes = new ObjectGraph(nodes).encode();
    assertTrue(bytes.length < (2 << 20), "a graph of " + bytes.length + " bytes");
    UnsupportedCheckpointException e =
        assertThrows(UnsupportedCheckpointException.class, () -> ObjectGraph.parse(bytes, "m"));
    assertTrue(
        e.getMessage().contains("longer than 67108864 characters in total (node 65)"),
        e.getMessage());
    // The same with a few slots is fine.
    ObjectGraph few =
        ObjectGraph.parse(
            new ObjectGraph(
                    List.of(
                        nodes.get(0),
                        nodes.get(1),
                        new ObjectGraph.Node(
                            2, List.of(), List.of(), slots.subList(0, 2), null, null),
                        nodes.get(3),
                        nodes.get(4)))
                .encode(),
            "m");
    assertEquals(longName + "/.OPTIMIZER_SLOT/opt/m1", few.objectPaths()[4]);
  }

  /** Every attribute of a node is named after the node's path, so attributes count too. */
  @Test
  void attributesOfALongPathCountTowardsThePathBound() {
    List<ObjectGraph.Attribute> attrs = new ArrayList<>();
    for (int k = 0; k < 100; k++) {
      attrs.add(new ObjectGraph.Attribute("a" + k, "", "k" + k));
    }
    ObjectGraph g =
        new ObjectGraph(
            List.of(
                node(0, List.of(new ObjectGraph.Child(1, "y".repeat(1 << 20)))),
                new ObjectGraph.Node(1, List.of(), attrs, List.of(), null, null)));
    UnsupportedCheckpointException e =
        assertThrows(
            UnsupportedCheckpointException.class, () -> ObjectGraph.parse(g.encode(), "m"));
    assertTrue(
        e.getMessage().contains("longer than 67108864 characters in total (node 1)"),
        e.getMessage());
  }
}
