package io.rebundle.codec.oracle;

import static io.rebundle.codec.oracle.OracleSupport.FIXED_DTYPES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.util.Bytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * TensorFlow writes a TF1 checkpoint (SaveV2), Rebundle converts it, TensorFlow restores the result
 * (RestoreV2): every value must come back identical, under the new keys, through the slices, and
 * after converting back.
 */
class ConvertOracleIT extends OracleTestBase {
  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  static byte[] float32(float v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
  }

  /** Rows [r0, r0+rows), columns [c0, c0+cols) of a row-major tensor with {@code width} columns. */
  static byte[] block(Tensor full, int width, int r0, int rows, int c0, int cols) {
    int elem = full.dtype().elementSize();
    byte[] out = new byte[rows * cols * elem];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(
          full.data(), ((r0 + r) * width + c0) * elem, out, r * cols * elem, cols * elem);
    }
    return out;
  }

  /** The TF2 key the migration guide's conversion gives a TF1 name under root {@code vars}. */
  static String tf2Key(String tf1Name) {
    return "vars/" + KeyEscaping.escape(tf1Name) + VALUE;
  }

  /**
   * TF1 checkpoint written by TensorFlow: the guide's a, b, scoped/c; every dtype TF Java handles
   * (names with {@code /} and {@code .}); strings; an empty tensor; {@code part/emb} partitioned
   * along dimension 0 (as TF1 partitioned variables are) and {@code grid.x/y} as a 2x2 grid.
   * Returns the full value of every key.
   */
  private Map<String, Tensor> writeTf1WithTensorFlow(String prefix) {
    Random random = new Random(2024);
    Map<String, Tensor> expected = new LinkedHashMap<>();
    List<OracleTensor> saves = new ArrayList<>();
    for (String[] abc : new String[][] {{"a", "1"}, {"b", "2"}, {"scoped/c", "3"}}) {
      expected.put(
          abc[0], Tensor.of(DType.FLOAT, TensorShape.SCALAR, float32(Float.parseFloat(abc[1]))));
    }
    for (DType dtype : FIXED_DTYPES) {
      long[] shape = {2, 3};
      expected.put(
          "dtypes/" + dtype.displayName() + ".v",
          Tensor.of(dtype, TensorShape.of(shape), OracleSupport.randomData(dtype, shape, random)));
    }
    expected.put(
        "text/strings.v1", Tensor.ofStrings(TensorShape.of(2, 3), OracleSupport.sampleStrings()));
    expected.put(
        "text/scalar..s",
        Tensor.ofStrings(
            TensorShape.SCALAR,
            List.of("héllo wörld".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    expected.put("text/none", Tensor.ofStrings(TensorShape.of(0), List.of()));
    expected.put("empty.f", Tensor.of(DType.FLOAT, TensorShape.of(2, 0), new byte[0]));
    expected.forEach((k, t) -> saves.add(OracleSupport.toOracle(k, t)));

    Tensor emb =
        Tensor.of(
            DType.FLOAT,
            TensorShape.of(4, 3),
            OracleSupport.randomData(DType.FLOAT, new long[] {4, 3}, random));
    expected.put("part/emb", emb);
    saves.add(
        OracleTensor.slice(
            "part/emb",
            DType.FLOAT.code(),
            new long[] {2, 3},
            block(emb, 3, 0, 2, 0, 3),
            "4 3 0,2:0,3"));
    saves.add(
        OracleTensor.slice(
            "part/emb",
            DType.FLOAT.code(),
            new long[] {2, 3},
            block(emb, 3, 2, 2, 0, 3),
            "4 3 2,2:0,3"));
    Tensor grid =
        Tensor.of(
            DType.INT64,
            TensorShape.of(4, 6),
            OracleSupport.randomData(DType.INT64, new long[] {4, 6}, random));
    expected.put("grid.x/y", grid);
    for (int r = 0; r < 4; r += 2) {
      for (int c = 0; c < 6; c += 3) {
        saves.add(
            OracleTensor.slice(
                "grid.x/y",
                DType.INT64.code(),
                new long[] {2, 3},
                block(grid, 6, r, 2, c, 3),
                "4 6 " + r + ",2:" + c + ",3"));
      }
    }
    tf.save(prefix, saves);
    return expected;
  }

  private static Tensor restore(String prefix, String key, DType dtype) {
    return OracleSupport.fromOracle(tf.restore(prefix, key, dtype.code(), ""));
  }

  private static void assertSameTensor(Tensor expected, Tensor actual, String what) {
    assertEquals(expected, actual, what);
    if (expected.dtype() == DType.STRING) {
      assertEquals(expected.strings().size(), actual.strings().size(), what);
    }
  }

  /** TensorFlow restores every source key, under the name {@code rename} gives it, identical. */
  private static void assertTensorFlowRestoresAll(
      String prefix,
      Map<String, Tensor> expected,
      java.util.function.UnaryOperator<String> rename) {
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      String key = rename.apply(e.getKey());
      assertSameTensor(e.getValue(), restore(prefix, key, e.getValue().dtype()), key);
    }
  }

  /** Every key the object graph names exists, and TensorFlow restores it. */
  private void assertGraphKeysExist(String prefix) {
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      ObjectGraph graph = r.objectGraph();
      int keys = 0;
      for (ObjectGraph.Node n : graph.nodes()) {
        for (ObjectGraph.Attribute a : n.attributes()) {
          BundleEntry e = r.findEntry(a.checkpointKey());
          assertNotNull(e, a.checkpointKey());
          tf.restore(prefix, a.checkpointKey(), e.dtypeCode(), "");
          keys++;
        }
      }
      assertEquals(
          r.read("vars/" + KeyEscaping.escape("dtypes/int32.v") + VALUE).dtype(), DType.INT32);
      assertTrue(keys > FIXED_DTYPES.size(), "graph attributes: " + keys);
    }
  }

  @Test
  void tensorFlowRestoresEveryKeyOfTheTf2CheckpointInOneAndThreeShards() {
    String source = path("tf1/model.ckpt-1");
    Map<String, Tensor> expected = writeTf1WithTensorFlow(source);
    for (int shards : new int[] {1, 3}) {
      String out = path("tf2-" + shards + "/ckpt-1");
      MigrationPlan plan =
          LocalMigration.run(
              io, source, out, MigrationSpec.to(CheckpointFormat.TF2), shards, false);
      assertEquals(List.of(), plan.dropped());
      try (CheckpointReader r = CheckpointReader.open(io, out)) {
        assertEquals(shards, r.header().numShards());
      }
      assertTensorFlowRestoresAll(out, expected, ConvertOracleIT::tf2Key);
      assertArrayEquals(
          new byte[] {1, 0, 0, 0, 0, 0, 0, 0},
          tf.restore(out, "save_counter" + VALUE, DType.INT64.code()).data());
      // Partitioned variables stay partitioned: TF reads each slice under the new name.
      assertArrayEquals(
          block(expected.get("part/emb"), 3, 2, 2, 0, 3),
          tf.restore(out, tf2Key("part/emb"), DType.FLOAT.code(), "4 3 2,2:0,3").data());
      assertArrayEquals(
          block(expected.get("grid.x/y"), 6, 1, 2, 2, 3),
          tf.restore(out, tf2Key("grid.x/y"), DType.INT64.code(), "4 6 1,2:2,3").data());
      assertGraphKeysExist(out);
      // TF reads the object graph as the string our reader decodes.
      try (CheckpointReader r = CheckpointReader.open(io, out)) {
        assertArrayEquals(
            r.objectGraph().encode(),
            tf.restore(out, Naming.OBJECT_GRAPH_KEY, DType.STRING.code()).strings().get(0));
      }
    }
  }

  @Test
  void convertingBackToTf1RestoresEveryOriginalKey() {
    String source = path("tf1/model.ckpt-1");
    Map<String, Tensor> expected = writeTf1WithTensorFlow(source);
    LocalMigration.run(
        io, source, path("tf2/ckpt-1"), MigrationSpec.to(CheckpointFormat.TF2), 3, false);
    String back = path("back/model.ckpt-1");
    MigrationPlan plan =
        LocalMigration.run(io, path("tf2"), back, MigrationSpec.to(CheckpointFormat.TF1), 2, false);
    assertEquals(List.of(), plan.notes());
    assertTensorFlowRestoresAll(back, expected, k -> k);
    try (CheckpointReader r = CheckpointReader.open(io, back)) {
      assertFalse(r.isObjectBased());
      List<String> full = new ArrayList<>();
      for (IndexRecord rec : r.records()) {
        if (!rec.isSliceEntry()) {
          full.add(rec.name());
        }
      }
      assertEquals(expected.keySet().stream().sorted(Bytes.KEY_ORDER).toList(), full);
    }
  }

  @Test
  void tensorFlowRestoresMergedSlicesWhole() {
    String source = path("tf1/model.ckpt-1");
    Map<String, Tensor> expected = writeTf1WithTensorFlow(source);
    String out = path("tf2/ckpt-1");
    LocalMigration.run(
        io, source, out, new MigrationSpec(CheckpointFormat.TF2, "vars", false, true), 2, false);
    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      assertFalse(r.entry(tf2Key("part/emb")).isSliced());
      assertFalse(r.entry(tf2Key("grid.x/y")).isSliced());
      for (IndexRecord rec : r.records()) {
        assertFalse(rec.isSliceEntry(), rec.name());
      }
    }
    assertTensorFlowRestoresAll(out, expected, ConvertOracleIT::tf2Key);
    // TF can still cut any slice out of the merged tensor.
    assertArrayEquals(
        block(expected.get("grid.x/y"), 6, 1, 3, 2, 4),
        tf.restore(out, tf2Key("grid.x/y"), DType.INT64.code(), "4 6 1,3:2,4").data());

    String tf1 = path("merged-tf1/model.ckpt-1");
    LocalMigration.run(
        io, source, tf1, new MigrationSpec(CheckpointFormat.TF1, "vars", false, true), 1, false);
    assertTensorFlowRestoresAll(tf1, expected, k -> k);
  }

  @Test
  void convertsTheGuideTf2ExampleToTf1NamesByFullName() {
    String root = System.getProperty("rebundle.repo.root");
    Path examples = (root == null ? Path.of("..") : Path.of(root)).resolve("conf/examples");
    String out = path("tf1/ckpt");
    MigrationPlan plan =
        LocalMigration.run(
            io,
            examples.resolve("tf2-ckpt").toString(),
            out,
            MigrationSpec.to(CheckpointFormat.TF1),
            1,
            false);
    assertEquals(
        List.of(
            new MigrationPlan.Renamed("variables/0" + VALUE, "a"),
            new MigrationPlan.Renamed("variables/1" + VALUE, "b"),
            new MigrationPlan.Renamed("variables/2" + VALUE, "c")),
        plan.renamed());
    assertEquals(
        List.of("save_counter" + VALUE, Naming.OBJECT_GRAPH_KEY),
        plan.dropped().stream().map(MigrationPlan.Dropped::key).toList());
    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      List<String> keys = new ArrayList<>();
      r.records().forEach(rec -> keys.add(rec.name()));
      assertEquals(List.of("a", "b", "c"), keys);
    }
    assertArrayEquals(float32(5), tf.restore(out, "a", DType.FLOAT.code()).data());
    assertArrayEquals(float32(6), tf.restore(out, "b", DType.FLOAT.code()).data());
    assertArrayEquals(float32(7), tf.restore(out, "c", DType.FLOAT.code()).data());
  }

  @Test
  void convertsTheGuideTf1ExampleToWhatTensorFlowRestoresUnderVars() {
    String root = System.getProperty("rebundle.repo.root");
    Path examples = (root == null ? Path.of("..") : Path.of(root)).resolve("conf/examples");
    String out = path("tf2/ckpt-1");
    LocalMigration.run(
        io,
        examples.resolve("tf1-ckpt").toString(),
        out,
        MigrationSpec.to(CheckpointFormat.TF2),
        1,
        false);
    assertArrayEquals(float32(1), tf.restore(out, "vars/a" + VALUE, DType.FLOAT.code()).data());
    assertArrayEquals(float32(2), tf.restore(out, "vars/b" + VALUE, DType.FLOAT.code()).data());
    assertArrayEquals(
        float32(3), tf.restore(out, "vars/scoped.Sc" + VALUE, DType.FLOAT.code()).data());
    byte[] graph = tf.restore(out, Naming.OBJECT_GRAPH_KEY, DType.STRING.code()).strings().get(0);
    assertEquals(348, graph.length);
    ObjectGraph g = ObjectGraph.parse(graph, out);
    assertEquals(
        List.of(
            new ObjectGraph.Child(3, "a"),
            new ObjectGraph.Child(4, "b"),
            new ObjectGraph.Child(5, "scoped/c")),
        g.node(1).children());
    assertEquals("scoped/c", g.node(5).attributes().get(0).fullName());
  }
}
