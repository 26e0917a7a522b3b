package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.codec.migrate.MigrationResult;
import io.rebundle.codec.migrate.SafetensorsExport;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.safetensors.SafetensorsDType;
import io.rebundle.codec.safetensors.SafetensorsReader;
import io.rebundle.codec.source.TensorSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * TensorFlow writes a checkpoint (SaveV2), Rebundle exports it to safetensors and imports that back
 * into a TF1 and a TF2 checkpoint, and TensorFlow restores every imported tensor (RestoreV2, which
 * checks each entry's CRC32C): the values must be the ones TensorFlow saved.
 */
class SafetensorsImportOracleIT extends OracleTestBase {
  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  /**
   * Two BERT encoder layers' worth of Google's original names, small non-square dims (hidden 6,
   * intermediate 10, vocabulary 11), plus the training state an export leaves out.
   */
  private static Map<String, OracleTensor> bertShaped(Random random) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("bert/embeddings/word_embeddings", new long[] {11, 6});
    shapes.put("bert/embeddings/position_embeddings", new long[] {7, 6});
    shapes.put("bert/embeddings/token_type_embeddings", new long[] {2, 6});
    shapes.put("bert/embeddings/LayerNorm/gamma", new long[] {6});
    shapes.put("bert/embeddings/LayerNorm/beta", new long[] {6});
    for (int layer = 0; layer < 2; layer++) {
      String l = "bert/encoder/layer_" + layer;
      for (String proj : List.of("query", "key", "value")) {
        shapes.put(l + "/attention/self/" + proj + "/kernel", new long[] {6, 6});
        shapes.put(l + "/attention/self/" + proj + "/bias", new long[] {6});
      }
      shapes.put(l + "/attention/output/dense/kernel", new long[] {6, 6});
      shapes.put(l + "/attention/output/dense/bias", new long[] {6});
      shapes.put(l + "/attention/output/LayerNorm/gamma", new long[] {6});
      shapes.put(l + "/attention/output/LayerNorm/beta", new long[] {6});
      shapes.put(l + "/intermediate/dense/kernel", new long[] {6, 10});
      shapes.put(l + "/intermediate/dense/bias", new long[] {10});
      shapes.put(l + "/output/dense/kernel", new long[] {10, 6});
      shapes.put(l + "/output/dense/bias", new long[] {6});
      shapes.put(l + "/output/LayerNorm/gamma", new long[] {6});
      shapes.put(l + "/output/LayerNorm/beta", new long[] {6});
    }
    shapes.put("bert/pooler/dense/kernel", new long[] {6, 6});
    shapes.put("bert/pooler/dense/bias", new long[] {6});
    shapes.put("cls/predictions/output_bias", new long[] {11});
    shapes.put("cls/seq_relationship/output_weights", new long[] {2, 6});
    shapes.put("cls/seq_relationship/output_bias", new long[] {2});
    Map<String, OracleTensor> m = new LinkedHashMap<>();
    shapes.forEach(
        (k, s) ->
            m.put(
                k,
                OracleTensor.of(
                    k, DType.FLOAT.code(), s, OracleSupport.randomData(DType.FLOAT, s, random))));
    return m;
  }

  /** {@code convert --to safetensors SRC DST} through the codec's export path, in process. */
  private void export(String source, String destination) {
    MigrationRequest request =
        MigrationRequest.of(source, destination, MigrationSpec.to(CheckpointFormat.TF1));
    SafetensorsExport e = SafetensorsExport.prepare(io, request, w -> {}, UnaryOperator.identity());
    e.commit(LocalMigration.runTasks(io, e.tasks(), ProgressSink.NONE, 2));
  }

  private MigrationResult importTo(String source, String destination, CheckpointFormat target) {
    return LocalMigration.run(
        io,
        MigrationRequest.of(source, destination, MigrationSpec.to(target)),
        ProgressSink.NONE,
        2);
  }

  private static String tf2Key(String name) {
    return "vars/" + KeyEscaping.escape(name) + VALUE;
  }

  private void assertTensorFlowRestores(
      String prefix, Map<String, OracleTensor> expected, UnaryOperator<String> key) {
    for (OracleTensor want : expected.values()) {
      OracleTensor got = tf.restore(prefix, key.apply(want.key()), want.dtype());
      assertArrayEquals(want.shape(), got.shape(), want.key());
      assertArrayEquals(want.data(), got.data(), want.key());
    }
  }

  @Test
  void aBertShapedCheckpointSavedByTensorFlowComesBackThroughSafetensors() {
    Map<String, OracleTensor> weights = bertShaped(new Random(14));
    List<OracleTensor> saved = new ArrayList<>(weights.values());
    saved.add(
        OracleTensor.of(
            "global_step", DType.INT64.code(), new long[0], new byte[] {7, 0, 0, 0, 0, 0, 0, 0}));
    saved.add(
        OracleTensor.of(
            "bert/pooler/dense/kernel/adam_m",
            DType.FLOAT.code(),
            new long[] {6, 6},
            OracleSupport.randomData(DType.FLOAT, new long[] {6, 6}, new Random(1))));
    String ckpt = path("bert/bert_model.ckpt");
    tf.save(ckpt, saved);
    String st = path("hf/model.safetensors");

    export(ckpt, st);
    try (SafetensorsReader r = SafetensorsReader.open(io, st)) {
      List<String> names = new ArrayList<>();
      r.tensors().forEach(t -> names.add(t.name()));
      assertEquals(new java.util.TreeSet<>(weights.keySet()), new java.util.TreeSet<>(names));
    }

    String tf1 = path("tf1/bert_model.ckpt");
    MigrationResult r1 = importTo(st, tf1, CheckpointFormat.TF1);
    assertEquals(weights.size(), r1.plan().dataTensors());
    assertTensorFlowRestores(tf1, weights, k -> k);

    String tf2 = path("tf2/ckpt-1");
    importTo(st, tf2, CheckpointFormat.TF2);
    assertTensorFlowRestores(tf2, weights, SafetensorsImportOracleIT::tf2Key);
    assertArrayEquals(
        new byte[] {1, 0, 0, 0, 0, 0, 0, 0},
        tf.restore(tf2, "save_counter" + VALUE, DType.INT64.code()).data());
  }

  @Test
  void everyDtypeBothFormatsShareRestoresInTensorFlowAfterTheRoundTrip() {
    Random random = new Random(3);
    Map<String, OracleTensor> expected = new LinkedHashMap<>();
    for (DType dtype : OracleSupport.FIXED_DTYPES) {
      try {
        SafetensorsDType.fromTf("probe", dtype);
      } catch (UnsupportedCheckpointException noCounterpart) {
        continue;
      }
      for (long[] shape : List.of(new long[0], new long[] {2, 3}, new long[] {3, 0})) {
        String key = "t/" + dtype.displayName() + "/" + shape.length + "_" + shape(shape);
        expected.put(
            key,
            OracleTensor.of(
                key, dtype.code(), shape, OracleSupport.randomData(dtype, shape, random)));
      }
    }
    assertTrue(expected.size() >= 13 * 3, expected.keySet().toString());
    String ckpt = path("src/model.ckpt");
    tf.save(ckpt, new ArrayList<>(expected.values()));
    String st = path("model.safetensors");
    export(ckpt, st);
    try (SafetensorsReader r = SafetensorsReader.open(io, st)) {
      for (OracleTensor t : expected.values()) {
        TensorSource.SourceTensor s = r.find(t.key());
        assertEquals(t.dtype(), s.dtype().code(), t.key());
      }
    }

    String back = path("back/model.ckpt");
    importTo(st, back, CheckpointFormat.TF1);

    assertTensorFlowRestores(back, expected, k -> k);
  }

  private static String shape(long[] dims) {
    StringBuilder b = new StringBuilder();
    for (long d : dims) {
      b.append(b.length() == 0 ? "" : "x").append(d);
    }
    return b.toString();
  }
}
