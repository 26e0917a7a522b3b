package io.rebundle.codec.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileIOTest {
  private final LocalFileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  private void write(String location, byte[] bytes) throws IOException {
    try (PositionOutputStream out = io.newOutputFile(location).create()) {
      assertEquals(0, out.position());
      out.write(bytes[0]);
      out.write(bytes, 1, bytes.length - 1);
      assertEquals(bytes.length, out.position());
    }
  }

  @Test
  void writesAndReadsAtPositions() throws IOException {
    write(path("sub/dir/f"), new byte[] {1, 2, 3, 4, 5, 6});
    InputFile in = io.newInputFile(path("sub/dir/f"));
    assertTrue(in.exists());
    assertEquals(6, in.length());
    try (RangeReader r = in.open()) {
      assertEquals(path("sub/dir/f"), r.location());
      assertEquals(6, r.length());
      assertArrayEquals(new byte[] {3, 4}, r.readFully(2, 2));
      byte[] buf = new byte[5];
      r.readFully(4, buf, 3, 2);
      assertArrayEquals(new byte[] {0, 0, 0, 5, 6}, buf);
      assertArrayEquals(new byte[0], r.readFully(6, 0));
    }
  }

  @Test
  void rejectsReadsPastTheEnd() throws IOException {
    write(path("f"), new byte[] {1, 2, 3});
    try (RangeReader r = io.newInputFile(path("f")).open()) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> r.readFully(2, 2));
      assertEquals(
          "Cannot read bytes in "
              + path("f")
              + ": bytes [2, 4) lie past the end of the file (3 bytes)",
          e.getMessage());
      assertThrows(CorruptCheckpointException.class, () -> r.readFully(-1, 1));
      assertThrows(CorruptCheckpointException.class, () -> r.readFully(Long.MAX_VALUE, 1));
    }
  }

  @Test
  void reportsMissingFiles() {
    InputFile missing = io.newInputFile(path("nope"));
    assertFalse(missing.exists());
    StorageFileNotFoundException e =
        assertThrows(StorageFileNotFoundException.class, missing::length);
    assertEquals("Cannot find " + path("nope") + ": no such file", e.getMessage());
    assertEquals(path("nope"), e.location());
    e = assertThrows(StorageFileNotFoundException.class, missing::open);
    assertEquals("Cannot find " + path("nope") + ": no such file", e.getMessage());
  }

  @Test
  void createRefusesToReplaceButCreateOrOverwriteReplaces() throws IOException {
    write(path("f"), new byte[] {1, 2, 3});
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> io.newOutputFile(path("f")).create());
    assertEquals("Cannot create " + path("f") + ": it already exists", e.getMessage());
    try (PositionOutputStream out = io.newOutputFile(path("f")).createOrOverwrite()) {
      out.write(9);
    }
    assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("f")));
  }

  @Test
  void listsDirectoriesSorted() throws IOException {
    Files.createDirectories(dir.resolve("d"));
    Files.write(dir.resolve("d/b"), new byte[0]);
    Files.write(dir.resolve("d/a.index"), new byte[0]);
    Files.createDirectories(dir.resolve("d/c"));
    assertEquals(List.of("a.index", "b", "c"), io.list(path("d")));
    assertEquals(List.of(), io.list(path("d/b")));
    assertEquals(List.of(), io.list(path("missing")));
    assertTrue(io.isDirectory(path("d/c")));
    assertFalse(io.isDirectory(path("d/b")));
    assertTrue(io.exists(path("d/c")));
    assertFalse(io.newInputFile(path("d/c")).exists());
  }

  @Test
  void renamesAndDeletes() throws IOException {
    write(path("a"), new byte[] {7, 7});
    io.rename(path("a"), path("b"));
    assertFalse(io.exists(path("a")));
    assertArrayEquals(new byte[] {7, 7}, Files.readAllBytes(dir.resolve("b")));
    assertTrue(io.delete(path("b")));
    assertFalse(io.delete(path("b")));
    io.mkdirs(path("x/y"));
    Files.write(dir.resolve("x/y/z"), new byte[0]);
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> io.delete(path("x/y")));
    assertEquals("Cannot delete " + path("x/y") + ": directory not empty", e.getMessage());
    UncheckedIOException r =
        assertThrows(UncheckedIOException.class, () -> io.rename(path("a"), path("c")));
    assertTrue(
        r.getMessage().startsWith("Cannot rename " + path("a") + " to " + path("c") + ": "),
        r.getMessage());
  }

  @Test
  void renameRefusesToReplaceAnExistingTarget() throws IOException {
    write(path("a"), new byte[] {1});
    write(path("b"), new byte[] {2});
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> io.rename(path("a"), path("b")));
    assertEquals(
        "Cannot rename " + path("a") + " to " + path("b") + ": target exists", e.getMessage());
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(dir.resolve("a")));
    assertArrayEquals(new byte[] {2}, Files.readAllBytes(dir.resolve("b")));
  }

  @Test
  void joinsAndSplitsLocations() {
    assertEquals("/a/b", io.join("/a", "b"));
    assertEquals("/a/b", io.join("/a/", "b"));
    assertEquals("b", io.join("", "b"));
    assertEquals("/a", io.parent("/a/b"));
    assertEquals("/", io.parent("/b"));
    assertEquals("", io.parent("b"));
    assertEquals("b", io.fileName("/a/b"));
    assertEquals("b", io.fileName("/b"));
    assertEquals("b", io.fileName("b"));
    assertTrue(io.isAbsolute("/a"));
    assertTrue(io.isAbsolute("file:/a"));
    assertFalse(io.isAbsolute("a/b"));
  }

  @Test
  void acceptsFileUris() throws IOException {
    write(path("u"), new byte[] {4, 2});
    assertTrue(io.exists("file://" + path("u")));
    assertTrue(io.exists("file:" + path("u")));
    assertEquals(2, io.newInputFile("file://" + path("u")).length());
  }

  @Test
  void isSerializable() throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(io);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      assertTrue(in.readObject() instanceof LocalFileIO);
    }
  }

  @Test
  void countsBytesWritten() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (CountingOutputStream out = new CountingOutputStream(sink)) {
      out.write(new byte[] {1, 2, 3, 4}, 1, 2);
      out.write(5);
      assertEquals(3, out.position());
    }
    assertArrayEquals(new byte[] {2, 3, 5}, sink.toByteArray());
  }

  @Test
  void copiesWholeFilesAndRefusesToReplaceAnExistingTarget() throws IOException {
    byte[] bytes = new byte[5 << 20];
    new java.util.Random(3).nextBytes(bytes);
    Files.write(dir.resolve("a"), bytes);
    Files.write(dir.resolve("taken"), new byte[] {9});

    assertEquals(bytes.length, io.copy(path("a"), path("b")));
    assertArrayEquals(bytes, Files.readAllBytes(dir.resolve("b")));

    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> io.copy(path("a"), path("taken")));
    assertEquals(
        "Cannot copy " + path("a") + " to " + path("taken") + ": target exists", e.getMessage());
    assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("taken")));
    assertThrows(StorageFileNotFoundException.class, () -> io.copy(path("missing"), path("c")));
    assertFalse(Files.exists(dir.resolve("c")));
  }

  @Test
  void theStreamingDefaultCopyMatchesAndLeavesAnExistingTargetAlone() throws IOException {
    // ForwardingFileIO does not forward copy: this one uses FileIO's streaming default.
    FileIO streaming = new ForwardingFileIO(io) {};
    byte[] bytes = new byte[(9 << 20) + 7];
    new java.util.Random(4).nextBytes(bytes);
    Files.write(dir.resolve("a"), bytes);
    Files.write(dir.resolve("taken"), new byte[] {9});

    assertEquals(bytes.length, streaming.copy(path("a"), path("b")));
    assertArrayEquals(bytes, Files.readAllBytes(dir.resolve("b")));
    assertThrows(UncheckedIOException.class, () -> streaming.copy(path("a"), path("taken")));
    assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("taken")));
  }

  @Test
  void hardLinksShareTheFileAndRefuseAnExistingTarget() throws IOException {
    Files.write(dir.resolve("a"), new byte[] {1, 2, 3});
    Files.write(dir.resolve("taken"), new byte[] {9});

    io.link(path("a"), path("b"));

    assertEquals(
        Files.getAttribute(dir.resolve("a"), "unix:ino"),
        Files.getAttribute(dir.resolve("b"), "unix:ino"));
    assertEquals(2, Files.getAttribute(dir.resolve("a"), "unix:nlink"));
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> io.link(path("a"), path("taken")));
    assertEquals(
        "Cannot link " + path("taken") + " to " + path("a") + ": target exists", e.getMessage());
    assertThrows(StorageFileNotFoundException.class, () -> io.link(path("missing"), path("c")));
  }
}
