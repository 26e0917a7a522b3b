package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * inspect as TensorFlow's inspect_checkpoint users expect: one tensor, a pattern, globs, JSON
 * Lines, all steps.
 */
class InspectConventionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path modelDir(String... steps) throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    for (String step : steps) {
      for (String suffix : new String[] {".index", ".data-00000-of-00001"}) {
        Files.copy(
            Path.of(CliRunner.example("tf1-ckpt") + suffix),
            model.resolve("ckpt-" + step + suffix));
      }
    }
    return model;
  }

  @Test
  void tensorPrintsOneTensorWithItsValues() {
    CliRunner r = CliRunner.run("inspect", "--tensor", "b", CliRunner.example("tf1-ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        String.join(
            "\n",
            "prefix: " + CliRunner.example("tf1-ckpt"),
            "format: tf1 (name-based), 1 shard, 1 tensors, 4 bytes (selected by --tensor)",
            "KEY  DTYPE       SHAPE         BYTES  SHARD  SLICES",
            "b    float32     []                4      0       0",
            "    2.",
            ""),
        r.out());
  }

  @Test
  void anUnknownTensorIsAUsageErrorWithSimilarKeys() {
    CliRunner r = CliRunner.run("inspect", "--tensor", "c", CliRunner.example("tf1-ckpt"));
    assertEquals(2, r.exitCode());
    assertEquals(
        "rebundle: Invalid --tensor: "
            + CliRunner.example("tf1-ckpt")
            + " has no tensor 'c' (similar: "
            + "scoped/c)\n",
        r.err().lines().findFirst().get() + "\n");
  }

  @Test
  void keysSelectsByRegexAndJsonlPrintsOneObjectPerLine() throws Exception {
    CliRunner r =
        CliRunner.run(
            "inspect", "--keys", "^(a|scoped/)", "--jsonl", CliRunner.example("tf1-ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size(), r.out());
    JsonNode first = JSON.readTree(lines.get(0));
    assertEquals(CliRunner.example("tf1-ckpt"), first.get("prefix").asText());
    assertEquals("a", first.get("key").asText());
    assertEquals("scoped/c", JSON.readTree(lines.get(1)).get("key").asText());
    CliRunner bad = CliRunner.run("inspect", "--keys", "(", CliRunner.example("tf1-ckpt"));
    assertEquals(2, bad.exitCode());
    assertTrue(bad.err().startsWith("rebundle: Invalid --keys regex '(': "), bad.err());
  }

  @Test
  void severalPathsAndAGlobInOneCall() throws Exception {
    Path model = modelDir("1", "2", "10");
    String glob = model.resolve("ckpt-?").toString();
    CliRunner r =
        CliRunner.run("inspect", "--jsonl", "--tensor", "a", glob, CliRunner.example("tf1-ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    List<String> prefixes =
        r.out()
            .lines()
            .map(
                l -> {
                  try {
                    return JSON.readTree(l).get("prefix").asText();
                  } catch (Exception e) {
                    throw new AssertionError(l, e);
                  }
                })
            .toList();
    assertEquals(
        List.of(
            model.resolve("ckpt-1").toString(),
            model.resolve("ckpt-2").toString(),
            CliRunner.example("tf1-ckpt")),
        prefixes);
    CliRunner none = CliRunner.run("inspect", model.resolve("nothing-*").toString());
    assertEquals(4, none.exitCode());
    assertEquals(
        "rebundle: Cannot find checkpoints matching "
            + model.resolve("nothing-*")
            + ": no prefix or directory "
            + "in "
            + model
            + " matches 'nothing-*'\n",
        none.err());
  }

  @Test
  void allCheckpointsListsStepsAndMarksTheLatest() throws Exception {
    Path model = modelDir("1", "2", "10");
    Files.writeString(
        model.resolve("checkpoint"),
        "model_checkpoint_path: \"ckpt-2\"\n"
            + "all_model_checkpoint_paths: \"ckpt-1\"\nall_model_checkpoint_paths: \"ckpt-2\"\n");
    CliRunner r = CliRunner.run("inspect", "--all-checkpoints", model.toString());
    assertEquals(0, r.exitCode(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals("model directory: " + model + " (3 checkpoints)", lines.get(0));
    assertTrue(lines.get(2).startsWith(model.resolve("ckpt-1") + " "), r.out());
    assertTrue(lines.get(2).matches(".*\\s1\\s+3\\s+12$"), lines.get(2));
    assertTrue(lines.get(3).matches(".*ckpt-2\\s+2\\s+3\\s+12\\s+latest$"), lines.get(3));
    assertTrue(lines.get(4).matches(".*ckpt-10\\s+10\\s+3\\s+12$"), lines.get(4));

    CliRunner json = CliRunner.run("inspect", "--all-checkpoints", "--json", model.toString());
    JsonNode doc = JSON.readTree(json.out());
    assertEquals(model.resolve("ckpt-2").toString(), doc.get("latest").asText());
    assertEquals(3, doc.get("checkpoints").size());
    assertEquals(10, doc.get("checkpoints").get(2).get("step").asLong());
    assertTrue(doc.get("checkpoints").get(1).get("latest").asBoolean());
  }

  @Test
  void aDataFileIndexOrMetaPathMeansItsPrefixWithANote() throws Exception {
    Path model = modelDir("5");
    Files.writeString(model.resolve("ckpt-5.meta"), "not read");
    String prefix = model.resolve("ckpt-5").toString();
    CliRunner plain = CliRunner.run("inspect", prefix);
    for (String[] c :
        new String[][] {
          {".data-00000-of-00001", "a data file"},
          {".index", "an index file"},
          {".meta", "a MetaGraph file"}
        }) {
      CliRunner r = CliRunner.run("inspect", prefix + c[0]);
      assertEquals(0, r.exitCode(), r.err());
      assertEquals(plain.out(), r.out());
      assertEquals(
          "rebundle: note: "
              + prefix
              + c[0]
              + " is "
              + c[1]
              + " of checkpoint "
              + prefix
              + "; inspecting the checkpoint\n",
          r.err());
    }
  }
}
