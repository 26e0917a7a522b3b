package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.Naming;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Damage made inside the test to a TensorFlow-written checkpoint: TensorFlow refuses it, and so
 * does Rebundle, with its own message naming the file, key and offset.
 */
class CorruptionIT extends OracleTestBase {

  private String prefix;

  @BeforeEach
  void writeCheckpoint() {
    prefix = dir.resolve("ckpt").toString();
    tf.save(
        prefix,
        List.of(
            OracleTensor.of(
                "a",
                1,
                new long[] {4},
                new byte[] {
                  0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, (byte) 0x80, 0x40
                }),
            OracleTensor.of("b", 9, new long[0], new byte[] {7, 0, 0, 0, 0, 0, 0, 0})));
  }

  private Path index() {
    return Path.of(Naming.indexFile(prefix));
  }

  private Path data() {
    return Path.of(Naming.dataFile(prefix, 0, 1));
  }

  private static void flip(Path file, long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0x01);
    }
  }

  private static void truncate(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  private RebundleException rebundleReadsEverything() {
    return assertThrows(
        RebundleException.class,
        () -> {
          try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
            r.read("a");
            r.read("b");
          }
        });
  }

  private String tensorFlowFails(String key, int dtype) {
    return assertThrows(TfOracle.TfOracleException.class, () -> tf.restore(prefix, key, dtype))
        .getMessage();
  }

  @Test
  void detectsAFlippedByteInTensorData() throws IOException {
    flip(data(), 5);
    assertTrue(tensorFlowFails("a", 1).contains("Checksum does not match"));
    RebundleException e = rebundleReadsEverything();
    assertEquals(CorruptCheckpointException.class, e.getClass());
    assertTrue(
        e.getMessage()
            .startsWith(
                "Checksum mismatch for tensor a in "
                    + data()
                    + " (shard 0, offset 0, 16 bytes): stored "),
        e.getMessage());
  }

  @Test
  void detectsAFlippedByteInTheIndexDataBlock() throws IOException {
    flip(index(), 12);
    assertTrue(tensorFlowFails("a", 1).contains("block checksum mismatch"));
    RebundleException e = rebundleReadsEverything();
    assertEquals(CorruptCheckpointException.class, e.getClass());
    assertTrue(
        e.getMessage()
            .startsWith("Checksum mismatch for data block in " + index() + " (offset 0, "),
        e.getMessage());
  }

  @Test
  void detectsAFlippedByteInTheIndexBlock() throws IOException {
    long length = Files.size(index());
    // The index block ends 5 (trailer) + 48 (footer) bytes before the end; flip its last byte.
    flip(index(), length - 48 - 5 - 1);
    assertTrue(tensorFlowFails("a", 1).contains("block checksum mismatch"));
    RebundleException e = rebundleReadsEverything();
    assertTrue(
        e.getMessage().startsWith("Checksum mismatch for index block in " + index()),
        e.getMessage());
  }

  @Test
  void detectsABadMagicNumber() throws IOException {
    flip(index(), Files.size(index()) - 1);
    assertTrue(tensorFlowFails("a", 1).contains("bad magic number"));
    RebundleException e = rebundleReadsEverything();
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot read table "
                    + index()
                    + " at offset "
                    + (Files.size(index()) - 8)
                    + ": not an sstable (bad magic number)"),
        e.getMessage());
  }

  @Test
  void detectsATruncatedIndex() throws IOException {
    truncate(index(), 20);
    tensorFlowFails("a", 1);
    RebundleException e = rebundleReadsEverything();
    assertEquals(
        "Cannot read table " + index() + ": unexpected end of file: 20 bytes, need at least 48",
        e.getMessage());
  }

  @Test
  void detectsATruncatedDataFile() throws IOException {
    truncate(data(), 10);
    tensorFlowFails("a", 1);
    RebundleException e = rebundleReadsEverything();
    assertEquals(CorruptCheckpointException.class, e.getClass());
    assertEquals(
        "Cannot read tensor a in "
            + data()
            + ": bytes [0, 16) lie past the end of the file (10 bytes)",
        e.getMessage());
  }

  @Test
  void detectsAMissingDataShard() throws IOException {
    Files.delete(data());
    tensorFlowFails("a", 1);
    RebundleException e = rebundleReadsEverything();
    // Corrupt (exit 3), not "not found": the checkpoint exists, one of its files does not.
    assertEquals(CorruptCheckpointException.class, e.getClass());
    assertEquals(
        "Cannot read tensor a: data file " + data() + " (shard 0 of 1) is missing", e.getMessage());
  }

  @Test
  void detectsAMissingIndex() throws IOException {
    Files.delete(index());
    assertTrue(tensorFlowFails("a", 1).contains("Failed to find any matching files"));
    RebundleException e = rebundleReadsEverything();
    assertEquals(CheckpointNotFoundException.class, e.getClass());
    assertTrue(
        e.getMessage()
            .startsWith("Cannot find checkpoint " + prefix + ": no " + index() + " found"),
        e.getMessage());
  }
}
