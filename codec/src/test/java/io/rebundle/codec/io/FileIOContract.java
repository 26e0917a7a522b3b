package io.rebundle.codec.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link FileIO} must do, as one abstract test: local disk, Hadoop's local file system,
 * HDFS and object stores each extend it with a storage and a fresh directory per test. Shipped in
 * codec's test-jar.
 */
public abstract class FileIOContract {
  private FileIO io;
  private String dir;

  /** The storage under test. */
  protected abstract FileIO storage();

  /** A directory location, unique to the calling test, that does not exist yet or is empty. */
  protected abstract String freshDirectory();

  /** Whether this storage's rename is atomic. */
  protected abstract boolean expectsAtomicRename();

  @BeforeEach
  void setUpStorage() {
    io = storage();
    dir = freshDirectory();
  }

  protected String at(String name) {
    return io.join(dir, name);
  }

  protected static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  protected void write(String location, byte[] data) {
    try (PositionOutputStream out = io.newOutputFile(location).create()) {
      assertEquals(0, out.position());
      if (data.length > 0) {
        out.write(data[0]);
        out.write(data, 1, data.length - 1);
      }
      assertEquals(data.length, out.position());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  protected byte[] read(String location) {
    try (RangeReader r = io.newInputFile(location).open()) {
      return r.readFully(0, Math.toIntExact(r.length()));
    }
  }

  @Test
  void writesAndReadsAtPositions() {
    byte[] data = bytes(100_000, 1);
    write(at("sub/f"), data);
    InputFile in = io.newInputFile(at("sub/f"));
    assertTrue(in.exists());
    assertEquals(data.length, in.length());
    try (RangeReader r = in.open()) {
      assertEquals(data.length, r.length());
      assertArrayEquals(
          java.util.Arrays.copyOfRange(data, 70_000, 70_010), r.readFully(70_000, 10));
      byte[] buf = new byte[8];
      r.readFully(5, buf, 3, 5);
      assertArrayEquals(new byte[] {0, 0, 0, data[5], data[6], data[7], data[8], data[9]}, buf);
      ByteBuffer direct = ByteBuffer.allocateDirect(1000);
      r.readFully(99_000, direct);
      assertEquals(0, direct.remaining());
      direct.flip();
      byte[] got = new byte[1000];
      direct.get(got);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 99_000, 100_000), got);
      assertArrayEquals(new byte[0], r.readFully(data.length, 0));
    }
  }

