package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.convert.LocalTaskEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conversion matrix through both engines: {@code --engine local} (threads of this JVM, no
 * Spark) and {@code --engine spark} (the test JVM's shared context) must write the same files, byte
 * for byte, and the same report but for the engine and the times; a corrupt source fails both the
 * same way (exit 3, nothing at DST, the same failed report).
 */
class EngineMatrixIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Report fields that differ between runs by nature: when and how fast, and which engine. */
  private static final List<String> VOLATILE =
      List.of(
          "started_at",
          "finished_at",
          "total_seconds",
          "plan_seconds",
          "copy_seconds",
          "bytes_per_second",
          "engine");

  @TempDir static Path inputs;

  @TempDir Path dir;

  /** A TF1 checkpoint of 2 data files with float32, int64 and partitioned variables. */
  static String slicedTf1;

  /** A float32-only TF1 checkpoint (for casts), 3 data files. */
  static String floatsTf1;

  /** A TF2 checkpoint made by synth, 2 data files. */
  static String synthTf2;

  @BeforeAll
  static void synthesize() {
    slicedTf1 = synth("sliced/model.ckpt-7", "tf1", "--sliced", "3", "--shards", "2");
    floatsTf1 =
        synth("floats/model.ckpt-3", "tf1", "--dtypes", "float32", "--shards", "3", "--seed", "5");
    synthTf2 = synth("tf2/ckpt-2", "tf2", "--shards", "2", "--seed", "9");
  }

  private static String synth(String name, String format, String... more) {
    String dst = inputs.resolve(name).toString();
    List<String> args =
        new ArrayList<>(
            List.of("synth", dst, "--format", format, "--size", "3m", "--tensors", "24"));
    args.addAll(List.of(more));
    CliRunner r = CliRunner.run(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), r.err());
    return dst;
  }

  @Test
  void tf1ToTf2() throws IOException {
    sameOnBothEngines("ckpt-1", "--to", "tf2", CliRunner.example("tf1-ckpt"));
  }

  @Test
  void tf2ToTf1() throws IOException {
    sameOnBothEngines(
        "model.ckpt", "--to", "tf1", CliRunner.example("tf2-ckpt"), "--reuse-files", "never");
  }

  @Test
  void syntheticTf2ToTf1WithOptimizerSlots() throws IOException {
    sameOnBothEngines("model.ckpt", "--to", "tf1", synthTf2, "--keep-optimizer");
  }

  @Test
  void sameFormatCopy() throws IOException {
    sameOnBothEngines("copy.ckpt", "--to", "tf1", slicedTf1, "--reuse-files", "copy");
  }

  @Test
  void slicedInputMergedIntoTf2() throws IOException {
    sameOnBothEngines("ckpt-1", "--to", "tf2", slicedTf1, "--merge-slices");
  }

  @Test
  void slicedInputKeptAsSlices() throws IOException {
    sameOnBothEngines("ckpt-1", "--to", "tf2", slicedTf1);
  }

  @Test
  void reshardedIntoFiveShards() throws IOException {
    Map<String, String> files =
        sameOnBothEngines("ckpt-1", "--to", "tf2", slicedTf1, "--shards", "5");
    assertTrue(files.containsKey("ckpt-1.data-00004-of-00005"), files.keySet().toString());
  }

  @Test
  void mappingFileWithRenamesAndCast() throws IOException {
    Path map = inputs.resolve("rename-cast.yaml");
    Files.writeString(
        map,
        "rename:\n"
            + "  - {from: '^(.*)$', to: 'moved/$1'}\n"
            + "strict: false\n"
            + "transforms:\n"
            + "  - {match: '.*', cast: bfloat16}\n");
    sameOnBothEngines("moved.ckpt", "--to", "tf1", floatsTf1, "--map", map.toString());
  }

  @Test
  void template() throws IOException {
    // The template: the example converted to TF2 once (a new model's first save).
    String template = dir.resolve("template/ckpt-1").toString();
    CliRunner t =
        CliRunner.run(
            "convert", "--engine", "local", "--to", "tf2", CliRunner.example("tf1-ckpt"), template);
    assertEquals(0, t.exitCode(), t.err());
    sameOnBothEngines("ckpt-2", "--template", template, CliRunner.example("tf1-ckpt"));
  }

  @Test
  void safetensorsImport() throws IOException {
    // The source: the sliced checkpoint exported once (merged into full tensors).
    String st = dir.resolve("st/model.safetensors").toString();
    CliRunner e =
        CliRunner.run("convert", "--engine", "local", "--to", "safetensors", slicedTf1, st);
    assertEquals(0, e.exitCode(), e.err());
    sameOnBothEngines("ckpt-1", "--to", "tf2", st, "--shards", "2");
  }

  @Test
  void corruptSourceFailsAlikeAndLeavesNothing() throws IOException {
    Path copy = dir.resolve("corrupt");
    Files.createDirectories(copy);
    String source = TestCheckpoints.copyTf1Example(copy);
    Path data = Path.of(source + ".data-00000-of-00001");
    TestCheckpoints.flipByte(data, 0);
    Map<String, JsonNode> reports = new TreeMap<>();
    for (String engine : List.of("local", "spark")) {
      Path out = dir.resolve(engine).resolve("out");
      Path report = dir.resolve(engine).resolve("report.json");
      CliRunner r =
          run(
              engine,
              "convert",
              "--to",
              "tf2",
              source,
              out.resolve("ckpt-1").toString(),
              "--report",
              report.toString());
      assertEquals(3, r.exitCode(), engine + ": " + r.err());
      assertTrue(r.err().startsWith("rebundle: "), r.err());
      assertEquals(1, r.err().lines().count(), engine + " prints one line: " + r.err());
      assertFalse(r.err().contains("Exception"), r.err());
      assertEquals(List.of(), TestCheckpoints.list(out), engine + " leaves nothing at DST");
      JsonNode json = JSON.readTree(report.toFile());
      assertEquals("failed", json.get("status").asText());
      assertEquals(3, json.get("error").get("exit_code").asInt());
      assertEquals("bad_input", json.get("error").get("code").asText());
      reports.put(engine, normalized(json, dir.resolve(engine).toString()));
    }
    assertEquals(reports.get("local"), reports.get("spark"));
  }

  @Test
  void autoRunsSmallJobsLocallyAndAboveTheLimitOnSpark() throws IOException {
    String source = CliRunner.example("tf1-ckpt");
    Path small = dir.resolve("auto-small.json");
    CliRunner a =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            source,
            dir.resolve("a/ckpt-1").toString(),
            "--report",
            small.toString());
    assertEquals(0, a.exitCode(), a.err());
    assertEquals(
        "local", JSON.readTree(small.toFile()).get("conversions").get(0).get("engine").asText());
    // 12 bytes of data are above a limit of 8 bytes: the same command goes to Spark.
    Path big = dir.resolve("auto-big.json");
    CliRunner b =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            "--engine",
            "auto",
            "--local-max",
            "8",
            source,
            dir.resolve("b/model.ckpt").toString(),
            "--report",
            big.toString());
    assertEquals(0, b.exitCode(), b.err());
    assertEquals(
        "spark", JSON.readTree(big.toFile()).get("conversions").get(0).get("engine").asText());
  }

  @Test
  void theLocalEngineLoadsNoSparkClass() throws Exception {
    // A fresh JVM, as submit.sh runs it: the class-load log lists every class the run loaded.
    Path log = dir.resolve("classes.log");
    Path out = dir.resolve("fresh/ckpt-1");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + log,
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "convert",
                "--to",
                "tf2",
                CliRunner.example("tf1-ckpt"),
                out.toString(),
                "--json")
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), output);
    assertTrue(output.contains("\"engine\":\"local\""), output);
    List<String> lines = Files.readAllLines(log);
    assertTrue(lines.stream().anyMatch(l -> l.contains(LocalTaskEngine.class.getName())), "logged");
    List<String> spark = lines.stream().filter(l -> l.contains(" org.apache.spark.")).toList();
    assertEquals(List.of(), spark, "Spark classes loaded by a local conversion");
    assertTrue(Files.exists(Path.of(out + ".index")));
  }

  @Test
  void localWithAMasterIsAUsageError() {
    CliRunner r =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            "--engine",
            "local",
            "--master",
            "local[2]",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("x/ckpt-1").toString());
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Invalid options: --engine local runs in this JVM; a Spark master (--master "
            + "local[2]) asks for Spark",
        r.err().lines().findFirst().orElse(""));
    assertEquals(List.of(), TestCheckpoints.list(dir.resolve("x")));
  }

  @Test
  void localMaxAppliesToAutoOnly() {
    CliRunner r =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            "--engine",
            "local",
            "--local-max",
            "1g",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("z/ckpt-1").toString());
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Invalid options: --local-max applies to --engine auto only",
        r.err().lines().findFirst().orElse(""));
    CliRunner bad =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            "--local-max",
            "lots",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("z/ckpt-1").toString());
    assertEquals(2, bad.exitCode(), bad.err());
    assertEquals(
        "rebundle: Invalid size: lots (e.g. 1073741824, 512m, 1g)",
        bad.err().lines().findFirst().orElse(""));
    assertEquals(List.of(), TestCheckpoints.list(dir.resolve("z")));
  }

  @Test
  void unknownEngineIsAUsageError() {
    CliRunner r =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            "--engine",
            "flink",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("y/ckpt-1").toString());
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Invalid --engine: flink (expected auto, local or spark)",
        r.err().lines().findFirst().orElse(""));
  }

  /**
   * Runs {@code convert ARGS SRC DST} on each engine into {@code <engine>/out/<dstName>}, asserts
   * both succeed with identical files and reports, and returns the files (name to size and hash).
   * {@code args}: the options and SRC; DST and the report are added here.
   */
  private Map<String, String> sameOnBothEngines(String dstName, String... args) throws IOException {
    Map<String, Map<String, byte[]>> files = new TreeMap<>();
    Map<String, JsonNode> reports = new TreeMap<>();
    for (String engine : List.of("local", "spark")) {
      Path root = dir.resolve(engine);
      Path out = root.resolve("out");
      Path report = root.resolve("report.json");
      List<String> command = new ArrayList<>(List.of("convert"));
      command.addAll(List.of(args));
      command.addAll(List.of(out.resolve(dstName).toString(), "--report", report.toString()));
      CliRunner r = run(engine, command.toArray(String[]::new));
      assertEquals(0, r.exitCode(), engine + ": " + r.err());
      files.put(engine, contents(out));
      JsonNode json = JSON.readTree(report.toFile());
      assertEquals("succeeded", json.get("status").asText());
      for (JsonNode c : json.get("conversions")) {
        assertEquals(engine, c.get("engine").asText(), "the report names the engine");
      }
      reports.put(engine, normalized(json, root.toString()));
    }
    Map<String, byte[]> local = files.get("local");
    Map<String, byte[]> spark = files.get("spark");
    assertFalse(local.isEmpty());
    assertEquals(local.keySet(), spark.keySet(), "the same files");
    for (String name : local.keySet()) {
      assertEquals(
          -1,
          java.util.Arrays.mismatch(local.get(name), spark.get(name)),
          name + " differs between the engines");
    }
    assertEquals(reports.get("local"), reports.get("spark"));
    return TestCheckpoints.snapshot(dir.resolve("local").resolve("out"));
  }

  /** The report with its volatile fields removed and the run's root directory replaced. */
  private static JsonNode normalized(JsonNode report, String root) throws IOException {
    String text =
        JSON.writeValueAsString(report)
            .replace(JSON.writeValueAsString(root).replace("\"", ""), "ROOT");
    JsonNode copy = JSON.readTree(text);
    strip(copy);
    return copy;
  }

  private static void strip(JsonNode node) {
    if (node instanceof ObjectNode o) {
      o.remove(VOLATILE);
    }
    node.forEach(EngineMatrixIT::strip);
  }

  /** Every file under {@code dir} by relative path, with its bytes. */
  private static Map<String, byte[]> contents(Path dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return m;
  }

  /**
   * {@code convert --engine ENGINE ...}: local without any Spark context, spark on the shared one.
   */
  private static CliRunner run(String engine, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(1, List.of("--engine", engine));
    String[] a = all.toArray(String[]::new);
    return engine.equals("spark") ? CliRunner.runWithSharedSpark(a) : CliRunner.run(a);
  }
}
