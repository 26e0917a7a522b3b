package io.rebundle.jobs.convert;

import static io.rebundle.jobs.TestCheckpoints.crcOf;
import static io.rebundle.jobs.TestCheckpoints.hex;
import static io.rebundle.jobs.TestCheckpoints.list;
import static io.rebundle.jobs.TestCheckpoints.snapshot;
import static io.rebundle.jobs.TestCheckpoints.unmask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.Scheduler;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged sources fail the job with the reader's own exception, and leave the destination exactly as
 * it was: no index, no data files, no staging directory; the source is never touched.
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
    ConvertJob.Options o = new ConvertJob.Options(source, destination.toString(), MigrationSpec.to(CheckpointFormat.TF2),
        shards, Scheduler.DEFAULT_SHARD_SIZE, false, false, true);
    return ConvertJob.run(SharedSpark.context(), IO, o, new PrintWriter(new StringWriter(), true));
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

    CorruptCheckpointException ex = assertThrows(CorruptCheckpointException.class, () -> convert(4));

    assertEquals(String.format("Checksum mismatch for tensor %s in %s (shard %d, offset %d, %d bytes): stored %s, "
        + "computed %s", key, data, e.shardId(), e.offset(), e.size(), hex(unmask(e.crc32c())),
        hex(crcOf(e.dtype(), e.shape().numElements(), corrupted))), ex.getMessage());
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void missingSourceShardFailsTheJobAndLeavesNothingBehind() throws Exception {
    Files.delete(Path.of(dataFile(1)));
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    // One output shard: its task copies in source order, so the first tensor of source shard 1 fails.
    String first = firstInShard(1);

    // A missing data file of an existing checkpoint is corruption (exit 3).
    io.rebundle.codec.CorruptCheckpointException ex =
        assertThrows(io.rebundle.codec.CorruptCheckpointException.class, () -> convert(1));

    assertEquals("Cannot read tensor " + first + ": data file " + dataFile(1) + " (shard 1 of 2) is missing",
        ex.getMessage());
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void truncatedSourceShardFailsTheJobAndLeavesNothingBehind() throws Exception {
    long keep = Files.size(Path.of(dataFile(0))) / 2;
    try (FileChannel ch = FileChannel.open(Path.of(dataFile(0)), StandardOpenOption.WRITE)) {
      ch.truncate(keep);
    }
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    IndexRecord cut = records().stream().filter(r -> r.entry().shardId() == 0)
        .filter(r -> r.entry().offset() + r.entry().size() > keep)
        .min(Comparator.comparingLong(r -> r.entry().offset())).orElseThrow();

    CorruptCheckpointException ex = assertThrows(CorruptCheckpointException.class, () -> convert(1));

    assertEquals(String.format("Cannot read tensor %s in %s: bytes [%d, %d) lie past the end of the file (%d bytes)",
        cut.name(), dataFile(0), cut.entry().offset(), cut.entry().offset() + cut.entry().size(), keep),
        ex.getMessage());
    assertEquals(List.of(), list(destination.getParent()));
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void taskStillRunningWhenAnotherFailsLeavesNothingBehind() throws Exception {
    String example = TestCheckpoints.copyTf1Example(dir.resolve("example"));
    Path data = Path.of(example + ".data-00000-of-00001");
    for (long offset : new long[] {1, 5, 9}) {
      TestCheckpoints.flipByte(data, offset);
    }
    SlowCreateFileIO.created.set(0);
    FileIO slow = new SlowCreateFileIO("shard-00000", 500);
    ConvertJob.Options o = new ConvertJob.Options(example, destination.toString(), MigrationSpec.to(CheckpointFormat.TF2),
        2, Scheduler.DEFAULT_SHARD_SIZE, false, false, true);

    // Shard 1 (the variables) fails at once; shard 0 (the object graph) is still creating its file, and
    // would recreate the staging directory (as HDFS and object stores do) after the cleanup.
    assertThrows(CorruptCheckpointException.class,
        () -> ConvertJob.run(SharedSpark.context(), slow, o, new PrintWriter(new StringWriter(), true)));

    assertEquals(1, SlowCreateFileIO.created.get(), "the job returned before its slow task had ended");
    assertEquals(List.of(), list(destination.getParent()));
  }

  /**
   * Local storage with two habits of HDFS and object stores: {@code create} makes missing parent
   * directories, and the create of a chosen file is slow and deaf to interrupts. Tasks run in this
   * JVM ({@code local[2]}), so the static counter sees their calls.
   */
  static final class SlowCreateFileIO extends ForwardingFileIO {
    private static final long serialVersionUID = 1L;
    static final AtomicInteger created = new AtomicInteger();

    private final LocalFileIO local = new LocalFileIO();
    private final String slowName;
    private final long delayMillis;

    SlowCreateFileIO(String slowName, long delayMillis) {
      super(new LocalFileIO());
      this.slowName = slowName;
      this.delayMillis = delayMillis;
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
          if (location.contains(slowName)) {
            long end = System.nanoTime() + delayMillis * 1_000_000;
            for (long left = delayMillis; left > 0; left = (end - System.nanoTime()) / 1_000_000) {
              try {
                Thread.sleep(left);
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

  private String firstInShard(int shard) {
    // The scheduler orders a task's tensors by source offset, larger first where offsets tie (an empty tensor).
    return records().stream().filter(r -> r.entry().shardId() == shard)
        .min(Comparator.<IndexRecord>comparingLong(r -> r.entry().offset())
            .thenComparing(r -> -r.entry().size())).orElseThrow().name();
  }
}