  @Test
  void rejectsReadsPastTheEnd() {
    write(at("f"), new byte[] {1, 2, 3});
    try (RangeReader r = io.newInputFile(at("f")).open()) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.readFully(2, 2));
      assertEquals(
          "Cannot read bytes in "
              + r.location()
              + ": bytes [2, 4) lie past the end of the file (3 bytes)",
          e.getMessage());
      assertThrows(CorruptCheckpointException.class, () -> r.readFully(-1, 1));
      assertThrows(CorruptCheckpointException.class, () -> r.readFully(Long.MAX_VALUE, 1));
    }
  }

  @Test
  void reportsMissingFilesByName() {
    InputFile missing = io.newInputFile(at("nope"));
    assertFalse(missing.exists());
    assertFalse(io.exists(at("nope")));
    StorageFileNotFoundException e =
        assertThrows(StorageFileNotFoundException.class, missing::length);
    assertEquals("Cannot find " + at("nope") + ": no such file", e.getMessage());
    e = assertThrows(StorageFileNotFoundException.class, missing::open);
    assertTrue(e.getMessage().contains(at("nope")), e.getMessage());
  }

  @Test
  void createRefusesToReplaceButCreateOrOverwriteReplaces() throws IOException {
    write(at("f"), new byte[] {1, 2, 3});
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> io.newOutputFile(at("f")).create().close());
    assertTrue(e.getMessage().startsWith("Cannot create " + at("f")), e.getMessage());
    assertArrayEquals(new byte[] {1, 2, 3}, read(at("f")));
    try (PositionOutputStream out = io.newOutputFile(at("f")).createOrOverwrite()) {
      out.write(new byte[] {9});
    }
    assertArrayEquals(new byte[] {9}, read(at("f")));
  }

  @Test
  void listsNamesSortedAndTellsDirectoriesFromFiles() {
    write(at("d/b"), new byte[] {1});
    write(at("d/a"), new byte[] {2});
    write(at("d/c/x"), new byte[] {3});
    assertEquals(List.of("a", "b", "c"), io.list(at("d")));
    assertTrue(io.isDirectory(at("d")));
    assertTrue(io.isDirectory(at("d/c")));
    assertFalse(io.isDirectory(at("d/a")));
    assertFalse(io.isDirectory(at("missing")));
    assertEquals(List.of(), io.list(at("missing")));
    assertEquals(List.of(), io.list(at("d/a")));
  }

  @Test
  void renamesAndRefusesToReplace() {
    write(at("a"), new byte[] {1});
    write(at("b"), new byte[] {2});
    assertThrows(UncheckedIOException.class, () -> io.rename(at("a"), at("b")));
    assertArrayEquals(new byte[] {2}, read(at("b")));
    io.rename(at("a"), at("c"));
    assertFalse(io.exists(at("a")));
    assertArrayEquals(new byte[] {1}, read(at("c")));
    assertEquals(expectsAtomicRename(), io.renameIsAtomic(at("c")));
  }

  @Test
  void deletesFilesAndSaysWhenNothingWasThere() {
    write(at("a"), new byte[] {1});
    assertTrue(io.delete(at("a")));
    assertFalse(io.exists(at("a")));
    assertFalse(io.delete(at("a")));
  }

  @Test
  void copiesWholeFilesAndRefusesToReplace() {
    byte[] data = bytes(300_000, 2);
    write(at("src"), data);
    assertEquals(data.length, io.copy(at("src"), at("dst")));
    assertArrayEquals(data, read(at("dst")));
    write(at("other"), new byte[] {7});
    assertThrows(UncheckedIOException.class, () -> io.copy(at("src"), at("other")));
    assertArrayEquals(new byte[] {7}, read(at("other")));
  }

  @Test
  void discardingAFailedWriteLeavesNothing() throws IOException {
    PositionOutputStream out = io.newOutputFile(at("partial")).create();
    out.write(bytes(10_000, 3));
    io.discard(out, at("partial"));
    assertFalse(io.exists(at("partial")));
  }

  @Test
  void readsBatchesOfRanges() {
    byte[] data = bytes(50_000, 4);
    write(at("f"), data);
    List<ByteRange> ranges =
        List.of(new ByteRange(10, 100), new ByteRange(40_000, 5000), new ByteRange(200, 0));
    ByteBuffer[] dsts = {
      ByteBuffer.allocate(100), ByteBuffer.allocate(5000), ByteBuffer.allocate(0)
    };
    try (RangeReader r = io.newInputFile(at("f")).open()) {
      r.readRanges(ranges, dsts);
    }
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, 110), dsts[0].array());
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 40_000, 45_000), dsts[1].array());
  }

  @Test
  void coalescedReadsReturnTheSameBytes() {
    byte[] data = bytes(200_000, 5);
    write(at("f"), data);
    try (CoalescingRangeReader r =
        new CoalescingRangeReader(io.newInputFile(at("f")).open(), 64 << 10, 1024)) {
      r.expect(
          List.of(
              new ByteRange(0, 1000),
              new ByteRange(1500, 1000),
              new ByteRange(100_000, 90_000),
              new ByteRange(195_000, 5000)));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 1000), r.readFully(0, 1000));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 1500, 2500), r.readFully(1500, 1000));
      assertArrayEquals(
          java.util.Arrays.copyOfRange(data, 100_000, 190_000), r.readFully(100_000, 90_000));
      assertArrayEquals(
          java.util.Arrays.copyOfRange(data, 195_000, 200_000), r.readFully(195_000, 5000));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 50, 60), r.readFully(50, 10));
    }
  }

  @Test
  void locationsKeepTheirSyntax() {
    assertEquals(dir, io.parent(at("f")));
    assertEquals("f", io.fileName(at("f")));
    assertTrue(io.isAbsolute(at("f")));
  }

  @Test
  void survivesSerialization() throws Exception {
    write(at("f"), new byte[] {4, 5, 6});
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(io);
    }
    FileIO copy;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (FileIO) in.readObject();
    }
    try (RangeReader r = copy.newInputFile(at("f")).open()) {
      assertArrayEquals(new byte[] {4, 5, 6}, r.readFully(0, 3));
    }
  }
}
