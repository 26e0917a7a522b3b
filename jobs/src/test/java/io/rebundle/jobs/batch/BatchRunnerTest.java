package io.rebundle.jobs.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.codec.migrate.MigrationTask;
import io.rebundle.codec.migrate.TaskOutcome;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's scheduling and isolation, on an in-process engine (no Spark). */
class BatchRunnerTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  /**
   * Runs each call's tasks on this JVM's threads; records the rows per call; fails calls as told.
   */
  static final class TestEngine implements BatchEngine {
    final FileIO io;
    final List<Integer> jobs = Collections.synchronizedList(new ArrayList<>());
    final Predicate<MigrationTask> poisoned;
    final Runnable beforeFirstJob;

    TestEngine(FileIO io, Predicate<MigrationTask> poisoned, Runnable beforeFirstJob) {
      this.io = io;
      this.poisoned = poisoned;
      this.beforeFirstJob = beforeFirstJob;
    }

    @Override
    public List<List<TaskOutcome>> run(
        List<List<MigrationTask>> migrations, String description, ProgressSink p) {
      if (jobs.isEmpty()) {
        beforeFirstJob.run();
      }
      jobs.add(migrations.size());
      List<MigrationTask> flat = new ArrayList<>();
      migrations.forEach(flat::addAll);
      if (flat.stream().anyMatch(poisoned)) {
        throw new UncheckedIOException(
            "Cannot read data: injected storage failure", new IOException("injected"));
      }
      List<TaskOutcome> outcomes = LocalMigration.runTasks(io, flat, p, 2);
      List<List<TaskOutcome>> out = new ArrayList<>();
      int at = 0;
      for (List<MigrationTask> m : migrations) {
        out.add(outcomes.subList(at, at + m.size()));
        at += m.size();
      }
      return out;
    }

    @Override
    public ProgressSink progress(BatchProgress progress) {
      return ProgressSink.NONE;
    }
  }

  /** {@code n} small TF1 checkpoints and their rows (to TF2). */
  private List<BatchRow> fleet(int n) {
    StringBuilder manifest = new StringBuilder();
    for (int i = 0; i < n; i++) {
      TestCheckpoints.copyTf1Example(dir.resolve("in/m" + i));
      Path p = dir.resolve("in/m" + i + "/tf1-ckpt");
      manifest
          .append("{\"src\": \"")
          .append(p)
          .append("\", \"dst\": \"")
          .append(dir.resolve("out/m" + i + "/ckpt"))
          .append("\", \"to\": \"tf2\"}\n");
    }
    List<ManifestRow> rows = Manifest.read("m.jsonl", new StringReader(manifest.toString()));
    List<BatchRow> out = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      MigrationRequest r =
          MigrationRequest.of(
              rows.get(i).src(), rows.get(i).dst(), MigrationSpec.to(CheckpointFormat.TF2));
      out.add(new BatchRow(i, rows.get(i), List.of(r), null, null));
    }
    return out;
  }

  private BatchRunner runner(
      BatchEngine engine, BatchRunner.Options options, List<RowResult> seen) {
    return new BatchRunner(
        io,
        engine,
        l -> l,
        options,
        new BatchProgress(new PrintWriter(new StringWriter()), false, 1000, 0),
        seen::add,
        w -> {},
        t -> t instanceof UncheckedIOException ? "storage" : "corrupt",
        "rebundle test");
  }

  private long records() throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("out"))) {
      return s.filter(p -> p.toString().endsWith(SuccessRecord.SUFFIX)).count();
    } catch (java.nio.file.NoSuchFileException e) {
      return 0;
    }
  }

  @Test
  void tinyRowsShareJobs() {
    int n = 20;
    List<BatchRow> rows = fleet(n);
    // The first job waits until every row is prepared (its started record written), so the rows
    // that
    // queue up meanwhile go into the next job together.
    TestEngine engine =
        new TestEngine(
            io,
            t -> false,
            () -> {
              long deadline = System.nanoTime() + 20_000_000_000L;
              try {
                while (records() < n && System.nanoTime() < deadline) {
                  Thread.sleep(5);
                }
                Thread.sleep(200);
              } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    List<RowResult> seen = new ArrayList<>();
    List<RowResult> results =
        runner(engine, new BatchRunner.Options(n, 0, false, 4, 1, 1L << 30, 256), seen).run(rows);
    assertEquals(
        n,
        results.stream().filter(r -> r.status() == RowResult.Status.CONVERTED).count(),
        results.toString());
    assertEquals(n, seen.size());
    assertTrue(engine.jobs.size() <= 3, "jobs " + engine.jobs);
    assertEquals(n, engine.jobs.stream().mapToInt(Integer::intValue).sum());
    for (int i = 0; i < n; i++) {
      assertEquals(rows.get(i), results.get(i).row());
    }
  }

  @Test
  void aRowAboveTheGroupLimitRunsAlone() {
    List<BatchRow> rows = fleet(4);
    TestEngine engine = new TestEngine(io, t -> false, () -> {});
    List<RowResult> results =
        runner(engine, new BatchRunner.Options(4, 0, false, 4, 1, 1, 256), new ArrayList<>())
            .run(rows);
    assertEquals(4, results.stream().filter(r -> r.status() == RowResult.Status.CONVERTED).count());
    assertEquals(List.of(1, 1, 1, 1), engine.jobs);
  }

  @Test
  void aFailingRowInASharedJobFailsAloneAndLeavesNothingAtItsDestination() throws IOException {
    List<BatchRow> rows = fleet(6);
    String poison = dir.resolve("in/m3").toString();
    TestEngine engine = new TestEngine(io, t -> t.toString().contains(poison), () -> {});
    List<RowResult> results =
        runner(engine, new BatchRunner.Options(6, 0, false, 6, 1, 1L << 30, 256), new ArrayList<>())
            .run(rows);
    for (int i = 0; i < 6; i++) {
      RowResult r = results.get(i);
      if (i == 3) {
        assertEquals(RowResult.Status.FAILED, r.status());
        assertEquals("Cannot read data: injected storage failure", r.error());
        assertEquals("storage", r.errorKind());
      } else {
        assertEquals(RowResult.Status.CONVERTED, r.status(), r.toString());
        assertEquals(
            3,
            TestCheckpoints.readAll(io, dir.resolve("out/m" + i + "/ckpt").toString()).size() - 2);
      }
    }
    assertEquals(List.of(), TestCheckpoints.list(dir.resolve("out/m3")));
  }

  @Test
  void maxFailuresStopsStartingRows() throws IOException {
    List<BatchRow> rows = fleet(5);
    for (int i = 0; i < 5; i++) {
      Files.write(dir.resolve("in/m" + i + "/tf1-ckpt.index"), new byte[] {1, 2, 3});
    }
    TestEngine engine = new TestEngine(io, t -> false, () -> {});
    List<RowResult> results =
        runner(engine, new BatchRunner.Options(1, 2, false, 1, 1, 1L << 30, 256), new ArrayList<>())
            .run(rows);
    assertEquals(RowResult.Status.FAILED, results.get(0).status());
    assertEquals("corrupt", results.get(0).errorKind());
    assertEquals(RowResult.Status.FAILED, results.get(1).status());
    for (int i = 2; i < 5; i++) {
      assertEquals(RowResult.Status.NOT_RUN, results.get(i).status());
      assertEquals("not run: --max-failures 2 reached", results.get(i).reason());
    }
    assertEquals(0, records());
    assertEquals(List.of(), engine.jobs);
  }
}
