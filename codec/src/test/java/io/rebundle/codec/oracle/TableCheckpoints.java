package io.rebundle.codec.oracle;

import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoints holding a lookup table, written by TensorFlow's own kernels: the layout Keras {@code
 * TextVectorization} / {@code StringLookup} layers save (docs/object-graph-attributes.md). The
 * table object's attribute {@code table} has the checkpoint key {@code table/.ATTRIBUTES/table},
 * and TensorFlow saves its export as {@code table/.ATTRIBUTES/table-keys} and {@code
 * table/.ATTRIBUTES/table-values}; beside it a float variable {@code embedding} and {@code
 * save_counter}. Public so that the jobs tests (through the test jar) use the same fixture.
 */
public final class TableCheckpoints {
  private TableCheckpoints() {}

  /**
   * The table attribute's checkpoint key; the tensors are this plus {@code -keys}/{@code -values}.
   */
  public static final String TABLE_KEY = "table/.ATTRIBUTES/table";

  public static final String EMBEDDING_KEY = "embedding/.ATTRIBUTES/VARIABLE_VALUE";
  public static final String SAVE_COUNTER_KEY = "save_counter/.ATTRIBUTES/VARIABLE_VALUE";

  /** The vocabulary: each token maps to its position plus 2 (0 and 1 are padding and OOV). */
  public static final List<String> TOKENS = List.of("the", "cat", "sat", "on", "mät", "");

  /** Embedding values, float32 [3, 2], in order. */
  public static final float[] EMBEDDING = {0.5f, -1.25f, 3f, 1e-3f, -0f, 7.75f};

  public static boolean available() {
    return TfOracle.available();
  }

  /** The vocabulary index of {@code TOKENS.get(i)}. */
  public static long valueOf(int i) {
    return i + 2L;
  }

  /** The object graph the checkpoint carries: root with table, embedding and save_counter. */
  public static ObjectGraph graph() {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    b.root().child("table").attribute("table", "string_lookup_index_table");
    b.root().child("embedding").variable("embedding");
    b.root().child("save_counter").variable("save_counter");
    return b.build();
  }

  /**
   * Writes the checkpoint at {@code prefix} with TensorFlow: a {@code MutableHashTableV2} (string
   * keys, int64 values) filled with {@link #TOKENS}, exported with LookupTableExportV2 and saved
   * with SaveV2 in the same run as the variable, save_counter and object graph.
   */
  public static void writeMutableHashTable(String prefix) {
    try (TfOracle tf = TfOracle.open()) {
      tf.saveTable(
          prefix,
          TfOracle.TableKind.MUTABLE_HASH,
          TABLE_KEY,
          keys(),
          values(),
          null,
          null,
          others());
    }
  }

  static OracleTensor keys() {
    List<byte[]> k = new ArrayList<>();
    TOKENS.forEach(t -> k.add(t.getBytes(StandardCharsets.UTF_8)));
    return OracleTensor.ofStrings("keys", new long[] {TOKENS.size()}, k);
  }

  static OracleTensor values() {
    long[] v = new long[TOKENS.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = valueOf(i);
    }
    return int64("values", v);
  }

  static OracleTensor int64(String key, long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return OracleTensor.of(key, OracleTensor.DT_INT64, new long[] {v.length}, b.array());
  }

  static OracleTensor int64Scalar(String key, long v) {
    byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    return OracleTensor.of(key, OracleTensor.DT_INT64, new long[0], b);
  }

  /** The embedding as little-endian float32 bytes. */
  public static byte[] embeddingBytes() {
    ByteBuffer b = ByteBuffer.allocate(4 * EMBEDDING.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : EMBEDDING) {
      b.putFloat(f);
    }
    return b.array();
  }

  static List<OracleTensor> others() {
    return List.of(
        OracleTensor.of(EMBEDDING_KEY, 1, new long[] {3, 2}, embeddingBytes()),
        int64Scalar(SAVE_COUNTER_KEY, 1),
        OracleTensor.ofStrings(Naming.OBJECT_GRAPH_KEY, new long[0], List.of(graph().encode())));
  }
}
