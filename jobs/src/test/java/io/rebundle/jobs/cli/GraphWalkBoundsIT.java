package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.LocalFileIO;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Object graphs of 100,000 nodes (issue 9): walked without recursion and with paths that grow
 * linearly, so {@code inspect --tree}, {@code verify} and {@code convert --to tf1} take seconds. (A
 * 100,000-node chain, 100 times deeper than ObjectGraph.MAX_DEPTH, is refused with exit 3:
 * MalformedIndexIT.)
 */
class GraphWalkBoundsIT {
  @TempDir Path dir;

  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  /**
   * A chain of {@code depth} nodes named "c" whose last node has {@code leaves} children; leaves 0
   * and 1 are variables w0 and w1 (float32 scalars 1 and 2).
   */
  private String comb(String name, int depth, int leaves) {
    List<ObjectGraph.Node> nodes = new ArrayList<>();
    String chain = String.join("/", java.util.Collections.nCopies(depth - 1, "c"));
    for (int i = 0; i < depth; i++) {
      List<ObjectGraph.Child> children = new ArrayList<>();
      if (i + 1 < depth) {
        children.add(new ObjectGraph.Child(i + 1, "c"));
      } else {
        for (int l = 0; l < leaves; l++) {
          children.add(new ObjectGraph.Child(depth + l, "leaf" + l));
        }
      }
      nodes.add(new ObjectGraph.Node(i, children, List.of(), List.of(), null, null));
    }
    for (int l = 0; l < leaves; l++) {
      List<ObjectGraph.Attribute> attrs =
          l < 2
              ? List.of(new ObjectGraph.Attribute("VARIABLE_VALUE", "w" + l, key(chain, l)))
              : List.of();
      nodes.add(new ObjectGraph.Node(depth + l, List.of(), attrs, List.of(), null, null));
    }
    String prefix = dir.resolve(name + "/ckpt-1").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix)) {
      w.add(
          Naming.OBJECT_GRAPH_KEY,
          Tensor.ofStrings(TensorShape.SCALAR, List.of(new ObjectGraph(nodes).encode())));
      w.add(key(chain, 0), Tensor.of(DType.FLOAT, TensorShape.SCALAR, new byte[] {0, 0, -128, 63}));
      w.add(key(chain, 1), Tensor.of(DType.FLOAT, TensorShape.SCALAR, new byte[] {0, 0, 0, 64}));
      w.finish();
    }
    return prefix;
  }

  private static String key(String chain, int leaf) {
    return (chain.isEmpty() ? "" : chain + "/") + "leaf" + leaf + VALUE;
  }

  private static CliRunner timed(long limitMs, boolean spark, String... args) {
    long start = System.nanoTime();
    CliRunner r = spark ? CliRunner.runWithSharedSpark(args) : CliRunner.run(args);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(0, r.exitCode(), String.join(" ", args) + ": " + r.err());
    assertTrue(ms < limitMs, String.join(" ", args) + " took " + ms + " ms");
    return r;
  }

  @Test
  void aHundredThousandNodeGraphIsInspectedVerifiedAndConvertedInSeconds() {
    String prefix = comb("wide", 100, 99_900);
    CliRunner tree = timed(10_000, false, "inspect", "--tree", prefix);
    String out = tree.out();
    assertTrue(out.contains("object graph: 100000 nodes\n"), out.substring(0, 400));
    // Past 32 levels lines carry their depth instead of tree lines, so none grows with depth.
    assertTrue(out.contains("\n[depth 33] └── c #33\n"), "depth-labelled line");
    assertTrue(out.contains("\n[depth 100] ├── leaf0 #100  [VARIABLE_VALUE full_name=w0 key="));
    assertTrue(out.contains("\n[depth 100] └── leaf99899 #99999\n"));
    assertTrue(out.lines().mapToInt(String::length).max().orElse(0) < 400);
    assertEquals(100_000, out.lines().filter(l -> l.contains(" #")).count());

    CliRunner v = timed(10_000, false, "verify", prefix);
    assertEquals("", v.err());

    String tf1 = dir.resolve("tf1/model.ckpt-1").toString();
    timed(60_000, true, "convert", "--to", "tf1", prefix, tf1);
    CliRunner listed = CliRunner.run("inspect", "--values", tf1);
    assertTrue(listed.out().contains("\nw0   float32     []"), listed.out());
    assertTrue(listed.out().contains("\n    1.\n"), listed.out());
    assertTrue(listed.out().contains("\n    2.\n"), listed.out());
  }

  @Test
  void aGraphAtTheDepthLimitPrintsLinesOfBoundedLength() {
    String prefix = comb("deep", 1000, 2);
    CliRunner tree = timed(10_000, false, "inspect", "--tree", prefix);
    assertTrue(tree.out().contains("\n[depth 1000] ├── leaf0 #1000  [VARIABLE_VALUE"), "leaf0");
    assertTrue(tree.out().lines().mapToInt(String::length).max().orElse(0) < 2500);
    timed(10_000, false, "verify", prefix);
  }
}
