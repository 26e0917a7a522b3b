package io.rebundle.jobs.convert;

import static io.rebundle.jobs.TestCheckpoints.crcOf;
import static io.rebundle.jobs.TestCheckpoints.hex;
import static io.rebundle.jobs.TestCheckpoints.list;
import static io.rebundle.jobs.TestCheckpoints.snapshot;
import static io.rebundle.jobs.TestCheckpoints.unmask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.ForwardingFileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged sources fail the job with the reader's own exception, and leave the destination exactly
 * as it was: no index, no data files, no staging directory; the source is never touched.
 */
class ConvertFailureIT {
  private static final FileIO IO = new LocalFileIO();

  @TempDir Path dir;
  private String source;
  private Path destination;

  @BeforeEach
  void generateSource() throws Exception {
    source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 11);
    destination = dir.resolve("dst/out");
    Files.createDirectories(destination.getParent());
  }

  private ConvertJob.Result convert(int shards) {
    return convert(IO, shards);
  }

  private ConvertJob.Result convert(FileIO io, int shards) {
    ConvertJob.Options o =
        new ConvertJob.Options(
            source,
            destination.toString(),
            MigrationSpec.to(CheckpointFormat.TF2),
            shards,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            false,
            true);
    return ConvertJob.run(SharedSpark.context(), io, o, new PrintWriter(new StringWriter(), true));
  }

  /**
   * Local storage counting every open of a data file: a plan refused on the driver opens none, so
   * no task (and no Spark job, which would have to read them) ran.
   */
  static final class DataReadCountingFileIO extends ForwardingFileIO {
    private static final long serialVersionUID = 1L;
    static final AtomicInteger dataOpens = new AtomicInteger();

    DataReadCountingFileIO() {
      super(new LocalFileIO());
    }

    @Override
    public InputFile newInputFile(String location) {
      InputFile f = super.newInputFile(location);
      return new InputFile() {
        @Override
        public String location() {
          return f.location();
        }

        @Override
        public long length() {
          return f.length();
        }

        @Override
        public boolean exists() {
          return f.exists();
        }

        @Override
        public io.rebundle.codec.io.RangeReader open() {
          if (location.contains(".data-")) {
            dataOpens.incrementAndGet();
          }
          return f.open();
        }
      };
    }
  }

  /** The name in a "Cannot plan tensor NAME: ..." or "Cannot read tensor NAME: ..." message. */
  private static String plannedKey(String message) {
    Matcher m = Pattern.compile("^Cannot (?:plan|read) tensor (.+?): ").matcher(message);
    assertTrue(m.find(), message);
    return m.group(1);
  }

  private static BundleEntry entry(String prefix, String key) {
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, prefix)) {
      return r.entry(key);
    }
  }

  private String dataFile(int shard) {
    return source + String.format(".data-%05d-of-00002", shard);
  }

  @Test
  void flippedByteFailsTheJobAndLeavesNothingBehind() throws Exception {
    String key = "layer_05/kernel";
    BundleEntry e = entry(source, key);
    Path data = Path.of(dataFile(e.shardId()));
    byte[] bytes = Files.readAllBytes(data);
    bytes[(int) e.offset() + 1000] ^= 0x20;
    Files.write(data, bytes);
    byte[] corrupted = Arrays.copyOfRange(bytes, (int) e.offset(), (int) (e.offset() + e.size()));
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));

    CorruptCheckpointException ex =
        assertThrows(CorruptCheckpointException.class, () -> convert(4));

    assertEquals(
        String.format(
            "Checksum mismatch for tensor %s in %s (shard %d, offset %d, %d bytes): stored %s, "
                + "computed %s",
            key,
            data,
            e.shardId(),
            e.offset(),
            e.size(),
            hex(unmask(e.crc32c())),
            hex(crcOf(e.dtype(), e.shape().numElements(), corrupted))),
        ex.getMessage());
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void missingSourceShardFailsThePlanBeforeAnyDataIsRead() throws Exception {
    Files.delete(Path.of(dataFile(1)));
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    DataReadCountingFileIO.dataOpens.set(0);

    CorruptCheckpointException ex =
        assertThrows(
            CorruptCheckpointException.class, () -> convert(new DataReadCountingFileIO(), 1));

    String key = plannedKey(ex.getMessage());
    assertEquals(
        1,
        records().stream()
            .filter(r -> r.name().equals(key))
            .findFirst()
            .orElseThrow()
            .entry()
            .shardId());
    assertEquals(
        "Cannot read tensor " + key + ": data file " + dataFile(1) + " (shard 1 of 2) is missing",
        ex.getMessage());
    assertEquals(0, DataReadCountingFileIO.dataOpens.get(), "no task may start");
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void truncatedSourceShardFailsThePlanBeforeAnyDataIsRead() throws Exception {
    long keep = Files.size(Path.of(dataFile(0))) / 2;
    try (FileChannel ch = FileChannel.open(Path.of(dataFile(0)), StandardOpenOption.WRITE)) {
      ch.truncate(keep);
    }
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));

    DataReadCountingFileIO.dataOpens.set(0);

    CorruptCheckpointException ex =
        assertThrows(
            CorruptCheckpointException.class, () -> convert(new DataReadCountingFileIO(), 1));

    String key = plannedKey(ex.getMessage());
    IndexRecord past =
        records().stream().filter(r -> r.name().equals(key)).findFirst().orElseThrow();
    assertEquals(0, past.entry().shardId());
    assertTrue(past.entry().offset() + past.entry().size() > keep, key + " lies inside the file");
    assertEquals(
        String.format(
            "Cannot plan tensor %s: its %d bytes at offset %d of %s lie past the end of the file "
                + "(%d bytes; the file is truncated or the index is corrupt)",
            key, past.entry().size(), past.entry().offset(), dataFile(0), keep),
        ex.getMessage());
    assertEquals(0, DataReadCountingFileIO.dataOpens.get(), "no task may start");
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void taskStillRunningWhenAnotherFailsLeavesNothingBehind() throws Exception {
    String example = TestCheckpoints.copyTf1Example(dir.resolve("example"));
    SlowCreateFileIO.created.set(0);
    SlowCreateFileIO.jobEnded = new CountDownLatch(1);
    JavaSparkContext sc = SharedSpark.context();
    SparkListener jobEnd =
        new SparkListener() {
          @Override
          public void onJobEnd(SparkListenerJobEnd end) {
            SlowCreateFileIO.jobEnded.countDown();
          }
        };
    sc.sc().addSparkListener(jobEnd);
    FileIO slow = new SlowCreateFileIO("shard-00000", "shard-00001");
    ConvertJob.Options o =
        new ConvertJob.Options(
            example,
            destination.toString(),
            MigrationSpec.to(CheckpointFormat.TF2),
            2,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            false,
            true);

    // Shard 1 fails at once (storage refuses its file); shard 0 creates its file only once the job
    // has
    // failed, and would recreate the staging directory (as HDFS and object stores do) after the
    // cleanup.
    try {
      java.io.UncheckedIOException e =
          assertThrows(
              java.io.UncheckedIOException.class,
              () -> ConvertJob.run(sc, slow, o, new PrintWriter(new StringWriter(), true)));
      assertTrue(e.getMessage().startsWith("Cannot create "), e.getMessage());
    } finally {
      sc.sc().removeSparkListener(jobEnd);
    }

    assertEquals(
        1, SlowCreateFileIO.created.get(), "the job returned before its slow task had ended");
    assertEquals(List.of(), list(destination.getParent()));
  }

  /**
   * Local storage with two habits of HDFS and object stores: {@code create} makes missing parent
   * directories, and the create of a chosen file is slow (here: it waits until the job has failed)
   * and deaf to interrupts. Creating the file named {@code failName} fails as storage would. Tasks
   * run in this JVM ({@code local[2]}), so the static latch and counter are shared with the driver.
   */
  static final class SlowCreateFileIO extends ForwardingFileIO {
    private static final long serialVersionUID = 1L;
    static final AtomicInteger created = new AtomicInteger();
    static volatile CountDownLatch jobEnded = new CountDownLatch(1);

    private final LocalFileIO local = new LocalFileIO();
    private final String slowName;
    private final String failName;

    SlowCreateFileIO(String slowName, String failName) {
      super(new LocalFileIO());
      this.slowName = slowName;
      this.failName = failName;
    }

    @Override
    public OutputFile newOutputFile(String location) {
      OutputFile target = local.newOutputFile(location);
      return new OutputFile() {
        @Override
        public String location() {
          return location;
        }

        @Override
        public PositionOutputStream create() {
          if (location.contains(failName)) {
            throw new java.io.UncheckedIOException(
                "Cannot create " + location + ": storage refused it",
                new java.io.IOException("refused"));
          }
          if (location.contains(slowName)) {
            boolean waited = false;
            while (!waited) {
              try {
                // Bounded, so a broken test fails on its assertions instead of hanging.
                jobEnded.await(120, java.util.concurrent.TimeUnit.SECONDS);
                waited = true;
              } catch (InterruptedException ignored) {
                // Deaf to Spark's kill, as some storage clients are.
              }
            }
            created.incrementAndGet();
          }
          local.mkdirs(local.parent(location));
          return target.create();
        }

        @Override
        public PositionOutputStream createOrOverwrite() {
          local.mkdirs(local.parent(location));
          return target.createOrOverwrite();
        }
      };
    }
  }

  private List<IndexRecord> records() {
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, source)) {
      return StreamSupport.stream(r.records().spliterator(), false).toList();
    }
  }
}
