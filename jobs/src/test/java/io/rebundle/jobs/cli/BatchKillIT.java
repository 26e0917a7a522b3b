package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.batch.SuccessRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch driver killed (SIGKILL) at several moments of a run: whatever is under a final name is
 * complete at every kill, and a rerun completes the fleet, with outputs equal to convert's and no
 * staging left behind.
 */
class BatchKillIT {
  private static final int ROWS = 8;

  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stopStarted() {
    for (Process p : started) {
      p.destroyForcibly();
    }
  }

  @Test
  void rerunAfterKillsAtAnyMomentCompletesTheFleet() throws Exception {
    Path manifest = dir.resolve("fleet.jsonl");
    StringBuilder rows = new StringBuilder();
    for (int i = 0; i < ROWS; i++) {
      Path model = dir.resolve("in/m" + i);
      BatchCommandIT.modelDir(model, "model.ckpt-" + (i + 1), 1 + i % 2, i);
      rows.append("{\"src\": \"")
          .append(model)
          .append("\", \"dst\": \"")
          .append(dir.resolve("out/m" + i))
          .append("/\", \"to\": \"tf2\", \"shards\": 2}\n");
    }
    Files.writeString(manifest, rows);
    Path logs = dir.resolve("logs");

    // 1: as soon as the first row is marked as started (preparing or staging).
    killWhen(manifest, logs, () -> count(dir.resolve("out"), SuccessRecord.SUFFIX) > 0);
    assertCompleteUnderFinalNames();
    // 2: once some row of the second run has committed.
    killWhen(manifest, logs, () -> newestLogLines(logs) >= 1);
    assertCompleteUnderFinalNames();
    // 3: a little later into a third run.
    long t0 = System.nanoTime();
    killWhen(
        manifest, logs, () -> newestLogLines(logs) >= 1 && System.nanoTime() - t0 > 300_000_000L);
    assertCompleteUnderFinalNames();

    CliRunner rerun = BatchCommandIT.run("batch", manifest.toString());
    assertEquals(0, rerun.exitCode(), rerun.out() + rerun.err());
    assertTrue(rerun.out().contains("batch: " + ROWS + " rows: "), rerun.out());
    assertTrue(rerun.out().contains(" 0 failed"), rerun.out());
    assertEquals(
        0,
        count(dir.resolve("out"), ".rebundle-staging-"),
        "staging left: " + files(dir.resolve("out")));
    for (int i = 0; i < ROWS; i++) {
      Path ref = dir.resolve("ref/m" + i + "/");
      CliRunner c =
          BatchCommandIT.run(
              "convert",
              "--to",
              "tf2",
              "--shards",
              "2",
              dir.resolve("in/m" + i).toString(),
              ref + "/");
      assertEquals(0, c.exitCode(), c.err());
      String name = "model.ckpt-" + (i + 1);
      Map<String, TestCheckpoints.StoredEntry> expected =
          TestCheckpoints.storedEntries(io, ref.resolve(name).toString());
      Map<String, TestCheckpoints.StoredEntry> actual =
          TestCheckpoints.storedEntries(io, dir.resolve("out/m" + i).resolve(name).toString());
      assertTrue(expected.equals(actual), "row " + i + " differs from convert's output");
    }
    CliRunner done = BatchCommandIT.run("batch", manifest.toString());
    assertEquals(0, done.exitCode(), done.err());
    assertTrue(done.out().contains("0 converted, " + ROWS + " skipped"), done.out());
  }

  /**
   * Starts {@code batch} in its own JVM and kills it with SIGKILL once {@code when} holds (or it
   * ends).
   */
  private void killWhen(Path manifest, Path logs, BooleanSupplier when) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens")
          || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
          || a.startsWith("-Dio.netty")) {
        cmd.add(a);
      }
    }
    cmd.addAll(
        List.of(
            "-Xmx512m",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "batch",
            manifest.toString(),
            "--parallel",
            "2",
            "--log-dir",
            logs.toString(),
            "--conf",
            "spark.master=local[2]",
            "--conf",
            "spark.ui.enabled=false"));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("driver-" + started.size() + ".log").toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    started.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (p.isAlive() && !when.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    assertTrue(
        p.isAlive(),
        "the driver ended before it was killed: "
            + Files.readString(dir.resolve("driver-" + (started.size() - 1) + ".log")));
    p.destroyForcibly();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue());
  }

  /**
   * Every output with an index (the commit point) is complete: all its tensors read and
   * CRC-checked.
   */
  private void assertCompleteUnderFinalNames() throws IOException {
    for (int i = 0; i < ROWS; i++) {
      Path index = dir.resolve("out/m" + i + "/model.ckpt-" + (i + 1) + ".index");
      if (Files.exists(index)) {
        String prefix =
            index.toString().substring(0, index.toString().length() - ".index".length());
        assertEquals(44, TestCheckpoints.readAll(io, prefix).size(), prefix);
      }
    }
  }

  private static long newestLogLines(Path logs) {
    List<Path> f = files(logs);
    if (f.isEmpty()) {
      return 0;
    }
    Path newest =
        f.stream()
            .max((a, b) -> Long.compare(a.toFile().lastModified(), b.toFile().lastModified()))
            .orElseThrow();
    try {
      return Files.readAllLines(newest).size();
    } catch (IOException e) {
      return 0;
    }
  }

  private static long count(Path d, String nameContains) {
    return files(d).stream().filter(p -> p.toString().contains(nameContains)).count();
  }

  private static List<Path> files(Path d) {
    if (!Files.exists(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(d)) {
      return s.toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }
}
