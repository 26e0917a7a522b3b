package io.rebundle.jobs.cli;

import static io.rebundle.jobs.TestCheckpoints.crcOf;
import static io.rebundle.jobs.TestCheckpoints.hex;
import static io.rebundle.jobs.TestCheckpoints.list;
import static io.rebundle.jobs.TestCheckpoints.readAll;
import static io.rebundle.jobs.TestCheckpoints.scalar;
import static io.rebundle.jobs.TestCheckpoints.snapshot;
import static io.rebundle.jobs.TestCheckpoints.unmask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rebundle convert} in-process: exit codes, output, report, and what lands on disk. */
class ConvertCommandIT {
  private static final FileIO IO = new LocalFileIO();
  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  @TempDir Path dir;

  @Test
  void writesBothFormatsWithToTf1Tf2() {
    String source = CliRunner.example("tf1-ckpt");
    Path out = dir.resolve("out");

    CliRunner r =
        CliRunner.runWithSharedSpark("convert", "--to", "tf1,tf2", source, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals("converted " + source + " (tf1) -> " + out + "-tf1 (tf1)", lines.get(0));
    assertEquals(
        "  3 entries, 3 tensors with data, 12 B in 1 shard; 0 renamed, 0 dropped", lines.get(1));
    assertEquals("converted " + source + " (tf1) -> " + out + "-tf2 (tf2)", lines.get(3));
    assertTrue(lines.get(4).startsWith("  5 entries, 5 tensors with data, "), lines.get(4));
    assertTrue(lines.get(4).endsWith(" in 1 shard; 3 renamed, 0 dropped"), lines.get(4));
    assertEquals(
        List.of(
            "checkpoint",
            "out-tf1.data-00000-of-00001",
            "out-tf1.index",
            "out-tf2.data-00000-of-00001",
            "out-tf2.index"),
        list(dir));
    assertEquals(
        Map.of("a", scalar(1), "b", scalar(2), "scoped/c", scalar(3)), readAll(IO, out + "-tf1"));
    Map<String, ?> tf2 = readAll(IO, out + "-tf2");
    assertEquals(
        List.of(
            "_CHECKPOINTABLE_OBJECT_GRAPH",
            "save_counter" + VALUE,
            "vars/a" + VALUE,
            "vars/b" + VALUE,
            "vars/scoped.Sc" + VALUE),
        List.copyOf(tf2.keySet()));
    assertEquals(scalar(3), tf2.get("vars/scoped.Sc" + VALUE));
    // Both conversions record themselves in the state file of the shared directory: the first
    // creates it (and is the latest), the second is added without moving the latest.
    assertEquals(
        new CheckpointState("out-tf1", List.of("out-tf1", "out-tf2")),
        CheckpointState.read(IO, dir.resolve("checkpoint").toString()));
  }

  @Test
  void dryRunPrintsThePlanAndWritesNothing() throws Exception {
    String source = CliRunner.example("tf2-ckpt");
    Path out = dir.resolve("out");
    Path report = dir.resolve("reports/plan.json");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            "--dry-run",
            "--report",
            report.toString(),
            source,
            out.toString());

    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        String.join(
            "\n",
            "plan: "
                + source
                + "/ckpt-1 (tf2) -> "
                + out
                + " (tf1), 1 shard (dry run: nothing written)",
            "  copy      variables/0/.ATTRIBUTES/VARIABLE_VALUE -> a  float32 [] -> float32 [], 4 bytes",
            "  copy      variables/1/.ATTRIBUTES/VARIABLE_VALUE -> b  float32 [] -> float32 [], 4 bytes",
            "  copy      variables/2/.ATTRIBUTES/VARIABLE_VALUE -> c  float32 [] -> float32 [], 4 bytes",
            "  dropped  save_counter/.ATTRIBUTES/VARIABLE_VALUE: save_counter: TF2 bookkeeping, unknown to TF1",
            "  dropped  _CHECKPOINTABLE_OBJECT_GRAPH: object graph: TF2 only",
            "  file reuse (auto): no source data file can be reused whole",
            "  not reused: source shard 0: it holds save_counter/.ATTRIBUTES/VARIABLE_VALUE, which is not in the output "
                + "(save_counter: TF2 bookkeeping, unknown to TF1)",
            "  shard 0: 3 tensors, 12 bytes",
            ""),
        r.out());
    assertEquals(List.of("reports"), list(dir));
    JsonNode conversion = new ObjectMapper().readTree(report.toFile()).get("conversions").get(0);
    assertTrue(conversion.get("dry_run").asBoolean());
  }

  @Test
  void refusesAnExistingDestinationWithExitFourAndReplacesItWithOverwrite() {
    Path out = dir.resolve("out");
    assertEquals(
        0,
        CliRunner.runWithSharedSpark(
                "convert", "--to", "tf1", CliRunner.example("tf2-ckpt"), out.toString())
            .exitCode());
    Map<String, String> before = snapshot(dir);

    CliRunner refused =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", CliRunner.example("tf1-ckpt"), out.toString());

    assertEquals(2, refused.exitCode(), refused.err());
    assertTrue(refused.err().contains("already exists"), refused.err());
    assertEquals(
        "rebundle: Cannot write checkpoint "
            + out
            + ": it already exists (use --overwrite to replace it once "
            + "the new one is complete)\n",
        refused.err());
    assertEquals(before, snapshot(dir));
    assertEquals(
        Map.of("a", scalar(5), "b", scalar(6), "c", scalar(7)), readAll(IO, out.toString()));

    CliRunner replaced =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", "--overwrite", CliRunner.example("tf1-ckpt"), out.toString());

    assertEquals(0, replaced.exitCode(), replaced.err());
    assertEquals(
        Map.of("a", scalar(1), "b", scalar(2), "scoped/c", scalar(3)), readAll(IO, out.toString()));
    assertEquals(List.of("checkpoint", "out.data-00000-of-00001", "out.index"), list(dir));
  }

  @Test
  void writesAJsonReport() throws Exception {
    Path out = dir.resolve("out");
    Path report = dir.resolve("report.json");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            "--report",
            report.toString(),
            CliRunner.example("tf2-ckpt"),
            out.toString());

    assertEquals(0, r.exitCode(), r.err());
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    assertEquals(1, json.get("conversions").size());
    JsonNode c = json.get("conversions").get(0);
    assertEquals(CliRunner.example("tf2-ckpt"), c.get("source").asText());
    assertEquals(CliRunner.example("tf2-ckpt") + "/ckpt-1", c.get("source_prefix").asText());
    assertEquals(out.toString(), c.get("destination").asText());
    assertEquals("tf2", c.get("source_format").asText());
    assertEquals("tf1", c.get("target_format").asText());
    assertEquals(false, c.get("dry_run").asBoolean());
    assertEquals(3, c.get("entries").asLong());
    assertEquals(3, c.get("tensors").asLong());
    assertEquals(12, c.get("bytes").asLong());
    assertEquals(1, c.get("num_shards").asLong());
    ObjectMapper m = new ObjectMapper();
    assertEquals(m.readTree("[{\"shard\":0,\"tensors\":3,\"bytes\":12}]"), c.get("shards"));
    assertEquals(
        m.readTree(
            "[{\"from\":\"variables/0/.ATTRIBUTES/VARIABLE_VALUE\",\"to\":\"a\"},"
                + "{\"from\":\"variables/1/.ATTRIBUTES/VARIABLE_VALUE\",\"to\":\"b\"},"
                + "{\"from\":\"variables/2/.ATTRIBUTES/VARIABLE_VALUE\",\"to\":\"c\"}]"),
        m.readTree(c.get("renamed").toString().replace(",\"reason_code\":\"format\"", "")));
    c.get("renamed")
        .forEach(x -> assertEquals("format", x.get("reason_code").asText(), x.toString()));
    assertEquals(
        m.readTree(
            "[{\"key\":\"save_counter/.ATTRIBUTES/VARIABLE_VALUE\",\"reason_code\":\"save_counter\","
                + "\"reason\":\"save_counter: TF2 bookkeeping, unknown to TF1\"},"
                + "{\"key\":\"_CHECKPOINTABLE_OBJECT_GRAPH\",\"reason_code\":\"object_graph\","
                + "\"reason\":\"object graph: TF2 only\"}]"),
        c.get("dropped"));
    assertEquals(m.readTree("{\"object_graph\":1,\"save_counter\":1}"), c.get("dropped_by_reason"));
    assertEquals(2, json.get("schema_version").asInt());
    assertEquals("succeeded", json.get("status").asText());
    assertTrue(json.get("error").isNull(), json.toString());
    assertEquals(
        io.rebundle.jobs.util.BuildInfo.current().version(), json.get("tool_version").asText());
    assertTrue(json.get("total_seconds").asDouble() > 0, json.toString());
    assertTrue(
        java.time.Instant.parse(json.get("started_at").asText())
            .isBefore(java.time.Instant.parse(json.get("finished_at").asText())),
        json.toString());
    assertEquals(m.readTree("[]"), c.get("notes"));
    assertTrue(c.get("copy_seconds").asDouble() > 0, c.toString());
  }

  @Test
  void corruptSourceExitsThreeAndLeavesNothingBehind() throws Exception {
    String source = TestCheckpoints.copyTf1Example(dir.resolve("src"));
    BundleEntry b;
    try (CheckpointReader reader = CheckpointReader.openPrefix(IO, source)) {
      b = reader.entry("b");
    }
    Path data = Path.of(source + ".data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) b.offset() + 1] ^= 0x01;
    Files.write(data, bytes);
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    Files.createDirectories(dir.resolve("dst"));

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", source, dir.resolve("dst/out").toString());

    assertEquals(3, r.exitCode(), r.err());
    String computed =
        hex(
            crcOf(
                DType.FLOAT, 1, Arrays.copyOfRange(bytes, (int) b.offset(), (int) b.offset() + 4)));
    assertEquals(
        "rebundle: Checksum mismatch for tensor b in "
            + data
            + " (shard 0, offset 4, 4 bytes): stored "
            + hex(unmask(b.crc32c()))
            + ", computed "
            + computed
            + "\n",
        r.err());
    assertEquals(List.of(), list(dir.resolve("dst")));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void missingSourceDataFileExitsThreeBeforeAnyTask() throws Exception {
    String source = TestCheckpoints.copyTf1Example(dir.resolve("src"));
    Files.delete(Path.of(source + ".data-00000-of-00001"));
    Files.createDirectories(dir.resolve("dst"));

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", source, dir.resolve("dst/out").toString());

    // The checkpoint exists and one of its files does not: corrupt input (3), not "not found" (4).
    assertEquals(3, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Cannot read tensor a: data file "
            + source
            + ".data-00000-of-00001 (shard 0 of 1) is "
            + "missing\n",
        r.err());
    assertEquals(List.of(), list(dir.resolve("dst")));
  }

  @Test
  void createsAndStopsItsOwnSparkContextWhenNoneIsLent() {
    SharedSpark.stop();
    Path out = dir.resolve("out");

    CliRunner r =
        CliRunner.run("convert", "--to", "tf2", CliRunner.example("tf1-ckpt"), out.toString());

    assertEquals(0, r.exitCode(), r.err());
    // Spark refuses a second active context in a JVM: this succeeds only if the command stopped its
    // own.
    assertFalse(SharedSpark.context().sc().isStopped());
    assertEquals(
        List.of(
            "_CHECKPOINTABLE_OBJECT_GRAPH",
            "save_counter" + VALUE,
            "vars/a" + VALUE,
            "vars/b" + VALUE,
            "vars/scoped.Sc" + VALUE),
        List.copyOf(readAll(IO, out.toString()).keySet()));
  }

  /**
   * Scenario "Estimator": the new model's checkpoint as template, the old one as source, into a
   * model directory.
   */
  @Test
  void fillsATemplateIntoAModelDirectoryWithAStateFile() throws Exception {
    Path modelDir = dir.resolve("model_dir");
    java.nio.file.Files.createDirectories(modelDir);
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--template",
            CliRunner.example("tf2-ckpt"),
            "--prev-name",
            "c=scoped/c",
            CliRunner.example("tf1-ckpt"),
            modelDir.toString() + "/");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        "model_checkpoint_path: \"tf1-ckpt\"\nall_model_checkpoint_paths: \"tf1-ckpt\"\n",
        java.nio.file.Files.readString(modelDir.resolve("checkpoint")));
    try (io.rebundle.codec.bundle.CheckpointReader reader =
        io.rebundle.codec.bundle.CheckpointReader.open(
            new io.rebundle.codec.io.LocalFileIO(), modelDir.toString())) {
      assertEquals(
          java.util.List.of(3f),
          java.util.List.of(
              java.nio.ByteBuffer.wrap(reader.read("variables/2/.ATTRIBUTES/VARIABLE_VALUE").data())
                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                  .getFloat()));
    }
    CliRunner unfilled =
        CliRunner.runWithSharedSpark(
            "convert",
            "--template",
            CliRunner.example("tf2-ckpt"),
            CliRunner.example("tf1-ckpt"),
            dir.resolve("x/out").toString());
    assertEquals(3, unfilled.exitCode());
    assertTrue(unfilled.err().contains("1 template variable(s) not filled"), unfilled.err());
  }

  @Test
  void linkHardLinksTheSourceFilesAndReportsThem() throws Exception {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 17);
    Path out = dir.resolve("out/ckpt-1");
    Path report = dir.resolve("report.json");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--link",
            "--report",
            report.toString(),
            source,
            out.toString());

    assertEquals(0, r.exitCode(), r.err());
    List<String> lines = r.out().lines().toList();
    assertTrue(
        lines.contains(
            "  2 source data files ("
                + io.rebundle.jobs.util.Sizes.human(
                    Files.size(Path.of(source + ".data-00000-of-00002"))
                        + Files.size(Path.of(source + ".data-00001-of-00002")))
                + ") hard-linked, keeping their layout; 1 new shard"),
        r.out());
    assertTrue(
        lines.contains(
            "  note: the reused files' CRC32Cs were not checked; run `rebundle verify "
                + out
                + "` to check every byte (or convert with --verify-copies)"),
        r.out());
    for (int s = 0; s < 2; s++) {
      assertEquals(
          Files.getAttribute(Path.of(source + String.format(".data-%05d-of-00002", s)), "unix:ino"),
          Files.getAttribute(Path.of(out + String.format(".data-%05d-of-00003", s)), "unix:ino"));
    }
    JsonNode c = new ObjectMapper().readTree(report.toFile()).get("conversions").get(0);
    assertEquals("link", c.get("reuse").get("requested").asText());
    assertEquals("link", c.get("reuse").get("mode").asText());
    assertFalse(c.get("verified").asBoolean());
    assertEquals(2, c.get("reused_files").size());
    JsonNode f = c.get("reused_files").get(1);
    assertEquals(source + ".data-00001-of-00002", f.get("source").asText());
    assertEquals(out + ".data-00001-of-00003", f.get("target").asText());
    assertEquals("link", f.get("mode").asText());
    assertEquals(Files.size(Path.of(source + ".data-00001-of-00002")), f.get("bytes").asLong());
    assertEquals(0, c.get("not_reused").size());
    assertEquals(0, CliRunner.run("verify", out.toString()).exitCode());
  }

  @Test
  void verifyCopiesChecksReusedFilesAndSaysSo() throws Exception {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 18);
    Path report = dir.resolve("report.json");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            "--reuse-files",
            "copy",
            "--verify-copies",
            "--report",
            report.toString(),
            source,
            dir.resolve("out/model").toString());

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains(" copied whole, keeping their layout; 0 new shards"), r.out());
    assertFalse(r.out().contains("were not checked"), r.out());
    JsonNode c = new ObjectMapper().readTree(report.toFile()).get("conversions").get(0);
    assertTrue(c.get("verified").asBoolean());
    assertEquals("copy", c.get("reused_files").get(0).get("mode").asText());
  }

  @Test
  void contradictoryOrUnknownReuseOptionsAreUsageErrors() {
    String source = CliRunner.example("tf1-ckpt");
    String out = dir.resolve("out").toString();

    CliRunner both =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--link", "--reuse-files", "copy", source, out);
    CliRunner unknown =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--reuse-files", "symlink", source, out);
    CliRunner pointless =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--reuse-files", "never", "--verify-copies", source, out);

    assertEquals(2, both.exitCode());
    assertEquals(
        "rebundle: Invalid options: --link is --reuse-files link; --reuse-files copy asks for something "
            + "else\n",
        both.err());
    assertEquals(2, unknown.exitCode());
    assertEquals(
        "rebundle: Invalid --reuse-files: symlink (expected auto, copy, link or never)\n",
        unknown.err());
    assertEquals(2, pointless.exitCode());
    assertEquals(List.of(), list(dir));
  }

  @Test
  void linkAcrossFileSystemsExitsTwoNamingTheFile() throws Exception {
    Path shm = Path.of("/dev/shm");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isDirectory(shm)
            && Files.isWritable(shm)
            && !Files.getFileStore(shm).equals(Files.getFileStore(dir)),
        "no second file system at /dev/shm");
    Path src = Files.createTempDirectory(shm, "rebundle-cli-link");
    try {
      String source = TestCheckpoints.copyTf1Example(src);
      Files.createDirectories(dir.resolve("dst"));

      CliRunner r =
          CliRunner.runWithSharedSpark(
              "convert", "--to", "tf2", "--link", source, dir.resolve("dst/out").toString());

      assertEquals(2, r.exitCode(), r.err());
      assertTrue(
          r.err().startsWith("rebundle: Cannot hard-link " + source + ".data-00000-of-00001 as "),
          r.err());
      assertTrue(r.err().contains(": they are on different file systems"), r.err());
      assertEquals(List.of(), list(dir.resolve("dst")));
    } finally {
      for (String name : list(src)) {
        Files.delete(src.resolve(name));
      }
      Files.delete(src);
    }
  }

  @Test
  void helpExplainsWhatAHardLinkShares() {
    CliRunner r = CliRunner.run("convert", "--help");

    assertEquals(0, r.exitCode());
    String help = r.out().replaceAll("\\s+", " ");
    assertTrue(help.contains("--reuse-files=auto|copy|link|never"), help);
    assertTrue(help.contains("editing an output data file in place would change SRC's too"), help);
    assertTrue(help.contains("--verify-copies"), help);
  }

  /**
   * The default reuses big source files whole but never skips a CRC check; asking for copy does.
   */
  @Test
  void defaultFileReuseStillFindsDamageAndExplicitCopyDoesNot() throws Exception {
    String source = dir.resolve("big/ckpt").toString();
    byte[] data = new byte[65 << 20];
    new java.util.Random(3).nextBytes(data);
    try (io.rebundle.codec.bundle.CheckpointWriter w =
        io.rebundle.codec.bundle.CheckpointWriter.create(
            new io.rebundle.codec.io.LocalFileIO(), source)) {
      w.add(
          "emb",
          io.rebundle.codec.bundle.Tensor.of(
              io.rebundle.codec.bundle.DType.UINT8,
              io.rebundle.codec.bundle.TensorShape.of(data.length),
              data));
      w.finish();
    }
    try (java.io.RandomAccessFile f =
        new java.io.RandomAccessFile(source + ".data-00000-of-00001", "rw")) {
      f.seek(12345);
      int b = f.read();
      f.seek(12345);
      f.write(b ^ 1);
    }
    CliRunner auto =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", source, dir.resolve("a/out").toString());
    assertEquals(3, auto.exitCode(), auto.out());
    assertTrue(auto.err().contains("Checksum mismatch for tensor emb"), auto.err());
    CliRunner copy =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--reuse-files",
            "copy",
            source,
            dir.resolve("c/out").toString());
    assertEquals(0, copy.exitCode(), copy.err());
    assertTrue(copy.out().contains("verify"), copy.out());
  }
}
