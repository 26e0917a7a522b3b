package io.rebundle.jobs.cli;

import static io.rebundle.jobs.TestCheckpoints.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.convert.ConvertReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert's report: on stdout, on failure, with codes; and the grouped summary. */
class ReportIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void reportDashGoesToStdoutAndTheSummaryToStderr() throws Exception {
    Path out = dir.resolve("out");
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            "--report",
            "-",
            CliRunner.example("tf2-ckpt"),
            out.toString());
    assertEquals(0, r.exitCode(), r.err());
    JsonNode report = JSON.readTree(r.out());
    assertEquals("succeeded", report.get("status").asText());
    assertEquals(out.toString(), report.get("conversions").get(0).get("destination").asText());
    assertTrue(
        r.err()
            .startsWith("converted " + CliRunner.example("tf2-ckpt") + "/ckpt-1 (tf2) -> " + out),
        r.err());
    assertTrue(
        r.err()
            .contains(
                "  dropped 1 key [save_counter]: save_counter: TF2 bookkeeping, unknown to TF1 — "
                    + "save_counter/.ATTRIBUTES/VARIABLE_VALUE\n"),
        r.err());
    // No file named "-" anywhere.
    assertEquals(List.of("checkpoint", "out.data-00000-of-00001", "out.index"), list(dir));
    assertTrue(!Files.exists(Path.of("-")), "a file named - in the working directory");
  }

  @Test
  void jsonPrintsTheReportOnStdout() throws Exception {
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--json",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("out").toString());
    assertEquals(0, r.exitCode(), r.err());
    JsonNode report = JSON.readTree(r.out());
    assertEquals(ConvertReport.SCHEMA_VERSION, report.get("schema_version").asInt());
    assertEquals("convert", report.get("command").asText());
    assertEquals("tf2", report.get("conversions").get(0).get("target_format").asText());
    assertTrue(r.err().startsWith("converted "), r.err());
  }

  @Test
  void aFailedRunStillWritesItsReport() throws Exception {
    String source = TestCheckpoints.copyTf1Example(dir.resolve("src"));
    BundleEntry b;
    try (CheckpointReader reader = CheckpointReader.openPrefix(new LocalFileIO(), source)) {
      b = reader.entry("b");
    }
    Path data = Path.of(source + ".data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) b.offset() + 1] ^= 0x01;
    Files.write(data, bytes);
    Path report = dir.resolve("reports/run.json");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--report",
            report.toString(),
            source,
            dir.resolve("dst/out").toString());

    assertEquals(3, r.exitCode(), r.err());
    JsonNode json = JSON.readTree(report.toFile());
    assertEquals("failed", json.get("status").asText());
    assertEquals(3, json.get("error").get("exit_code").asInt());
    assertEquals("bad_input", json.get("error").get("code").asText());
    assertEquals(r.err().strip(), "rebundle: " + json.get("error").get("message").asText());
    assertEquals(0, json.get("conversions").size());
    assertEquals(List.of("run.json"), list(dir.resolve("reports")));
  }

  @Test
  void aUsageErrorWithJsonPrintsAFailedReport() throws Exception {
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf3",
            "--json",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("out").toString());
    assertEquals(2, r.exitCode());
    JsonNode json = JSON.readTree(r.out());
    assertEquals("failed", json.get("status").asText());
    assertEquals("usage", json.get("error").get("code").asText());
    assertEquals(
        "Invalid --to: tf3 (expected tf1, tf2 or tf1,tf2)",
        json.get("error").get("message").asText());
  }

  @Test
  void summaryGroupsDroppedKeysByReasonWithExamples() {
    List<MigrationPlan.Dropped> dropped = new ArrayList<>();
    dropped.add(
        new MigrationPlan.Dropped(
            "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
            "save_counter: TF2 bookkeeping, unknown to TF1"));
    for (int i = 0; i < 2000; i++) {
      dropped.add(
          new MigrationPlan.Dropped(
              "layer_" + i + "/kernel/.OPTIMIZER_SLOT/optimizer/m",
              "optimizer slot 'm' of layer_" + i + "/kernel (use --keep-optimizer to keep it)"));
    }
    StringWriter s = new StringWriter();
    ConvertReport.printDropped(new PrintWriter(s, true), dropped);
    assertEquals(
        "  dropped 2000 keys [optimizer_slot]: e.g. optimizer slot 'm' of layer_0/kernel (use "
            + "--keep-optimizer to keep it) — layer_0/kernel/.OPTIMIZER_SLOT/optimizer/m, "
            + "layer_1/kernel/.OPTIMIZER_SLOT/optimizer/m, layer_2/kernel/.OPTIMIZER_SLOT/optimizer/m, ... (1997 more)\n"
            + "  dropped 1 key [save_counter]: save_counter: TF2 bookkeeping, unknown to TF1 — "
            + "save_counter/.ATTRIBUTES/VARIABLE_VALUE\n"
            + "  (every dropped key and its reason: --report FILE or --dry-run)\n",
        s.toString());
  }

  @Test
  void everyPlannerPhrasingHasAReasonCode() {
    assertEquals("drop_rule", ConvertReport.reasonCode("matches drop rule 'x.*'"));
    assertEquals("excluded", ConvertReport.reasonCode("excluded by 'x'"));
    assertEquals("not_included", ConvertReport.reasonCode("matches no include pattern"));
    assertEquals(
        "global_step", ConvertReport.reasonCode("global step not carried (global_step: drop)"));
    assertEquals(
        "optimizer_slot",
        ConvertReport.reasonCode("optimizer state not carried (optimizer: drop)"));
    assertEquals(
        "optimizer_slot",
        ConvertReport.reasonCode("optimizer slot: not carried through a restructure"));
    assertEquals("save_counter", ConvertReport.reasonCode("save_counter: regenerated"));
    assertEquals("object_graph", ConvertReport.reasonCode("object graph: TF2 only"));
    assertEquals("unreferenced", ConvertReport.reasonCode("not referenced by the object graph"));
    assertEquals("no_target_name", ConvertReport.reasonCode("no target name"));
    assertEquals("orphan_slice", ConvertReport.reasonCode("slice of dropped tensor w"));
    assertEquals(
        "orphan_slice", ConvertReport.reasonCode("slice entry without a full entry for w"));
    assertEquals("template_replaced", ConvertReport.reasonCode("replaced by the template's"));
    assertEquals("template_unused", ConvertReport.reasonCode("not used by the template"));
    assertEquals("other", ConvertReport.reasonCode("a phrasing added later"));
  }
}
