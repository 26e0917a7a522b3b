package io.rebundle.codec.oracle;

import static io.rebundle.codec.oracle.TableCheckpoints.EMBEDDING_KEY;
import static io.rebundle.codec.oracle.TableCheckpoints.SAVE_COUNTER_KEY;
import static io.rebundle.codec.oracle.TableCheckpoints.TABLE_KEY;
import static io.rebundle.codec.oracle.TableCheckpoints.TOKENS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Lookup tables saved by TensorFlow's own kernels (LookupTableExportV2 + SaveV2), as Keras
 * TextVectorization checkpoints hold them: one object-graph attribute {@code table} whose value is
 * two tensors, {@code <key>-keys} and {@code <key>-values} (docs/object-graph-attributes.md).
 * Rebundle must find them clean, show them, convert them byte for byte, and TensorFlow must load
 * the converted tables back (RestoreV2 + LookupTableImportV2) and find the right values.
 */
class LookupTableOracleIT extends OracleTestBase {

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  @Test
  void mutableHashTableSavedByTensorFlowVerifiesCleanAndShowsBothTensors() {
    String prefix = path("tv/ckpt-1");
    TableCheckpoints.writeMutableHashTable(prefix);
    CheckpointVerifier.Summary s = OracleSupport.assertVerifiesClean(io, prefix);
    assertEquals(5, s.tensors()); // graph, embedding, save_counter, table-keys, table-values
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      TreeSet<String> keys = keys(r);
      assertEquals(
          List.of(
              Naming.OBJECT_GRAPH_KEY,
              EMBEDDING_KEY,
              SAVE_COUNTER_KEY,
              TABLE_KEY + "-keys",
              TABLE_KEY + "-values"),
          new ArrayList<>(keys));
      assertNull(r.findEntry(TABLE_KEY), "TensorFlow saves no tensor under the attribute key");
      ObjectGraph g = r.objectGraph();
      assertEquals(TableCheckpoints.graph().encode().length, g.encode().length);
      ObjectGraph.Attribute a = g.node(1).attributes().get(0);
      assertEquals("table", a.name());
      assertEquals(TABLE_KEY, a.checkpointKey());
      assertEquals(
          List.of(TABLE_KEY + "-keys", TABLE_KEY + "-values"),
          AttributeTensors.of(keys, a.checkpointKey()));
      BundleEntry k = r.entry(TABLE_KEY + "-keys");
      BundleEntry v = r.entry(TABLE_KEY + "-values");
      assertEquals(DType.STRING, k.dtype());
      assertEquals(DType.INT64, v.dtype());
      assertArrayEquals(new long[] {TOKENS.size()}, k.shape().dims());
      assertArrayEquals(new long[] {TOKENS.size()}, v.shape().dims());
      assertEquals(expectedTable(), table(r, TABLE_KEY));
    }
  }

  @Test
  void convertedTablesKeepTheirBytesAndTensorFlowFindsTheValues() {
    String source = path("tv/ckpt-1");
    TableCheckpoints.writeMutableHashTable(source);

    String tf1 = path("tf1/model.ckpt-1");
    MigrationPlan toTf1 =
        LocalMigration.run(io, source, tf1, MigrationSpec.to(CheckpointFormat.TF1), 1, false);
    assertFalse(
        toTf1.notes().stream().anyMatch(n -> n.contains("not referenced")),
        "the table's tensors belong to the graph's table attribute: " + toTf1.notes());
    String tf2 = path("tf2/ckpt-1");
    LocalMigration.run(io, source, tf2, MigrationSpec.to(CheckpointFormat.TF2), 2, false);

    OracleSupport.assertVerifiesClean(io, tf1);
    OracleSupport.assertVerifiesClean(io, tf2);
    try (CheckpointReader src = CheckpointReader.open(io, source);
        CheckpointReader one = CheckpointReader.open(io, tf1);
        CheckpointReader two = CheckpointReader.open(io, tf2)) {
      assertFalse(one.isObjectBased());
      assertEquals(
          List.of("embedding", "table/table-keys", "table/table-values"),
          new ArrayList<>(keys(one)));
      for (String suffix : List.of("-keys", "-values")) {
        assertSameBytes(src, TABLE_KEY + suffix, one, "table/table" + suffix);
        assertSameBytes(src, TABLE_KEY + suffix, two, TABLE_KEY + suffix);
      }
      assertSameBytes(src, EMBEDDING_KEY, one, "embedding");
      assertTrue(two.isObjectBased());
      assertArrayEquals(src.objectGraph().encode(), two.objectGraph().encode());
    }

    for (String[] out : new String[][] {{tf1, "table/table"}, {tf2, TABLE_KEY}}) {
      List<String> query = new ArrayList<>(TOKENS);
      query.add("unknown");
      List<byte[]> q = new ArrayList<>();
      query.forEach(t -> q.add(t.getBytes(StandardCharsets.UTF_8)));
      List<OracleTensor> found =
          tf.restoreTableAndFind(
              out[0],
              TfOracle.TableKind.MUTABLE_HASH,
              out[1],
              OracleTensor.DT_STRING,
              OracleTensor.DT_INT64,
              null,
              null,
              OracleTensor.ofStrings("query", new long[] {q.size()}, q),
              TableCheckpoints.int64Scalar("missing", -1));
      long[] expected = new long[query.size()];
      for (int i = 0; i < TOKENS.size(); i++) {
        expected[i] = TableCheckpoints.valueOf(i);
      }
      expected[TOKENS.size()] = -1;
      assertArrayEquals(expected, longs(found.get(0)), out[0]);
      assertArrayEquals(new long[] {TOKENS.size()}, longs(found.get(1)), out[0]);
      assertArrayEquals(
          TableCheckpoints.embeddingBytes(),
          tf.restore(out[0], out[0].equals(tf1) ? "embedding" : EMBEDDING_KEY, 1).data());
    }
  }

  /**
   * A TF2-to-TF2 restructure (a rename rule) moves the table as a whole: both tensors follow the
   * attribute to its new object path, the rebuilt graph has one {@code table} attribute there, and
   * TensorFlow finds the values under the new key.
   */
  @Test
  void restructuredTableMovesBothTensorsAndTensorFlowFindsTheValues() {
    String source = path("tv/ckpt-1");
    TableCheckpoints.writeMutableHashTable(source);
    MappingRules rules =
        new MappingRules(
            List.of(),
            List.of(new MappingRules.Rename(Pattern.compile("table"), "vectorizer/lookup")),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    String out = path("moved/ckpt-1");
    MigrationPlan plan =
        LocalMigration.run(
            io, source, out, MigrationSpec.to(CheckpointFormat.TF2), rules, 1, false);
    assertFalse(
        plan.dropped().stream().anyMatch(d -> d.key().startsWith(TABLE_KEY)),
        "table tensors dropped: " + plan.dropped());
    OracleSupport.assertVerifiesClean(io, out);
    String moved = "vectorizer/lookup/.ATTRIBUTES/table";
    try (CheckpointReader src = CheckpointReader.open(io, source);
        CheckpointReader r = CheckpointReader.open(io, out)) {
      assertSameBytes(src, TABLE_KEY + "-keys", r, moved + "-keys");
      assertSameBytes(src, TABLE_KEY + "-values", r, moved + "-values");
      List<ObjectGraph.Attribute> tables = new ArrayList<>();
      for (ObjectGraph.Node n : r.objectGraph().nodes()) {
        n.attributes().stream().filter(a -> a.name().equals("table")).forEach(tables::add);
      }
      assertEquals(1, tables.size(), tables.toString());
      assertEquals(moved, tables.get(0).checkpointKey());
      assertEquals("string_lookup_index_table", tables.get(0).fullName());
    }
    List<OracleTensor> found =
        tf.restoreTableAndFind(
            out,
            TfOracle.TableKind.MUTABLE_HASH,
            moved,
            OracleTensor.DT_STRING,
            OracleTensor.DT_INT64,
            null,
            null,
            OracleTensor.ofStrings(
                "query",
                new long[] {2},
                List.of("sat".getBytes(StandardCharsets.UTF_8), new byte[] {'x'})),
            TableCheckpoints.int64Scalar("missing", -1));
    assertArrayEquals(new long[] {TableCheckpoints.valueOf(2), -1}, longs(found.get(0)));
  }

  /**
   * The other kind: {@code DenseHashTable} (MutableDenseHashTableV2, int64 keys) also saves {@code
   * -keys} and {@code -values}; its export is every bucket, the unused ones holding the empty key.
   */
  @Test
  void denseHashTableSavedByTensorFlowVerifiesCleanAndRestoresAfterConversion() {
    String prefix = path("dense/ckpt-1");
    String key = "ids/.ATTRIBUTES/table";
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("ids").attribute("table", "dense_hash_table");
    b.root().child("save_counter").variable("save_counter");
    OracleTensor empty = TableCheckpoints.int64Scalar("empty", -1);
    OracleTensor deleted = TableCheckpoints.int64Scalar("deleted", -2);
    tf.saveTable(
        prefix,
        TfOracle.TableKind.DENSE_HASH,
        key,
        TableCheckpoints.int64("keys", 10, 20, 30),
        TableCheckpoints.int64("values", 100, 200, 300),
        empty,
        deleted,
        List.of(
            TableCheckpoints.int64Scalar(SAVE_COUNTER_KEY, 1),
            OracleTensor.ofStrings(
                Naming.OBJECT_GRAPH_KEY, new long[0], List.of(b.build().encode()))));
    OracleSupport.assertVerifiesClean(io, prefix);
    int buckets;
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      assertEquals(List.of(key + "-keys", key + "-values"), AttributeTensors.of(keys(r), key));
      BundleEntry k = r.entry(key + "-keys");
      assertEquals(DType.INT64, k.dtype());
      buckets = (int) k.shape().dims()[0];
      assertEquals(8, buckets, "initial_num_buckets");
      Map<Long, Long> used = new TreeMap<>();
      long[] ks = longs(r.read(key + "-keys"));
      long[] vs = longs(r.read(key + "-values"));
      for (int i = 0; i < ks.length; i++) {
        if (ks[i] != -1) {
          used.put(ks[i], vs[i]);
        }
      }
      assertEquals(Map.of(10L, 100L, 20L, 200L, 30L, 300L), used);
    }
    String tf1 = path("dense-tf1/model.ckpt-1");
    LocalMigration.run(io, prefix, tf1, MigrationSpec.to(CheckpointFormat.TF1), 1, false);
    OracleSupport.assertVerifiesClean(io, tf1);
    try (CheckpointReader src = CheckpointReader.open(io, prefix);
        CheckpointReader one = CheckpointReader.open(io, tf1)) {
      assertSameBytes(src, key + "-keys", one, "ids/table-keys");
      assertSameBytes(src, key + "-values", one, "ids/table-values");
    }
    List<OracleTensor> found =
        tf.restoreTableAndFind(
            tf1,
            TfOracle.TableKind.DENSE_HASH,
            "ids/table",
            OracleTensor.DT_INT64,
            OracleTensor.DT_INT64,
            empty,
            deleted,
            TableCheckpoints.int64("query", 30, 10, 99, 20),
            TableCheckpoints.int64Scalar("missing", 0));
    assertArrayEquals(new long[] {300, 100, 0, 200}, longs(found.get(0)));
    assertArrayEquals(new long[] {3}, longs(found.get(1)));
  }

  // ---- helpers ----

  private static Map<String, Long> expectedTable() {
    Map<String, Long> m = new TreeMap<>();
    for (int i = 0; i < TOKENS.size(); i++) {
      m.put(TOKENS.get(i), TableCheckpoints.valueOf(i));
    }
    return m;
  }

  /** The table as Rebundle reads it: export order is TensorFlow's, so compare as a map. */
  private static Map<String, Long> table(CheckpointReader r, String key) {
    Tensor k = r.read(key + "-keys");
    long[] v = longs(r.read(key + "-values"));
    Map<String, Long> m = new TreeMap<>();
    for (int i = 0; i < v.length; i++) {
      m.put(new String(k.strings().get(i), StandardCharsets.UTF_8), v[i]);
    }
    assertEquals(v.length, m.size(), "keys are distinct");
    return m;
  }

  private static TreeSet<String> keys(CheckpointReader r) {
    TreeSet<String> keys = new TreeSet<>();
    for (IndexRecord rec : r.records()) {
      if (!rec.isSliceEntry()) {
        keys.add(rec.name());
      }
    }
    return keys;
  }

  /** Same dtype, shape, stored size and checksum, and the same stored bytes. */
  private static void assertSameBytes(
      CheckpointReader a, String keyA, CheckpointReader b, String keyB) {
    BundleEntry ea = a.entry(keyA);
    BundleEntry eb = b.entry(keyB);
    assertEquals(ea.dtype(), eb.dtype(), keyB);
    assertArrayEquals(ea.shape().dims(), eb.shape().dims(), keyB);
    assertEquals(ea.size(), eb.size(), keyB);
    assertEquals(ea.crc32c(), eb.crc32c(), keyB);
    assertArrayEquals(a.readRaw(keyA, ea), b.readRaw(keyB, eb), keyB);
  }

  private static long[] longs(Tensor t) {
    long[] out = new long[t.data().length / 8];
    ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  private static long[] longs(OracleTensor t) {
    long[] out = new long[t.data().length / 8];
    ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }
}
