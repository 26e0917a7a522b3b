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
    // The same naming planned here, as convert --to tf1 plans it.
    CliRunner planned = CliRunner.run("diff", "--to", "tf1", source, out);
    assertEquals(0, planned.exitCode(), planned.out() + planned.err());
    assertTrue(
        planned
            .out()
            .endsWith(
                "identical: 3 equal tensors, 0 with different values, 0 mismatched, 0 only in A, "
                    + "0 only in B (expected from the conversion: 2 only in A, 0 only in B)\n"),
        planned.out());
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

  private static String identicalTf1ToTf2(String source, String out) {
    return "A: "
        + source
        + "\nB: "
        + out
        + "\nidentical: 3 equal tensors, 0 with different values, 0 mismatched, "
        + "0 only in A, 0 only in B (expected from the conversion: 0 only in A, 2 only in B)\n";
  }

  @Test
  void theNamingComesFromTheConvertReportOrFromToAsWellAsFromTheGraph() throws Exception {
    String source = CliRunner.example("tf1-ckpt");
    String out = dir.resolve("tf2/ckpt-1").toString();
    Path report = dir.resolve("convert.json");
    CliRunner c =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--report", report.toString(), source, out);
    assertEquals(0, c.exitCode(), c.err());

    CliRunner fromReport =
        CliRunner.run("diff", "--as-converted", "--report", report.toString(), source, out);
    assertEquals(0, fromReport.exitCode(), fromReport.out() + fromReport.err());
    assertEquals(identicalTf1ToTf2(source, out), fromReport.out());

    // --report and --to imply --as-converted.
    CliRunner fromTo = CliRunner.run("diff", "--to", "tf2", source, out);
    assertEquals(0, fromTo.exitCode(), fromTo.out() + fromTo.err());
    assertEquals(identicalTf1ToTf2(source, out), fromTo.out());

    CliRunner fromGraph = CliRunner.run("diff", "--as-converted", source, out);
    assertEquals(identicalTf1ToTf2(source, out), fromGraph.out());

    // The report is what pairs the keys: a report that lost one rename leaves that key unpaired.
    ObjectMapper m = new ObjectMapper();
    JsonNode j = m.readTree(report.toFile());
    com.fasterxml.jackson.databind.node.ArrayNode renamed =
        (com.fasterxml.jackson.databind.node.ArrayNode) j.get("conversions").get(0).get("renamed");
    assertEquals(3, renamed.size(), j.toString());
    String lost = renamed.get(0).get("from").asText();
    renamed.remove(0);
    Path edited = dir.resolve("edited.json");
    m.writeValue(edited.toFile(), j);
    CliRunner missing = CliRunner.run("diff", "--report", edited.toString(), source, out);
    assertEquals(1, missing.exitCode(), missing.out());
    assertTrue(missing.out().contains("only in A (1): " + lost + "\n"), missing.out());

    // --to names the conversion that was not made: TF1 names do not meet a TF2 output.
    CliRunner wrongTo = CliRunner.run("diff", "--to", "tf1", source, out);
    assertEquals(1, wrongTo.exitCode(), wrongTo.out());
    assertTrue(wrongTo.out().contains("only in A (3): a, b, scoped/c"), wrongTo.out());
  }

  @Test
  void aReportWithSeveralConversionsGivesTheOneIntoB() {
    String source = CliRunner.example("tf1-ckpt");
    String out = dir.resolve("both/ckpt").toString();
    Path report = dir.resolve("both.json");
    CliRunner c =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1,tf2", "--report", report.toString(), source, out);
    assertEquals(0, c.exitCode(), c.err());
    CliRunner tf2 = CliRunner.run("diff", "--report", report.toString(), source, out + "-tf2");
    assertEquals(0, tf2.exitCode(), tf2.out() + tf2.err());
    assertEquals(identicalTf1ToTf2(source, out + "-tf2"), tf2.out());
    CliRunner tf1 = CliRunner.run("diff", "--report", report.toString(), source, out + "-tf1");
    assertEquals(0, tf1.exitCode(), tf1.out() + tf1.err());
    assertTrue(tf1.out().contains("identical: 3 equal tensors"), tf1.out());

    CliRunner elsewhere =
        CliRunner.run("diff", "--report", report.toString(), source, CliRunner.example("tf2-ckpt"));
    assertEquals(2, elsewhere.exitCode(), elsewhere.err());
    assertTrue(
        elsewhere
            .err()
            .startsWith(
                "rebundle: Invalid convert report " + report + ": none of its conversions wrote "),
        elsewhere.err());
  }

  @Test
  void aBrokenReportIsOneLineWithFileLineAndColumn() throws Exception {
    String source = CliRunner.example("tf1-ckpt");
    Path broken = dir.resolve("broken.json");
    Files.writeString(broken, "{\n  \"conversions\": [\n    {\"renamed\": [}\n");
    CliRunner r =
        CliRunner.run("diff", "--report", broken.toString(), source, CliRunner.example("tf2-ckpt"));
    assertEquals(2, r.exitCode(), r.err());
    assertTrue(
        r.err()
            .matches(
                "rebundle: Invalid convert report "
                    + java.util.regex.Pattern.quote(broken.toString())
                    + ":3:\\d+: [^\n]+\n"),
        r.err());

    Path failed = dir.resolve("failed.json");
    Files.writeString(
        failed,
        "{\"status\": \"failed\", \"error\": {\"message\": \"Cannot read x\"},"
            + " \"conversions\": []}");
    CliRunner f =
        CliRunner.run("diff", "--report", failed.toString(), source, CliRunner.example("tf2-ckpt"));
    assertEquals(2, f.exitCode(), f.err());
    assertEquals(
        "rebundle: Invalid convert report "
            + failed
            + ": the conversion failed (Cannot read x), so it names nothing to check\n",
        f.err());

    CliRunner both =
        CliRunner.run(
            "diff",
            "--report",
            failed.toString(),
            "--to",
            "tf2",
            source,
            CliRunner.example("tf2-ckpt"));
    assertEquals(2, both.exitCode(), both.err());
    CliRunner badTo = CliRunner.run("diff", "--to", "safetensors", source, source);
    assertEquals(2, badTo.exitCode(), badTo.err());
    assertEquals(
        "rebundle: Invalid --to: safetensors (diff checks tf1 or tf2 conversions)\n", badTo.err());
  }
}
