package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad sources reach the user of {@code convert} as one line and exit code 3: index problems are
 * found in the plan, before any Spark job starts; a corrupt byte is found by a task and still
 * prints at most two lines on stderr (no executor stack trace).
 */
class ConvertErrorsIT {
  private static final LocalFileIO IO = new LocalFileIO();
  private static final String MARKER = "rebundle-test-marker";

  @TempDir Path dir;
  private String source;
  private String data;

  @BeforeEach
  void write() {
    source = dir.resolve("src/ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(IO, source)) {
      w.add("a", Tensor.of(DType.FLOAT, TensorShape.of(4), new byte[16]));
      w.add("b", Tensor.of(DType.INT64, TensorShape.of(2), new byte[16]));
      w.finish();
    }
    data = Naming.dataFile(source, 0, 1);
  }

  /** Rewrites the source index with entry {@code key} changed. */
  private void corruptEntry(String key, UnaryOperator<BundleEntry> change) throws Exception {
    List<IndexRecord> records = new ArrayList<>();
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, source)) {
      for (IndexRecord rec : r.records()) {
        records.add(
            rec.name().equals(key) ? new IndexRecord(rec.key(), change.apply(rec.entry())) : rec);
      }
    }
    Files.delete(Path.of(Naming.indexFile(source)));
    IndexWriter.write(IO.newOutputFile(Naming.indexFile(source)), BundleHeader.of(1), records);
  }

  private static BundleEntry entry(BundleEntry e, int dtype, int shard, long offset, long size) {
    return new BundleEntry(dtype, e.shape(), shard, offset, size, e.crc32c(), List.of());
  }

  /** Counts Spark jobs other than a marker job, in the listener bus's order. */
  private static final class JobCounter extends SparkListener {
    final AtomicInteger jobs = new AtomicInteger();
    final CountDownLatch marker = new CountDownLatch(1);

    @Override
    public void onJobStart(SparkListenerJobStart start) {
      if (MARKER.equals(start.properties().getProperty("spark.jobGroup.id"))) {
        marker.countDown();
      } else {
        jobs.incrementAndGet();
      }
    }
  }

  /**
   * Runs convert and returns it with the number of Spark jobs it started: a marker job run
   * afterwards is seen by the listener only after every earlier job's start (the bus delivers
   * events in order).
   */
  private CliRunner convertCountingJobs(AtomicInteger jobs) throws Exception {
    JavaSparkContext sc = SharedSpark.context();
    JobCounter counter = new JobCounter();
    sc.sc().addSparkListener(counter);
    try {
      CliRunner r =
          CliRunner.runWithSharedSpark(
              "convert", "--to", "tf2", source, dir.resolve("dst/out").toString());
      sc.setJobGroup(MARKER, "marker", false);
      sc.parallelize(List.of(1), 1).count();
      sc.clearJobGroup();
      assertTrue(counter.marker.await(60, TimeUnit.SECONDS), "the marker job was never seen");
      jobs.set(counter.jobs.get());
      return r;
    } finally {
      sc.sc().removeSparkListener(counter);
    }
  }

  private void assertRefusedInThePlan(String message) throws Exception {
    AtomicInteger jobs = new AtomicInteger(-1);
    CliRunner r = convertCountingJobs(jobs);
    assertEquals(3, r.exitCode(), r.err());
    assertEquals("rebundle: " + message + "\n", r.err());
    assertEquals(0, jobs.get(), "no Spark job may start for a source the plan refuses");
    assertEquals(List.of(), TestCheckpoints.list(dir.resolve("dst")));
  }

  @Test
  void shardBeyondNumShardsExitsThreeBeforeAnyJob() throws Exception {
    corruptEntry("b", e -> entry(e, e.dtypeCode(), 3, e.offset(), e.size()));
    assertRefusedInThePlan(
        "Cannot read tensor b: its entry in "
            + source
            + ".index names shard 3, but the "
            + "checkpoint has 1 shard");
  }

  @Test
  void offsetPastTheEndExitsThreeBeforeAnyJob() throws Exception {
    corruptEntry("b", e -> entry(e, e.dtypeCode(), 0, 40, e.size()));
    assertRefusedInThePlan(
        "Cannot plan tensor b: its 16 bytes at offset 40 of "
            + data
            + " lie past the end of the "
            + "file (32 bytes; the file is truncated or the index is corrupt)");
  }

  @Test
  void unknownDtypeExitsThreeBeforeAnyJob() throws Exception {
    corruptEntry("a", e -> entry(e, 99, 0, e.offset(), e.size()));
    assertRefusedInThePlan(
        "Cannot plan tensor a of "
            + source
            + ".index (data offset 0): dtype code 99 is not a "
            + "TensorFlow dtype");
  }

  @Test
  void sizeThatIsNotDtypeTimesShapeExitsThreeBeforeAnyJob() throws Exception {
    corruptEntry("b", e -> entry(e, e.dtypeCode(), 0, e.offset(), 8));
    assertRefusedInThePlan(
        "Invalid size in bundle entry: key b in "
            + source
            + ".index; stored size 8; expected "
            + "size 16 (int64 [2])");
  }

  @Test
  void aCorruptByteFoundByATaskPrintsAtMostTwoLinesOnStderr() throws Exception {
    TestCheckpoints.flipByte(Path.of(data), 20);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-opens")
          || arg.startsWith("-XX:+IgnoreUnrecognized")
          || arg.startsWith("-Dio.netty")) {
        command.add(arg);
      }
    }
    // The log configuration users get (conf/log4j2.properties), not the tests' own.
    command.add(
        "-Dlog4j2.configurationFile="
            + CliRunner.repo().resolve("conf/log4j2.properties").toAbsolutePath());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of("convert", "--to", "tf2", source, dir.resolve("dst/out").toString()));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(dir.resolve("stderr.txt").toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "convert did not finish");
    List<String> lines =
        Files.readAllLines(dir.resolve("stderr.txt"), StandardCharsets.UTF_8).stream()
            .filter(l -> !l.isBlank())
            .toList();

    assertEquals(3, p.exitValue(), String.join("\n", lines));
    assertTrue(lines.size() <= 2, "stderr:\n" + String.join("\n", lines));
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.startsWith(
                        "rebundle: Checksum mismatch for tensor b in "
                            + data
                            + " (shard 0, offset 16, 16 bytes)")),
        "stderr:\n" + String.join("\n", lines));
  }
}
