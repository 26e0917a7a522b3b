package io.rebundle.jobs.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.NameMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The hf-bert preset against transformers' {@code load_tf_weights_in_bert} rules, on every key
 * family of Google's BERT checkpoints. {@link #FAMILIES} is the expected result, written out by
 * hand from those rules: source name, its (non-square where it has two dimensions) shape, target
 * name, and whether the tensor is transposed.
 */
public class HfBertPresetTest {
  /** One BERT tensor: source name, source shape, transformers name, transposed or not. */
  public record Family(String source, long[] shape, String target, boolean transposed) {}

  public static final List<Family> FAMILIES =
      List.of(
          new Family(
              "bert/embeddings/word_embeddings",
              new long[] {10, 4},
              "bert.embeddings.word_embeddings.weight",
              false),
          new Family(
              "bert/embeddings/position_embeddings",
              new long[] {8, 4},
              "bert.embeddings.position_embeddings.weight",
              false),
          new Family(
              "bert/embeddings/token_type_embeddings",
              new long[] {2, 4},
              "bert.embeddings.token_type_embeddings.weight",
              false),
          new Family(
              "bert/embeddings/LayerNorm/gamma",
              new long[] {4},
              "bert.embeddings.LayerNorm.weight",
              false),
          new Family(
              "bert/embeddings/LayerNorm/beta",
              new long[] {4},
              "bert.embeddings.LayerNorm.bias",
              false),
          new Family(
              "bert/encoder/layer_0/attention/self/query/kernel",
              new long[] {4, 3},
              "bert.encoder.layer.0.attention.self.query.weight",
              true),
          new Family(
              "bert/encoder/layer_0/attention/self/query/bias",
              new long[] {3},
              "bert.encoder.layer.0.attention.self.query.bias",
              false),
          new Family(
              "bert/encoder/layer_0/attention/self/key/kernel",
              new long[] {4, 5},
              "bert.encoder.layer.0.attention.self.key.weight",
              true),
          new Family(
              "bert/encoder/layer_0/attention/self/key/bias",
              new long[] {5},
              "bert.encoder.layer.0.attention.self.key.bias",
              false),
          new Family(
              "bert/encoder/layer_0/attention/self/value/kernel",
              new long[] {4, 7},
              "bert.encoder.layer.0.attention.self.value.weight",
              true),
          new Family(
              "bert/encoder/layer_0/attention/self/value/bias",
              new long[] {7},
              "bert.encoder.layer.0.attention.self.value.bias",
              false),
          new Family(
              "bert/encoder/layer_0/attention/output/dense/kernel",
              new long[] {3, 4},
              "bert.encoder.layer.0.attention.output.dense.weight",
              true),
          new Family(
              "bert/encoder/layer_0/attention/output/dense/bias",
              new long[] {4},
              "bert.encoder.layer.0.attention.output.dense.bias",
              false),
          new Family(
              "bert/encoder/layer_0/attention/output/LayerNorm/gamma",
              new long[] {4},
              "bert.encoder.layer.0.attention.output.LayerNorm.weight",
              false),
          new Family(
              "bert/encoder/layer_0/attention/output/LayerNorm/beta",
              new long[] {4},
              "bert.encoder.layer.0.attention.output.LayerNorm.bias",
              false),
          new Family(
              "bert/encoder/layer_0/intermediate/dense/kernel",
              new long[] {4, 6},
              "bert.encoder.layer.0.intermediate.dense.weight",
              true),
          new Family(
              "bert/encoder/layer_0/intermediate/dense/bias",
              new long[] {6},
              "bert.encoder.layer.0.intermediate.dense.bias",
              false),
          new Family(
              "bert/encoder/layer_0/output/dense/kernel",
              new long[] {6, 4},
              "bert.encoder.layer.0.output.dense.weight",
              true),
          new Family(
              "bert/encoder/layer_0/output/dense/bias",
              new long[] {4},
              "bert.encoder.layer.0.output.dense.bias",
              false),
          new Family(
              "bert/encoder/layer_0/output/LayerNorm/gamma",
              new long[] {4},
              "bert.encoder.layer.0.output.LayerNorm.weight",
              false),
          new Family(
              "bert/encoder/layer_0/output/LayerNorm/beta",
              new long[] {4},
              "bert.encoder.layer.0.output.LayerNorm.bias",
              false),
          new Family(
              "bert/encoder/layer_11/intermediate/dense/kernel",
              new long[] {4, 6},
              "bert.encoder.layer.11.intermediate.dense.weight",
              true),
          new Family(
              "bert/pooler/dense/kernel", new long[] {4, 2}, "bert.pooler.dense.weight", true),
          new Family("bert/pooler/dense/bias", new long[] {2}, "bert.pooler.dense.bias", false),
          new Family("cls/predictions/output_bias", new long[] {10}, "cls.predictions.bias", false),
          new Family(
              "cls/predictions/transform/dense/kernel",
              new long[] {4, 3},
              "cls.predictions.transform.dense.weight",
              true),
          new Family(
              "cls/predictions/transform/dense/bias",
              new long[] {3},
              "cls.predictions.transform.dense.bias",
              false),
          new Family(
              "cls/predictions/transform/LayerNorm/gamma",
              new long[] {3},
              "cls.predictions.transform.LayerNorm.weight",
              false),
          new Family(
              "cls/predictions/transform/LayerNorm/beta",
              new long[] {3},
              "cls.predictions.transform.LayerNorm.bias",
              false),
          new Family(
              "cls/seq_relationship/output_weights",
              new long[] {2, 4},
              "cls.seq_relationship.weight",
              false),
          new Family(
              "cls/seq_relationship/output_bias",
              new long[] {2},
              "cls.seq_relationship.bias",
              false));

