package io.rebundle.codec.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Varints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Checkpoints and source indexes shared by the planner tests. */
public final class PlanFixtures {
  private PlanFixtures() {}

  public static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  public static byte[] float32(float v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
  }

  public static byte[] int64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  public static Tensor scalar(float v) {
    return Tensor.of(DType.FLOAT, TensorShape.SCALAR, float32(v));
  }

  /** The migration guide's {@code tf1-ckpt}: float32 scalars a=1, b=2, scoped/c=3. */
  public static void writeGuideTf1(FileIO io, String prefix) {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("a", scalar(1));
      w.add("b", scalar(2));
      w.add("scoped/c", scalar(3));
      w.finish();
    }
  }

  public static SourceIndex read(FileIO io, String prefix) {
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      return SourceIndex.read(r);
    }
  }

  /**
   * A TF2 source index without files: one float32 scalar per attribute of {@code graph} (at
   * increasing offsets of shard 0), the {@code extraKeys}, and the object graph itself, in key
   * order.
   */
  public static SourceIndex tf2Index(String prefix, ObjectGraph graph, String... extraKeys) {
    Set<String> keys = new TreeSet<>(Bytes.KEY_ORDER);
    for (ObjectGraph.Node n : graph.nodes()) {
      n.attributes().forEach(a -> keys.add(a.checkpointKey()));
    }
    keys.addAll(List.of(extraKeys));
    keys.add(Naming.OBJECT_GRAPH_KEY);
    List<IndexRecord> records = new ArrayList<>();
    long offset = 0;
    for (String k : keys) {
      records.add(
          new IndexRecord(
              Bytes.utf8(k), BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 0, offset, 4, 0)));
      offset += 4;
    }
    return new SourceIndex(prefix, 1, records, graph);
  }

  /** A TF1 source index without files: float32 scalars under {@code names}. */
  public static SourceIndex tf1Index(String prefix, String... names) {
    Set<String> keys = new TreeSet<>(Bytes.KEY_ORDER);
    keys.addAll(List.of(names));
    List<IndexRecord> records = new ArrayList<>();
    long offset = 0;
    for (String k : keys) {
      records.add(
          new IndexRecord(
              Bytes.utf8(k), BundleEntry.of(DType.FLOAT, TensorShape.SCALAR, 0, offset, 4, 0)));
      offset += 4;
    }
    return new SourceIndex(prefix, 1, records, null);
  }

  /** The source index a TF1-to-TF2 plan would write: its target keys, and its object graph. */
  public static SourceIndex outputOf(MigrationPlan plan, String prefix) {
    List<IndexRecord> records = new ArrayList<>();
    long offset = 0;
    for (PlannedTensor t : plan.tensors()) {
      records.add(new IndexRecord(t.targetKey(), t.toEntry(0, offset, 0)));
      offset += t.size();
    }
    records.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
    PlannedTensor graph = tensor(plan, Naming.OBJECT_GRAPH_KEY);
    return new SourceIndex(prefix, 1, records, graph == null ? null : graphOf(graph));
  }

  /** The planned tensor written under {@code target}, or null. */
  public static PlannedTensor tensor(MigrationPlan plan, String target) {
    return plan.tensors().stream()
        .filter(t -> Arrays.equals(t.targetKey(), Bytes.utf8(target)))
        .findFirst()
        .orElse(null);
  }

  public static List<String> targetNames(MigrationPlan plan) {
    return plan.tensors().stream()
        .map(t -> new String(t.targetKey(), java.nio.charset.StandardCharsets.UTF_8))
        .toList();
  }

  /**
   * The serialized object graph inside a planned DT_STRING scalar (§4.4: length, length CRC,
   * bytes).
   */
  public static byte[] graphBytes(PlannedTensor literal) {
    assertEquals(PlannedTensor.Kind.LITERAL, literal.kind());
    assertEquals(DType.STRING, ((PlannedTensor.Literal) literal).dtype());
    byte[] b = ((PlannedTensor.Literal) literal).bytes();
    Varints.Cursor c = new Varints.Cursor(b, 0, b.length);
    int len = (int) c.varint64();
    int start = c.position() + 4;
    assertEquals(b.length, start + len, "string scalar framing");
    return Arrays.copyOfRange(b, start, start + len);
  }

  public static ObjectGraph graphOf(PlannedTensor literal) {
    return ObjectGraph.parse(graphBytes(literal), "plan");
  }

  /**
   * Checks the plan accounts for every source key exactly once: as the source of an output entry
   * (slice parts of merges included) or as a dropped key.
   */
  public static void assertEverySourceKeyAccountedFor(SourceIndex source, MigrationPlan plan) {
    List<String> accounted = new ArrayList<>();
    for (PlannedTensor t : plan.tensors()) {
      if (t instanceof PlannedTensor.MergedSlices m) {
        accounted.add(Bytes.printable(m.sourceKey()));
        m.parts().forEach(p -> accounted.add(Bytes.printable(p.sourceKey())));
      } else if (t instanceof PlannedTensor.FromSource f) {
        accounted.add(Bytes.printable(f.sourceKey()));
      }
    }
    plan.dropped().forEach(d -> accounted.add(printableName(d.key())));
    List<String> expected = new ArrayList<>();
    source.records().forEach(r -> expected.add(Bytes.printable(r.key())));
    assertEquals(new TreeSet<>(expected), new TreeSet<>(accounted));
    assertEquals(
        expected.size(), accounted.size(), "a source key is accounted for twice: " + accounted);
  }

  /** Dropped keys are UTF-8 names (or printable slice keys); compare them as printable keys. */
  private static String printableName(String key) {
    return key.contains("\\x") ? key : Bytes.printable(Bytes.utf8(key));
  }
}
