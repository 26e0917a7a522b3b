package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checkpoints under {@code conf/examples/} are written by TensorFlow's own SaveV2 kernel in
 * this test. It checks the committed files are exactly what TensorFlow writes today; run with
 * {@code -Drebundle.examples.write=true} to (re)write them.
 */
class ExamplesIT extends OracleTestBase {

  static Path examples() {
    String root = System.getProperty("rebundle.repo.root");
    Path base = root == null ? Path.of("..") : Path.of(root);
    return base.resolve("conf/examples");
  }

  static byte[] float32(float v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
  }

  static byte[] int64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  /** The migration guide's TF1 checkpoint: float32 scalars a=1, b=2, scoped/c=3 (Saver order). */
  @Test
  void tf1CheckpointOfTheMigrationGuide() throws IOException {
    String prefix = dir.resolve("tf1-ckpt").toString();
    tf.save(
        prefix,
        List.of(
            OracleTensor.of("a", 1, new long[0], float32(1)),
            OracleTensor.of("b", 1, new long[0], float32(2)),
            OracleTensor.of("scoped/c", 1, new long[0], float32(3))));
    compareOrWrite(Path.of(prefix).getParent(), examples(), "tf1-ckpt");
    try (CheckpointReader r =
        CheckpointReader.open(io, examples().resolve("tf1-ckpt").toString())) {
      assertArrayEquals(float32(3), r.read("scoped/c").data());
    }
  }

  /**
   * The guide's TF2 checkpoint, {@code tf.train.Checkpoint(variables=[a, b, c]).save(...)}: list
   * items 0..2 (5, 6, 7), save_counter 1, and the object graph TensorFlow builds for it. TensorFlow
   * stores tensors in node-id order with the graph last.
   */
  @Test
  void tf2CheckpointOfTheMigrationGuide() throws IOException {
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject variables = b.root().child("variables");
    b.root().child("save_counter").variable("save_counter");
    variables.child("0").variable("a");
    variables.child("1").variable("b");
    variables.child("2").variable("c");
    ObjectGraph graph = b.build();
    Path out = dir.resolve("tf2-ckpt");
    String prefix = out.resolve("ckpt-1").toString();
    tf.save(
        prefix,
        List.of(
            OracleTensor.of("save_counter/.ATTRIBUTES/VARIABLE_VALUE", 9, new long[0], int64(1)),
            OracleTensor.of("variables/0/.ATTRIBUTES/VARIABLE_VALUE", 1, new long[0], float32(5)),
            OracleTensor.of("variables/1/.ATTRIBUTES/VARIABLE_VALUE", 1, new long[0], float32(6)),
            OracleTensor.of("variables/2/.ATTRIBUTES/VARIABLE_VALUE", 1, new long[0], float32(7)),
            OracleTensor.ofStrings(Naming.OBJECT_GRAPH_KEY, new long[0], List.of(graph.encode()))));
    CheckpointState.of("ckpt-1").write(io, out.toString());
    compareOrWrite(out, examples().resolve("tf2-ckpt"), "ckpt-1");
    compareOrWrite(out, examples().resolve("tf2-ckpt"), Naming.STATE_FILE);
    try (CheckpointReader r =
        CheckpointReader.open(io, examples().resolve("tf2-ckpt").toString())) {
      assertTrue(r.isObjectBased());
      assertEquals(graph, r.objectGraph());
      assertArrayEquals(float32(7), r.read("variables/2/.ATTRIBUTES/VARIABLE_VALUE").data());
    }
  }

  /**
   * Compares every file of {@code from} whose name starts with {@code name} with its committed
   * copy.
   */
  private static void compareOrWrite(Path from, Path committed, String name) throws IOException {
    boolean write = Boolean.getBoolean("rebundle.examples.write");
    List<Path> files;
    try (var s = Files.list(from)) {
      files = s.filter(p -> p.getFileName().toString().startsWith(name)).sorted().toList();
    }
    assertTrue(!files.isEmpty(), "TensorFlow wrote no " + name + " files");
    for (Path f : files) {
      Path target = committed.resolve(f.getFileName());
      if (write) {
        Files.createDirectories(committed);
        Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      assertTrue(
          Files.exists(target),
          "missing committed example " + target + " (run with -Drebundle.examples.write=true)");
      assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(target), "example " + target);
    }
  }
}
