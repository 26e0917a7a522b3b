package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.batch.SuccessRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The fleet of the "done means": TF1 model directories, a SavedModel, a 2-shard checkpoint,
 * a bare prefix and one corrupt source, through {@code batch} in one application, then rerun, then
 * repaired with one row changed.
 */
class BatchCommandIT {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();
  private Path models;
  private Path out;

  /** Runs the CLI in-process with the test JVM's Spark context lent to batch and convert. */
  static CliRunner run(String... args) {
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            if (cls == BatchCommand.class) {
              return cls.cast(
                  new BatchCommand(new io.rebundle.jobs.spark.LentContext(SharedSpark.context())));
            }
            if (cls == ConvertCommand.class) {
              return cls.cast(
                  new ConvertCommand(
                      new io.rebundle.jobs.spark.SparkTaskEngine(SharedSpark.context())));
            }
            return CommandLine.defaultFactory().create(cls);
          }
        };
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true), factory);
    return new CliRunner(code, o.toString(), e.toString());
  }

  /**
   * A model directory with one TF1 checkpoint over {@code shards} data files and its state file.
   */
  static void modelDir(Path d, String name, int shards, long seed) {
    TestCheckpoints.generate(d.resolve(name).toString(), shards, seed);
    CheckpointState.of(name).write(new LocalFileIO(), d.toString());
  }

  @BeforeEach
  void fleet() throws IOException {
    models = dir.resolve("models");
    out = dir.resolve("out");
    modelDir(models.resolve("ranker"), "model.ckpt-100", 1, 1);
    modelDir(models.resolve("ctr"), "model.ckpt-2000", 2, 2);
    modelDir(models.resolve("broken"), "model.ckpt-7", 1, 3);
    Path saved = models.resolve("bert/1");
    TestCheckpoints.generate(saved.resolve("variables/variables").toString(), 1, 4);
    Files.write(saved.resolve("saved_model.pb"), new byte[] {8, 1});
    TestCheckpoints.copyTf1Example(models.resolve("bare"));
    // Corrupt: one data byte flipped, found by the task's CRC check (not by the index).
    TestCheckpoints.flipByte(models.resolve("broken/model.ckpt-7.data-00000-of-00001"), 100);
  }

  private Path manifest(String ctrRootName) throws IOException {
    Path m = dir.resolve("fleet.jsonl");
    Files.writeString(
        m,
        String.join(
                "\n",
                row("ranker", "out/ranker/", ""),
                row("ctr", "out/ctr/", ", \"root_name\": \"" + ctrRootName + "\""),
                row("bert/1", "out/bert/1/variables/variables", ", \"no_state_file\": true"),
                row("broken", "out/broken/", ""),
                row("bare/tf1-ckpt", "out/bare/tf1-ckpt", ", \"shards\": 2"))
            + "\n");
    return m;
  }

  private String row(String src, String dst, String more) {
    return "{\"src\": \""
        + models.resolve(src)
        + "\", \"dst\": \""
        + dir.resolve(dst)
        + (dst.endsWith("/") ? "/" : "")
        + "\", \"to\": \"tf2\""
        + more
        + "}";
  }

  @Test
  void bothEnginesConvertTheFleetToTheSameBytes() throws IOException {
    Path m = manifest("model");
    java.util.Map<String, java.util.Map<String, String>> outputs = new java.util.TreeMap<>();
    for (String engine : List.of("local", "spark")) {
      CliRunner r = run("batch", m.toString(), "--engine", engine, "--parallel", "2");
      assertEquals(1, r.exitCode(), engine + ": " + r.out() + r.err());
      assertTrue(
          r.out().contains("batch: 5 rows: 4 converted, 0 skipped, 1 failed"),
          engine + ": " + r.out());
      java.util.Map<String, String> files = new java.util.TreeMap<>();
      TestCheckpoints.snapshot(out)
          .forEach(
              (name, hash) -> {
                if (name.contains(".index")
                    || name.contains(".data-")
                    || name.endsWith("checkpoint")) {
                  files.put(name, hash);
                }
              });
      assertTrue(files.size() >= 8, engine + ": " + files.keySet());
      outputs.put(engine, files);
      org.apache.commons.io.FileUtils.deleteDirectory(out.toFile());
    }
    assertEquals(outputs.get("local"), outputs.get("spark"));
  }

  @Test
  void fleetConvertsThenSkipsThenRedoesExactlyTheChangedRows() throws IOException {
    Path report = dir.resolve("report.json");
    Path logs = dir.resolve("logs");
    CliRunner first =
        run(
            "batch",
            manifest("model").toString(),
            "--report",
            report.toString(),
            "--log-dir",
            logs.toString(),
            "--parallel",
            "3");
    assertEquals(1, first.exitCode(), first.out() + first.err());
    assertTrue(
        first.out().contains("batch: 5 rows: 4 converted, 0 skipped, 1 failed"), first.out());
    assertTrue(
        first.out().contains("failed fleet.jsonl:4") || first.out().contains(":4: "), first.out());

    JsonNode doc = new ObjectMapper().readTree(report.toFile());
    assertEquals(5, doc.get("rows").size());
    assertEquals(4, doc.get("totals").get("converted").asInt());
    assertEquals(1, doc.get("totals").get("failed").asInt());
    assertEquals(0, doc.get("totals").get("skipped").asInt());
    JsonNode broken = doc.get("rows").get(3);
    assertEquals("failed", broken.get("status").asText());
    assertEquals("corrupt", broken.get("error_kind").asText());
    assertTrue(broken.get("error").asText().contains("model.ckpt-7"), broken.toString());
    for (int i : new int[] {0, 1, 2, 4}) {
      JsonNode r = doc.get("rows").get(i);
      assertEquals("converted", r.get("status").asText(), r.toString());
      assertTrue(r.get("bytes").asLong() > 0 && r.get("tensors").asLong() > 0, r.toString());
    }
    // The corrupt row left nothing at its dst (not even its staging or a record).
    assertEquals(List.of(), files(out.resolve("broken")));
    // The results log has one line per row.
    List<Path> logFiles = files(logs);
    assertEquals(1, logFiles.size());
    assertEquals(5, Files.readAllLines(logFiles.get(0)).size());

    // Each output is what `convert` with the same options makes, entry for entry and byte for byte.
    assertSameAsConvert("ranker", "out/ranker/model.ckpt-100", null, "");
    assertSameAsConvert("ctr", "out/ctr/model.ckpt-2000", "model", "");
    assertSameAsConvert("bert/1", "out/bert/1/variables/variables", null, "--no-state-file");
    assertSameAsConvert("bare/tf1-ckpt", "out/bare/tf1-ckpt", null, "--shards=2");
    assertTrue(Files.exists(out.resolve("ranker/checkpoint")));
    assertFalse(Files.exists(out.resolve("bert/1/variables/checkpoint")));
    assertTrue(
        Files.exists(
            Path.of(SuccessRecord.location(out.resolve("ctr/model.ckpt-2000").toString()))));

    // Rerun: every row whose record matches is skipped; the corrupt one fails again; nothing
    // rewritten.
    Map<String, String> before = tree(out);
    CliRunner again = run("batch", manifest("model").toString(), "--report", report.toString());
    assertEquals(1, again.exitCode(), again.out() + again.err());
    assertTrue(
        again.out().contains("batch: 5 rows: 0 converted, 4 skipped, 1 failed"), again.out());
    assertEquals(before, tree(out));

    // Repair the corrupt source and change one row's root_name: exactly those two rows convert.
    // (flipping the byte back restores the source exactly)
    TestCheckpoints.flipByte(models.resolve("broken/model.ckpt-7.data-00000-of-00001"), 100);
    CliRunner repaired = run("batch", manifest("net").toString(), "--report", report.toString());
    assertEquals(0, repaired.exitCode(), repaired.out() + repaired.err());
    assertTrue(
        repaired.out().contains("batch: 5 rows: 2 converted, 3 skipped, 0 failed"), repaired.out());
    doc = new ObjectMapper().readTree(report.toFile());
    assertEquals("converted", doc.get("rows").get(1).get("status").asText());
    assertEquals("converted", doc.get("rows").get(3).get("status").asText());
    assertSameAsConvert("ctr", "out/ctr/model.ckpt-2000", "net", "");
    assertSameAsConvert("broken", "out/broken/model.ckpt-7", null, "");
    Map<String, String> after = tree(out);
    for (String unchanged : List.of("ranker", "bert", "bare")) {
      assertEquals(subtree(before, unchanged), subtree(after, unchanged), unchanged);
    }
  }

  @Test
  void damagedOutputOrChangedSourceIsRedoneAndForceRedoesEverything() throws IOException {
    Path m = dir.resolve("two.csv");
    Files.writeString(
        m,
        "src,dst,to\n"
            + models.resolve("ranker")
            + ","
            + out.resolve("ranker")
            + "/,tf2\n"
            + models.resolve("ctr")
            + ","
            + out.resolve("ctr")
            + "/,tf2\n");
    assertEquals(0, run("batch", m.toString()).exitCode());
    // A damaged output (one data file truncated) is redone; the other row is skipped.
    Path data = out.resolve("ranker/model.ckpt-100.data-00000-of-00001");
    Files.write(data, new byte[] {1, 2, 3});
    CliRunner r = run("batch", m.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("1 converted, 1 skipped"), r.out());
    assertEquals(
        TestCheckpoints.readAll(io, models.resolve("ranker").toString()).size(),
        TestCheckpoints.readAll(io, out.resolve("ranker").toString()).size() - 2);
    // A source that changed (a new latest checkpoint) is redone.
    modelDir(models.resolve("ctr"), "model.ckpt-3000", 2, 9);
    r = run("batch", m.toString());
    assertTrue(r.out().contains("1 converted, 1 skipped"), r.out());
    assertTrue(Files.exists(out.resolve("ctr/model.ckpt-3000.index")));
    // --force redoes both.
    r = run("batch", m.toString(), "--force");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("2 converted, 0 skipped"), r.out());
  }

  @Test
  void anExistingDestinationNotWrittenByABatchNeedsOverwriteAndFailsAlone() throws IOException {
    Files.createDirectories(out.resolve("ranker"));
    TestCheckpoints.generate(out.resolve("ranker/model.ckpt-100").toString(), 1, 5);
    Map<String, String> theirs = tree(out.resolve("ranker"));
    Path m = dir.resolve("m.jsonl");
    Files.writeString(
        m, row("ranker", "out/ranker/", "") + "\n" + row("ctr", "out/ctr/", "") + "\n");
    CliRunner r = run("batch", m.toString(), "--max-failures", "0");
    assertEquals(1, r.exitCode());
    assertTrue(r.out().contains("1 converted, 0 skipped, 1 failed"), r.out());
    assertTrue(r.out().contains("--overwrite"), r.out());
    assertEquals(theirs, tree(out.resolve("ranker")));
  }

  @Test
  void badManifestRunsNothingAndExitsTwo() throws IOException {
    Path m = dir.resolve("bad.jsonl");
    Files.writeString(
        m,
        row("ranker", "out/ranker/", ", \"shards\": 0")
            + "\n"
            + row("ctr", "out/ctr/", ", \"reuse_files\": \"sometimes\"")
            + "\n"
            + row("ctr", "out/ranker/", "")
            + "\n");
    CliRunner r = run("batch", m.toString());
    assertEquals(2, r.exitCode());
    assertTrue(
        r.err()
            .contains(
                "bad.jsonl:3: dst " + dir.resolve("out/ranker") + "/ is also the dst of line 1"),
        r.err());
    assertFalse(Files.exists(out));
    Files.writeString(
        m,
        row("ranker", "out/ranker/", ", \"shards\": 0")
            + "\n"
            + row("ctr", "out/ctr/", ", \"reuse_files\": \"sometimes\"")
            + "\n");
    r = run("batch", m.toString());
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("bad.jsonl:1: Invalid --shards: 0 (must be at least 1)"), r.err());
    assertTrue(r.err().contains("bad.jsonl:2: Invalid --reuse-files: sometimes"), r.err());
    assertFalse(Files.exists(out));
  }

  /**
   * {@code batch}'s output at {@code rel} equals {@code convert}'s of the same source with the same
   * options.
   */
  private void assertSameAsConvert(String src, String rel, String rootName, String extra) {
    Path ref = dir.resolve("ref").resolve(rel);
    List<String> args = new java.util.ArrayList<>(List.of("convert", "--to", "tf2", "--overwrite"));
    if (rootName != null) {
      args.add("--root-name=" + rootName);
    }
    if (!extra.isEmpty()) {
      args.add(extra);
    }
    args.add(models.resolve(src).toString());
    args.add(ref.toString());
    CliRunner c = run(args.toArray(String[]::new));
    assertEquals(0, c.exitCode(), c.err());
    Map<String, TestCheckpoints.StoredEntry> expected =
        TestCheckpoints.storedEntries(io, ref.toString());
    Map<String, TestCheckpoints.StoredEntry> actual =
        TestCheckpoints.storedEntries(io, out.resolve(rel.substring("out/".length())).toString());
    assertEquals(expected.keySet(), actual.keySet(), rel);
    assertTrue(expected.equals(actual), rel + ": entries differ from convert's");
  }

  private static List<Path> files(Path d) {
    if (!Files.exists(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(d)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every file (and staging directory) under {@code d}: size, mtime and content hash. */
  private static Map<String, String> tree(Path d) throws IOException {
    Map<String, String> m = new TreeMap<>(TestCheckpoints.snapshot(d));
    Map<String, String> withTimes = new HashMap<>();
    for (Map.Entry<String, String> e : m.entrySet()) {
      withTimes.put(
          e.getKey(),
          e.getValue() + ", mtime " + Files.getLastModifiedTime(d.resolve(e.getKey())).toMillis());
    }
    try (Stream<Path> s = Files.walk(d)) {
      s.filter(Files::isDirectory).forEach(p -> withTimes.put(d.relativize(p) + "/", "dir"));
    }
    return new TreeMap<>(withTimes);
  }

  private static Map<String, String> subtree(Map<String, String> tree, String top) {
    Map<String, String> m = new TreeMap<>();
    tree.forEach(
        (k, v) -> {
          if (k.startsWith(top + "/")) {
            m.put(k, v);
          }
        });
    return m;
  }
}
