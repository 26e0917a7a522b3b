package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code batch --discover}: every checkpoint under a root, mirrored under the destination root. */
class BatchDiscoveryIT {
  @TempDir Path dir;
  private Path root;
  private Path dst;

  @BeforeEach
  void tree() throws IOException {
    root = dir.resolve("models");
    dst = dir.resolve("tf2");
    LocalFileIO io = new LocalFileIO();
    // A model directory keeping two checkpoints, deep down.
    Path estimator = root.resolve("team/a/ranker");
    TestCheckpoints.generate(estimator.resolve("model.ckpt-1").toString(), 1, 1);
    TestCheckpoints.generate(estimator.resolve("model.ckpt-2").toString(), 2, 2);
    new CheckpointState("model.ckpt-2", List.of("model.ckpt-1", "model.ckpt-2"))
        .write(io, estimator.toString());
    // A SavedModel.
    Path saved = root.resolve("bert/7");
    TestCheckpoints.generate(saved.resolve("variables/variables").toString(), 1, 3);
    Files.write(saved.resolve("saved_model.pb"), new byte[] {8, 1});
    // A bare prefix (no state file).
    TestCheckpoints.copyTf1Example(root.resolve("loose"));
  }

  @Test
  void writesTheManifestOfEveryCheckpointThenRunsIt() throws IOException {
    Path manifest = dir.resolve("fleet.jsonl");
    CliRunner w =
        BatchCommandIT.run(
            "batch",
            "--discover",
            root.toString(),
            "--dst-root",
            dst.toString(),
            "--to",
            "tf2",
            "--write-manifest",
            manifest.toString());
    assertEquals(0, w.exitCode(), w.err());
    assertTrue(w.out().contains("3 checkpoints under " + root), w.out());
    List<String> lines = Files.readAllLines(manifest);
    assertEquals(
        List.of(
            "{\"src\":\""
                + root.resolve("bert/7")
                + "\",\"dst\":\""
                + dst.resolve("bert/7/variables/variables")
                + "\",\"to\":\"tf2\",\"no_state_file\":true}",
            "{\"src\":\""
                + root.resolve("loose/tf1-ckpt")
                + "\",\"dst\":\""
                + dst.resolve("loose/tf1-ckpt")
                + "\",\"to\":\"tf2\",\"no_state_file\":true}",
            "{\"src\":\""
                + root.resolve("team/a/ranker")
                + "\",\"dst\":\""
                + dst.resolve("team/a/ranker")
                + "/\",\"to\":\"tf2\"}"),
        lines.stream().sorted().toList());
    assertTrue(!Files.exists(dst), "--write-manifest runs nothing");

    CliRunner r = BatchCommandIT.run("batch", manifest.toString());
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertTrue(r.out().contains("3 rows: 3 converted"), r.out());
    assertTrue(Files.exists(dst.resolve("team/a/ranker/model.ckpt-2.index")));
    assertTrue(Files.exists(dst.resolve("team/a/ranker/checkpoint")));
    assertTrue(Files.exists(dst.resolve("bert/7/variables/variables.index")));
    assertTrue(Files.exists(dst.resolve("loose/tf1-ckpt.index")));

    // Discovering and running at once: everything is already done.
    CliRunner again =
        BatchCommandIT.run(
            "batch", "--discover", root.toString(), "--dst-root", dst.toString(), "--to", "tf2");
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("3 rows: 0 converted, 3 skipped"), again.out());
  }

  @Test
  void allCheckpointsGivesOneRowPerCheckpointAndOnlyTheLatestWritesTheStateFile()
      throws IOException {
    CliRunner r =
        BatchCommandIT.run(
            "batch",
            "--discover",
            root.toString(),
            "--dst-root",
            dst.toString(),
            "--to",
            "tf2",
            "--all-checkpoints");
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertTrue(r.out().contains("4 rows: 4 converted"), r.out());
    assertTrue(Files.exists(dst.resolve("team/a/ranker/model.ckpt-1.index")));
    assertTrue(Files.exists(dst.resolve("team/a/ranker/model.ckpt-2.index")));
    assertEquals(
        "model.ckpt-2",
        CheckpointState.read(new LocalFileIO(), dst.resolve("team/a/ranker/checkpoint").toString())
            .modelCheckpointPath());
  }

  @Test
  void discoverNeedsItsOptions() {
    CliRunner r = BatchCommandIT.run("batch", "--discover", root.toString(), "--to", "tf2");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("--discover needs --dst-root DST_ROOT and --to FORMAT"), r.err());
    r =
        BatchCommandIT.run(
            "batch", dir.resolve("m.jsonl").toString(), "--dst-root", dst.toString());
    assertEquals(2, r.exitCode());
  }
}
