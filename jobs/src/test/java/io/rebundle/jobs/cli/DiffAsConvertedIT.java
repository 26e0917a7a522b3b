package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.convert.MappingFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** diff checks a migration: a checkpoint against its own converted output is clean. */
class DiffAsConvertedIT {
  @TempDir Path dir;

  @Test
  void aTf1CheckpointAgainstItsTf2OutputIsClean() {
    String source = CliRunner.example("tf1-ckpt");
    String out = dir.resolve("tf2/ckpt-1").toString();
    CliRunner c = CliRunner.runWithSharedSpark("convert", "--to", "tf2", source, out);
    assertEquals(0, c.exitCode(), c.err());

    CliRunner plain = CliRunner.run("diff", source, out);
    assertEquals(1, plain.exitCode(), plain.out());
    assertTrue(plain.out().contains("only in A (3): a, b, scoped/c"), plain.out());

    CliRunner r = CliRunner.run("diff", "--as-converted", source, out);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertEquals(
        "A: "
            + source
            + "\nB: "
            + out
            + "\nidentical: 3 equal tensors, 0 with different values, 0 mismatched, "
            + "0 only in A, 0 only in B (expected from the conversion: 0 only in A, 2 only in B)\n",
        r.out());
  }

  @Test
  void aTf2CheckpointAgainstItsTf1OutputIsClean() {
    String source = CliRunner.example("tf2-ckpt");
    String out = dir.resolve("tf1/model.ckpt").toString();
    CliRunner c = CliRunner.runWithSharedSpark("convert", "--to", "tf1", source, out);
    assertEquals(0, c.exitCode(), c.err());
    CliRunner r = CliRunner.run("diff", "--as-converted", source, out);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertTrue(
        r.out()
            .endsWith(
                "identical: 3 equal tensors, 0 with different values, 0 mismatched, 0 only in A, "
                    + "0 only in B (expected from the conversion: 2 only in A, 0 only in B)\n"),
        r.out());
  }

  @Test
  void castsAreComparedAfterCasting() throws Exception {
    String source = dir.resolve("src/model.ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), source)) {
      w.add("dense/kernel", DiffCommandTest.floats(0.1f, 1 / 3f, 65504f, -2.5e-3f));
      w.add("dense/bias", DiffCommandTest.floats(0.7f));
      w.finish();
    }
    Path map = dir.resolve("half.yaml");
    Files.writeString(map, "transforms:\n  - {match: 'dense/kernel', cast: float16}\n");
    String out = dir.resolve("tf2/ckpt-1").toString();
    CliRunner c =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--map", map.toString(), source, out);
    assertEquals(0, c.exitCode(), c.err());

    CliRunner r = CliRunner.run("diff", "--as-converted", "--json", source, out);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(2, j.get("equal").asLong());
    assertEquals(0, j.get("mismatches").size());
    assertEquals(0, j.get("different").size());

    // A conversion of other values: the cast comparison finds the one that differs.
    String other = dir.resolve("other/model.ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), other)) {
      w.add("dense/kernel", DiffCommandTest.floats(0.1f, 1 / 3f, 65504f, -2.6e-3f));
      w.add("dense/bias", DiffCommandTest.floats(0.7f));
      w.finish();
    }
    String otherOut = dir.resolve("other-tf2/ckpt-1").toString();
    CliRunner c2 =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--map", map.toString(), other, otherOut);
    assertEquals(0, c2.exitCode(), c2.err());
    CliRunner d = CliRunner.run("diff", "--as-converted", "--json", source, otherOut);
    assertEquals(1, d.exitCode(), d.out());
    JsonNode dj = new ObjectMapper().readTree(d.out());
    assertEquals(1, dj.get("different").size(), d.out());
    assertEquals("dense/kernel", dj.get("different").get(0).get("key").asText());
    assertEquals("float32->float16", dj.get("different").get(0).get("dtype").asText());
    assertEquals(1, dj.get("different").get(0).get("differing").asLong());
  }

  @Test
  void tolerancesAndTheLargestDifferencesFirst() {
    String a = dir.resolve("a").toString();
    String b = dir.resolve("b").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), a)) {
      w.add("small", DiffCommandTest.floats(1, 2, 3));
      w.add("large", DiffCommandTest.floats(10, 20));
      w.add("ids", Tensor.of(DType.INT32, TensorShape.of(1), new byte[] {1, 0, 0, 0}));
      w.finish();
    }
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), b)) {
      w.add("small", DiffCommandTest.floats(1, 2.0001f, 3));
      w.add("large", DiffCommandTest.floats(10, 20.5f));
      w.add("ids", Tensor.of(DType.INT32, TensorShape.of(1), new byte[] {1, 0, 0, 0}));
      w.finish();
    }
    CliRunner exact = CliRunner.run("diff", "--top", "1", a, b);
    assertEquals(1, exact.exitCode(), exact.out());
    String[] lines = exact.out().split("\n");
    assertEquals("largest differences (1 of 2; --top N or --json for more):", lines[2]);
    assertTrue(lines[4].startsWith("large  float32"), exact.out());
    assertTrue(lines[4].endsWith("0.500000     0.0243902"), exact.out());

    CliRunner loose = CliRunner.run("diff", "--atol", "1e-3", a, b);
    assertEquals(1, loose.exitCode(), loose.out());
    assertTrue(loose.out().contains("\nlarge "), loose.out());
    assertTrue(!loose.out().contains("\nsmall "), loose.out());

    CliRunner within = CliRunner.run("diff", "--rtol", "0.05", a, b);
    assertEquals(0, within.exitCode(), within.out());
    assertTrue(
        within
            .out()
            .endsWith(
                "equal within tolerance: 3 equal tensors (rtol 0.05, atol 0), 0 with different "
                    + "values, 0 mismatched, 0 only in A, 0 only in B\n"),
        within.out());

    CliRunner bad = CliRunner.run("diff", "--rtol", "-1", a, b);
    assertEquals(2, bad.exitCode());
    assertEquals(
        "rebundle: Invalid tolerance: rtol -1.0, atol 0.0 (must be finite and at least 0)\n",
        bad.err());
  }

  @Test
  void yamlSyntaxErrorsGiveFileLineAndColumn() throws Exception {
    Path map = dir.resolve("broken.yaml");
    Files.writeString(map, "rename:\n  - {from: 'a', to: 'b'\n  - x\n");
    MappingFile.InvalidMappingException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            MappingFile.InvalidMappingException.class, () -> MappingFile.read(map));
    assertTrue(
        e.getMessage()
            .matches(
                "Invalid mapping file "
                    + java.util.regex.Pattern.quote(map.toString())
                    + ":\\d+:\\d+: .+"),
        e.getMessage());
    assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("^"), e.getMessage());
  }
}
