package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert} and the model directory's history (docs/commit-protocol.md, "The state file"),
 * and a real {@code rebundle convert} process stopped by SIGTERM, then rerun.
 */
class StateFileAndSignalsIT {
  private static final FileIO IO = new LocalFileIO();

  @TempDir Path dir;

  /**
   * An Estimator model directory: three checkpoints and the state file TensorFlow's Saver wrote.
   */
  private Path estimatorDir() throws Exception {
    Path model = dir.resolve("model_dir");
    Files.createDirectories(model);
    for (String step : List.of("0", "500", "1000")) {
      try (CheckpointWriter w =
          CheckpointWriter.create(IO, model.resolve("model.ckpt-" + step).toString())) {
        w.add("dense/kernel", Tensor.of(DType.FLOAT, TensorShape.of(2), new byte[8]));
        w.add("global_step", Tensor.of(DType.INT64, TensorShape.of(), new byte[8]));
        w.finish();
      }
    }
    Files.writeString(
        model.resolve("checkpoint"),
        "model_checkpoint_path: \"model.ckpt-1000\"\n"
            + "all_model_checkpoint_paths: \"model.ckpt-0\"\n"
            + "all_model_checkpoint_paths: \"model.ckpt-500\"\n"
            + "all_model_checkpoint_paths: \"model.ckpt-1000\"\n"
            + "all_model_checkpoint_timestamps: 1700000000.5\n"
            + "all_model_checkpoint_timestamps: 1700000500.5\n"
            + "all_model_checkpoint_timestamps: 1700001000.5\n"
            + "last_preserved_timestamp: 1699999999.0\n");
    return model;
  }

  @Test
  void convertingIntoTheSourcesOwnDirectoryKeepsItsHistory() throws Exception {
    Path model = estimatorDir();
    String state = model.resolve("checkpoint").toString();
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", model.toString(), model.resolve("model-tf2").toString());
    assertEquals(0, r.exitCode(), r.err());
    CheckpointState after = CheckpointState.read(IO, state);
    assertEquals("model.ckpt-1000", after.modelCheckpointPath());
    assertEquals(
        List.of("model.ckpt-0", "model.ckpt-500", "model.ckpt-1000", "model-tf2"),
        after.allModelCheckpointPaths());
    assertEquals(
        List.of(1700000000.5, 1700000500.5, 1700001000.5),
        after.allModelCheckpointTimestamps().subList(0, 3));
    assertEquals(4, after.allModelCheckpointTimestamps().size());
    assertEquals(1699999999.0, after.lastPreservedTimestamp());
    // The source is read from its latest checkpoint, still model.ckpt-1000; a rerun with
    // --set-latest makes the TF2 checkpoint the latest and keeps everything else.
    CliRunner latest =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--overwrite",
            "--set-latest",
            model.resolve("model.ckpt-1000").toString(),
            model.resolve("model-tf2").toString());
    assertEquals(0, latest.exitCode(), latest.err());
    CheckpointState set = CheckpointState.read(IO, state);
    assertEquals("model-tf2", set.modelCheckpointPath());
    assertEquals(
        List.of("model.ckpt-0", "model.ckpt-500", "model.ckpt-1000", "model-tf2"),
        set.allModelCheckpointPaths());
    assertEquals(List.of(), staging(model));
  }

  @Test
  void setLatestWithoutAStateFileIsAUsageError() {
    CliRunner r =
        CliRunner.run(
            "convert",
            "--to",
            "tf2",
            "--set-latest",
            "--no-state-file",
            CliRunner.example("tf1-ckpt"),
            dir.resolve("out").toString());
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: --set-latest and --no-state-file cannot be used together", r.err().strip());
  }

  /**
   * SIGTERM to a real {@code rebundle convert} (embedded Spark) while a task writes: the shutdown
   * hook removes the staging directory before the JVM exits, the destination is untouched, and a
   * rerun succeeds.
   */
  @Test
  void sigtermWhileCopyingLeavesNothingAndARerunSucceeds() throws Exception {
    Path model = estimatorDir();
    byte[] stateBefore = Files.readAllBytes(model.resolve("checkpoint"));
    Path marker = dir.resolve("reached");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Drebundle.failpoint=writing-shard");
    cmd.add("-Drebundle.failpoint.file=" + marker);
    cmd.add(Main.class.getName());
    cmd.addAll(
        List.of(
            "convert",
            "--to",
            "tf2",
            "--shards",
            "2",
            model.resolve("model.ckpt-500").toString(),
            model.resolve("model-tf2").toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Path log = dir.resolve("child.log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(marker) || Files.size(marker) == 0) {
      if (!p.isAlive()) {
        fail("convert ended (exit " + p.exitValue() + ") before copying: " + Files.readString(log));
      }
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        fail("convert did not reach its first tensor in 120 s: " + Files.readString(log));
      }
      Thread.sleep(20);
    }
    assertEquals(1, staging(model).size(), staging(model).toString());
    p.destroy(); // SIGTERM
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "convert did not exit after SIGTERM");
    assertEquals(List.of(), staging(model), Files.readString(log));
    assertTrue(Files.notExists(model.resolve("model-tf2.index")));
    assertEquals(new String(stateBefore), Files.readString(model.resolve("checkpoint")));
    CliRunner rerun =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            model.resolve("model.ckpt-500").toString(),
            model.resolve("model-tf2").toString());
    assertEquals(0, rerun.exitCode(), rerun.err());
    assertEquals(List.of(), staging(model));
  }

  private static List<String> staging(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(".rebundle-staging-") || n.startsWith("checkpoint.tmp"))
          .sorted()
          .toList();
    }
  }
}