  /** Names load_tf_weights_in_bert skips: optimizer moments and the step counter. */
  public static final List<String> SKIPPED =
      List.of(
          "global_step",
          "bert/encoder/layer_0/attention/self/query/kernel/adam_m",
          "bert/encoder/layer_0/attention/self/query/kernel/adam_v",
          "cls/seq_relationship/output_weights/adam_m");

  @Test
  void mapsEveryBertKeyFamilyToTransformersNames() {
    MappingRules rules = MappingFile.preset("hf-bert");
    List<String> sources = new ArrayList<>(SKIPPED);
    FAMILIES.forEach(f -> sources.add(f.source()));
    NameMapper.Result r = NameMapper.map(sources, rules, "bert");
    Map<String, List<String>> expected = new LinkedHashMap<>();
    FAMILIES.forEach(f -> expected.put(f.source(), List.of(f.target())));
    assertEquals(expected, r.targets());
    assertEquals(SKIPPED, r.dropped().stream().map(MigrationPlan.Dropped::key).toList());
    assertTrue(r.warnings().isEmpty(), r.warnings().toString());
  }

  @Test
  void transposesKernelsAndNothingElse() {
    MappingRules rules = MappingFile.preset("hf-bert");
    for (Family f : FAMILIES) {
      MappingRules.Transform t =
          rules.transforms().stream()
              .filter(x -> x.match().matcher(f.target()).matches())
              .findFirst()
              .orElse(null);
      if (f.transposed()) {
        assertArrayEquals(new int[] {1, 0}, t.transpose(), f.source());
        assertEquals(2, f.shape().length);
        assertTrue(
            f.shape()[0] != f.shape()[1], "non-square so the transpose shows: " + f.source());
      } else {
        assertNull(t, f.source() + " keeps its layout");
      }
    }
  }

  @Test
  void segmentsRulesAreValidatedWhereTheyAreWritten() {
    String bad =
        String.join(
            "\n",
            "segments:",
            "  split: '/'",
            "  join: '.'",
            "  rules:",
            "    - {match: 'layer_(\\d+)', to: 'layer.$2'}");
    InvalidMessage.assertStartsWith(
        "Invalid mapping file m.yaml:5:7: invalid replacement 'layer.$2': group $2 does "
            + "not exist in 'layer_(\\d+)' (1 groups)",
        bad);
    String noSplit = String.join("\n", "segments:", "  join: '.'");
    InvalidMessage.assertStartsWith("Invalid mapping file m.yaml:2:3: missing 'split'", noSplit);
    String unknown =
        String.join(
            "\n",
            "segments:",
            "  split: '/'",
            "  join: '.'",
            "  rules:",
            "    - {match: 'a', to: 'b', first: true}");
    InvalidMessage.assertStartsWith(
        "Invalid mapping file m.yaml:5:29: unknown key 'first' (expected last, match, to)",
        unknown);
  }

  @Test
  void segmentsRewriteNamesOfAnyDepthAndCountAsMappedUnderStrict() {
    MappingRules rules =
        MappingFile.parse(
            "m.yaml",
            String.join(
                "\n",
                "strict: true",
                "segments:",
                "  split: '/'",
                "  join: '::'",
                "  rules:",
                "    - {match: 'w', to: 'weight'}",
                "    - {match: '(.*)_norm', to: 'norm.$1', last: true}"));
    NameMapper.Result r = NameMapper.map(List.of("a/b/c/w", "w", "x_norm/y_norm"), rules, "ckpt");
    assertEquals(
        Map.of(
            "a/b/c/w",
            List.of("a::b::c::weight"),
            "w",
            List.of("weight"),
            "x_norm/y_norm",
            List.of("x_norm::norm.y")),
        r.targets());
  }

  @Test
  void mapAndPresetTogetherAreRefused() {
    MappingFile.InvalidMappingException e =
        assertThrows(
            MappingFile.InvalidMappingException.class,
            () -> MappingFile.load(java.nio.file.Path.of("m.yaml"), "hf-bert"));
    assertEquals(
        "Invalid options: give --map or --preset, not both (start from the preset's text to combine them)",
        e.getMessage());
    assertTrue(MappingFile.load(null, null).isEmpty());
  }

  /** Asserts the message of a refused mapping file. */
  static final class InvalidMessage {
    static void assertStartsWith(String expected, String text) {
      String m =
          assertThrows(
                  MappingFile.InvalidMappingException.class,
                  () -> MappingFile.parse("m.yaml", text))
              .getMessage();
      assertTrue(m.startsWith(expected), m);
    }
  }
}
