package io.rebundle.codec.oracle;

import static io.rebundle.codec.oracle.OracleSupport.FIXED_DTYPES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * TensorFlow writes a multi-shard TF1 checkpoint (SaveV2 per shard, then MergeV2Checkpoints, as a
 * sharded Saver does); Rebundle converts it to TF2 reusing the data files whole (hard links, then
 * whole-file copies); TensorFlow restores every tensor of the output (RestoreV2), and of the TF1
 * checkpoint converted back the same way.
 */
class FileReuseOracleIT extends OracleTestBase {
  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  /**
   * Every fixed-size dtype, strings, an empty tensor and a variable partitioned in two, spread over
   * three shards by TensorFlow itself. Returns the full value of every key.
   */
  private Map<String, Tensor> writeShardedTf1WithTensorFlow(String prefix) {
    Random random = new Random(77);
    Map<String, Tensor> expected = new LinkedHashMap<>();
    List<List<OracleTensor>> shards =
        List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    int i = 0;
    for (DType dtype : FIXED_DTYPES) {
      long[] shape = {3, 2};
      Tensor t =
          Tensor.of(dtype, TensorShape.of(shape), OracleSupport.randomData(dtype, shape, random));
      String key = "model/" + dtype.displayName() + "/w";
      expected.put(key, t);
      shards.get(i++ % 3).add(OracleSupport.toOracle(key, t));
    }
    Tensor strings = Tensor.ofStrings(TensorShape.of(2, 3), OracleSupport.sampleStrings());
    expected.put("vocab/words", strings);
    shards.get(0).add(OracleSupport.toOracle("vocab/words", strings));
    Tensor empty = Tensor.of(DType.FLOAT, TensorShape.of(0, 4), new byte[0]);
    expected.put("empty", empty);
    shards.get(1).add(OracleSupport.toOracle("empty", empty));
    Tensor emb =
        Tensor.of(
            DType.FLOAT,
            TensorShape.of(4, 3),
            OracleSupport.randomData(DType.FLOAT, new long[] {4, 3}, random));
    expected.put("part/emb", emb);
    shards
        .get(1)
        .add(
            OracleTensor.slice(
                "part/emb",
                DType.FLOAT.code(),
                new long[] {2, 3},
                ConvertOracleIT.block(emb, 3, 0, 2, 0, 3),
                "4 3 0,2:0,3"));
    shards
        .get(2)
        .add(
            OracleTensor.slice(
                "part/emb",
                DType.FLOAT.code(),
                new long[] {2, 3},
                ConvertOracleIT.block(emb, 3, 2, 2, 0, 3),
                "4 3 2,2:0,3"));
    List<String> parts = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      String part = path("tmp/part-" + s);
      tf.savePart(part, shards.get(s));
      parts.add(part);
    }
    tf.merge(parts, prefix);
    return expected;
  }

  private static void assertTensorFlowRestoresAll(
      String prefix,
      Map<String, Tensor> expected,
      java.util.function.UnaryOperator<String> rename) {
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      String key = rename.apply(e.getKey());
      Tensor restored =
          OracleSupport.fromOracle(tf.restore(prefix, key, e.getValue().dtype().code(), ""));
      assertEquals(e.getValue(), restored, key);
    }
  }

  private static Object inode(String file) throws IOException {
    return Files.getAttribute(Path.of(file), "unix:ino");
  }

  @Test
  void tensorFlowRestoresEveryTensorOfTf2OutputsWhoseDataFilesAreLinkedOrCopied()
      throws IOException {
    String source = path("tf1/model.ckpt-100");
    Map<String, Tensor> expected = writeShardedTf1WithTensorFlow(source);
    for (FileReuse.Mode mode : List.of(FileReuse.Mode.LINK, FileReuse.Mode.COPY)) {
      String out = path(mode.id() + "/ckpt-1");

      LocalMigration.Result r =
          LocalMigration.run(
              io,
              source,
              out,
              MigrationSpec.to(CheckpointFormat.TF2),
              MappingRules.none(),
              0,
              false,
              FileReuse.Policy.of(mode));

      assertEquals(mode, r.layout().mode());
      assertEquals(List.of(), r.layout().rejected());
      assertEquals(4, r.layout().numShards());
      for (int s = 0; s < 3; s++) {
        String from = Naming.dataFile(source, s, 3);
        String to = Naming.dataFile(out, s, 4);
        if (mode == FileReuse.Mode.LINK) {
          assertEquals(inode(from), inode(to), to);
        } else {
          assertNotEquals(inode(from), inode(to), to);
          assertEquals(-1, Files.mismatch(Path.of(from), Path.of(to)), to);
        }
      }
      assertTensorFlowRestoresAll(out, expected, ConvertOracleIT::tf2Key);
      assertArrayEquals(
          new byte[] {1, 0, 0, 0, 0, 0, 0, 0},
          tf.restore(out, "save_counter" + VALUE, DType.INT64.code()).data());
      // TF cuts slices out of the partitioned variable, now read through the reused files.
      assertArrayEquals(
          ConvertOracleIT.block(expected.get("part/emb"), 3, 2, 2, 0, 3),
          tf.restore(out, ConvertOracleIT.tf2Key("part/emb"), DType.FLOAT.code(), "4 3 2,2:0,3")
              .data());
      try (CheckpointReader reader = CheckpointReader.open(io, out)) {
        ObjectGraph graph = reader.objectGraph();
        assertArrayEquals(
            graph.encode(),
            tf.restore(out, Naming.OBJECT_GRAPH_KEY, DType.STRING.code()).strings().get(0));
      }
      assertTrue(CheckpointVerifier.verify(io, out, null).ok());
    }
  }

  @Test
  void tensorFlowRestoresTheOriginalKeysAfterLinkingBackToTf1() throws IOException {
    String source = path("tf1/model.ckpt-100");
    Map<String, Tensor> expected = writeShardedTf1WithTensorFlow(source);
    String tf2 = path("tf2/ckpt-1");
    LocalMigration.run(
        io,
        source,
        tf2,
        MigrationSpec.to(CheckpointFormat.TF2),
        MappingRules.none(),
        0,
        false,
        FileReuse.Policy.of(FileReuse.Mode.LINK));
    String back = path("back/model.ckpt-100");

    LocalMigration.Result r =
        LocalMigration.run(
            io,
            tf2,
            back,
            MigrationSpec.to(CheckpointFormat.TF1),
            MappingRules.none(),
            0,
            false,
            FileReuse.Policy.of(FileReuse.Mode.LINK));

    assertEquals(3, r.layout().numShards());
    assertEquals(1, r.layout().rejected().size());
    for (int s = 0; s < 3; s++) {
      assertEquals(inode(Naming.dataFile(source, s, 3)), inode(Naming.dataFile(back, s, 3)));
    }
    assertTensorFlowRestoresAll(back, expected, k -> k);
  }
}
