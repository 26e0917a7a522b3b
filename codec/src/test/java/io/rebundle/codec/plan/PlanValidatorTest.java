package io.rebundle.codec.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every problem the index alone reveals is found on the driver, naming file, key and offset. */
class PlanValidatorTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String prefix;
  private SourceIndex good;

  @BeforeEach
  void write() {
    prefix = dir.resolve("ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("a", Tensor.of(DType.FLOAT, TensorShape.of(4), new byte[16]));
      w.add("b", Tensor.of(DType.INT64, TensorShape.of(2), new byte[16]));
      w.finish();
    }
    good = PlanFixtures.read(io, prefix);
  }

  /** {@code good} with entry {@code key} replaced. */
  private SourceIndex with(String key, UnaryOperator<BundleEntry> change) {
    List<IndexRecord> records = new ArrayList<>();
    for (IndexRecord r : good.records()) {
      records.add(r.name().equals(key) ? new IndexRecord(r.key(), change.apply(r.entry())) : r);
    }
    return new SourceIndex(good.prefix(), good.numShards(), records, good.graph());
  }

  private static BundleEntry entry(BundleEntry e, int dtype, int shard, long offset, long size) {
    return new BundleEntry(dtype, e.shape(), shard, offset, size, e.crc32c(), List.of());
  }

  private String data() {
    return Naming.dataFile(prefix, 0, 1);
  }

  @Test
  void acceptsAGoodSource() {
    PlanValidator.validate(io, good);
  }

  @Test
  void shardBeyondNumShards() {
    SourceIndex bad = with("b", e -> entry(e, e.dtypeCode(), 3, e.offset(), e.size()));
    RebundleException ex =
        assertThrows(CorruptCheckpointException.class, () -> PlanValidator.validate(io, bad));
    assertEquals(
        "Cannot read tensor b: its entry in "
            + prefix
            + ".index names shard 3, but the checkpoint has 1 shard",
        ex.getMessage());
    assertEquals(prefix + ".index", ((CorruptCheckpointException) ex).location());
    assertEquals("b", ((CorruptCheckpointException) ex).key());
  }

  @Test
  void offsetPastTheEndOfTheDataFile() {
    SourceIndex bad = with("b", e -> entry(e, e.dtypeCode(), 0, 24, e.size()));
    RebundleException ex =
        assertThrows(CorruptCheckpointException.class, () -> PlanValidator.validate(io, bad));
    assertEquals(
        "Cannot plan tensor b: its 16 bytes at offset 24 of "
            + data()
            + " lie past the end of the file "
            + "(32 bytes; the file is truncated or the index is corrupt)",
        ex.getMessage());
  }

  @Test
  void truncatedDataFile() throws Exception {
    try (var ch =
        java.nio.channels.FileChannel.open(
            Path.of(data()), java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(20);
    }
    RebundleException ex =
        assertThrows(CorruptCheckpointException.class, () -> PlanValidator.validate(io, good));
    assertEquals(
        "Cannot plan tensor b: its 16 bytes at offset 16 of "
            + data()
            + " lie past the end of the file "
            + "(20 bytes; the file is truncated or the index is corrupt)",
        ex.getMessage());
  }

  @Test
  void unknownDtype() {
    SourceIndex bad = with("a", e -> entry(e, 99, 0, e.offset(), e.size()));
    RebundleException ex =
        assertThrows(UnsupportedCheckpointException.class, () -> PlanValidator.validate(io, bad));
    assertEquals(
        "Cannot plan tensor a of "
            + prefix
            + ".index (data offset 0): dtype code 99 is not a TensorFlow "
            + "dtype",
        ex.getMessage());
  }

  @Test
  void sizeThatIsNotDtypeTimesShape() {
    SourceIndex bad = with("b", e -> entry(e, e.dtypeCode(), 0, e.offset(), 12));
    RebundleException ex =
        assertThrows(CorruptCheckpointException.class, () -> PlanValidator.validate(io, bad));
    assertEquals(
        "Invalid size in bundle entry: key b in "
            + prefix
            + ".index; stored size 12; expected size 16 "
            + "(int64 [2])",
        ex.getMessage());
  }

  @Test
  void missingDataFile() throws Exception {
    Files.delete(Path.of(data()));
    RebundleException ex =
        assertThrows(CorruptCheckpointException.class, () -> PlanValidator.validate(io, good));
    assertEquals(
        "Cannot read tensor a: data file " + data() + " (shard 0 of 1) is missing",
        ex.getMessage());
  }
}
