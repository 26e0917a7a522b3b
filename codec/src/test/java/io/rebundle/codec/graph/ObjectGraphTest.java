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
}
