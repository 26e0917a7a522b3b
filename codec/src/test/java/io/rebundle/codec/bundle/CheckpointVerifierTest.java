package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.LocalFileIO;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointVerifierTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String prefix;

  @BeforeEach
  void write() {
    prefix = dir.resolve("ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 2, false)) {
      w.add(0, "a", Tensor.of(DType.FLOAT, TensorShape.of(2), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
      w.add(
          1,
          "b",
          Tensor.ofStrings(
              TensorShape.of(2),
              List.of("xy".getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xFF})));
      w.addSlice(
          0,
          "emb",
          TensorShape.of(2, 2),
          TensorSlice.parse("0,1:-"),
          Tensor.of(DType.INT32, TensorShape.of(1, 2), new byte[8]));
      w.addSlice(
          1,
          "emb",
          TensorShape.of(2, 2),
          TensorSlice.parse("1,1:-"),
          Tensor.of(DType.INT32, TensorShape.of(1, 2), new byte[] {1, 0, 0, 0, 2, 0, 0, 0}));
      w.finish();
    }
  }

  @Test
  void passesAnIntactCheckpoint() {
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertTrue(s.ok(), s.findings().toString());
    assertEquals(2, s.numShards());
    assertEquals(3, s.tensors());
    assertEquals(5, s.entries());
  }

  /** The promise of verify: any single damaged byte, anywhere, is found. */
  @Test
  void findsEverySingleFlippedByteInEveryFile() throws IOException {
    for (String file :
        List.of(
            Naming.indexFile(prefix),
            Naming.dataFile(prefix, 0, 2),
            Naming.dataFile(prefix, 1, 2))) {
      Path p = Path.of(file);
      byte[] original = Files.readAllBytes(p);
      for (int mask : new int[] {0x01, 0x80}) {
        for (int i = 0; i < original.length; i++) {
          final int i2 = i;
          byte[] damaged = original.clone();
          damaged[i] ^= (byte) mask;
          Files.write(p, damaged);
          CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
          assertFalse(
              s.ok(),
              () ->
                  "flip 0x"
                      + Integer.toHexString(mask)
                      + " at byte "
                      + i2
                      + " of "
                      + file
                      + " ("
                      + original.length
                      + " bytes) went unnoticed: "
                      + hex(damaged));
          if (false)
            assertFalse(
                s.ok(),
                "flip 0x"
                    + Integer.toHexString(mask)
                    + " at byte "
                    + i
                    + " of "
                    + file
                    + " went unnoticed");
        }
      }
      Files.write(p, original);
    }
  }

  static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }

  @Test
  void reportsAllProblemsNotJustTheFirst() throws IOException {
    Path d0 = Path.of(Naming.dataFile(prefix, 0, 2));
    byte[] b = Files.readAllBytes(d0);
    b[0] ^= 1;
    Files.write(d0, b);
    Files.delete(Path.of(Naming.dataFile(prefix, 1, 2)));
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    List<String> messages =
        s.findings().stream().map(CheckpointVerifier.Finding::toString).toList();
    assertTrue(
        messages.stream().anyMatch(m -> m.contains("[a]") && m.contains("Checksum mismatch")),
        messages.toString());
    assertTrue(
        messages.stream().anyMatch(m -> m.contains("data file (shard 1 of 2) is missing")),
        messages.toString());
    assertTrue(messages.stream().anyMatch(m -> m.contains("[b]")), messages.toString());
  }

  @Test
  void reportsBytesNoEntryCovers() throws IOException {
    Path d1 = Path.of(Naming.dataFile(prefix, 1, 2));
    Files.write(d1, new byte[] {9, 9, 9}, java.nio.file.StandardOpenOption.APPEND);
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertEquals(1, s.findings().size(), s.findings().toString());
    long len = Files.size(d1);
    assertEquals(
        d1
            + " @"
            + (len - 3)
            + ": bytes ["
            + (len - 3)
            + ", "
            + len
            + ") at the end are covered by no entry",
        s.findings().get(0).toString());
  }

  /**
   * A hash table saved as TensorFlow saves a saveable with two specs (lookup_ops.py,
   * MutableHashTable._Saveable; docs/object-graph-attributes.md): the object graph names {@code
   * table/.ATTRIBUTES/table}, the index holds that key plus "-keys" and "-values". Verify must not
   * call this broken, and must still report an attribute with no tensor at all.
   */
  @Test
  void acceptsAttributesSavedAsSeveralTensors() {
    String table = dir.resolve("table").toString();
    String key = "table/.ATTRIBUTES/table";
    ObjectGraph graph =
        new ObjectGraph(
            List.of(
                new ObjectGraph.Node(
                    0,
                    List.of(new ObjectGraph.Child(1, "table"), new ObjectGraph.Child(2, "gone")),
                    List.of(),
                    List.of(),
                    null,
                    null),
                new ObjectGraph.Node(
                    1,
                    List.of(),
                    List.of(new ObjectGraph.Attribute("table", "hash_table", key)),
                    List.of(),
                    null,
                    null),
                new ObjectGraph.Node(
                    2,
                    List.of(),
                    List.of(new ObjectGraph.Attribute("table", "", "gone/.ATTRIBUTES/table")),
                    List.of(),
                    null,
                    null)));
    try (CheckpointWriter w = CheckpointWriter.create(io, table, 1, false)) {
      w.add(
          0,
          Naming.OBJECT_GRAPH_KEY,
          Tensor.ofStrings(TensorShape.SCALAR, List.of(graph.encode())));
      w.add(
          0,
          key + "-keys",
          Tensor.ofStrings(
              TensorShape.of(2),
              List.of("a".getBytes(StandardCharsets.UTF_8), "b".getBytes(StandardCharsets.UTF_8))));
      w.add(0, key + "-values", Tensor.of(DType.INT64, TensorShape.of(2), new byte[16]));
      // Another object's tensor under the same prefix plus a slash belongs to that object, not this
      // one.
      w.add(0, "gone/.ATTRIBUTES/table/x", Tensor.of(DType.FLOAT, TensorShape.of(1), new byte[4]));
      w.finish();
    }
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, table, null);
    assertEquals(
        List.of(
            "object graph node 2 names checkpoint key gone/.ATTRIBUTES/table, which is not in the index"),
        s.findings().stream().map(CheckpointVerifier.Finding::message).toList());
    java.util.NavigableSet<String> keys =
        new java.util.TreeSet<>(List.of(key + "-keys", key + "-values", "tablex/y"));
    assertEquals(List.of(key + "-keys", key + "-values"), AttributeTensors.of(keys, key));
  }
}
