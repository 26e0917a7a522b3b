package io.rebundle.codec.migrate;

import static io.rebundle.codec.plan.PlanFixtures.VALUE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.LinkNotPossibleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.io.CountingFileIO;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.RecordingFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LocalMigration} with reused source data files: hard links, whole-file copies, the commit
 * protocol.
 */
class LocalMigrationReuseTest {
  private final LocalFileIO io = new LocalFileIO();

  @TempDir Path dir;

  /**
   * A TF1 checkpoint of twelve random float32 tensors over {@code shards} data files; returns
   * values by key.
   */
  private static Map<String, Tensor> writeTf1(FileIO io, String prefix, int shards) {
    Random random = new Random(11);
    Map<String, Tensor> values = new TreeMap<>();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, shards, false)) {
      for (int i = 0; i < 12; i++) {
        byte[] b = new byte[(i + 1) * 40];
        random.nextBytes(b);
        Tensor t = Tensor.of(DType.FLOAT, TensorShape.of(i + 1, 10), b);
        String key = "scope_" + i % 2 + "/w" + i;
        w.add(i % shards, key, t);
        values.put(key, t);
      }
      w.finish();
    }
    return values;
  }

  private static Object inode(Path p) throws IOException {
    return Files.getAttribute(p, "unix:ino");
  }

  private static Path data(String prefix, int shard, int shards) {
    return Path.of(prefix + String.format(".data-%05d-of-%05d", shard, shards));
  }

  private static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Map<String, String> snapshot(Path d) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        try {
          m.put(
              d.relativize(p).toString(),
              HexFormat.of()
                  .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        } catch (java.security.NoSuchAlgorithmException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return m;
  }

  private static void assertRestoresUnderTf2Keys(
      FileIO io, String out, Map<String, Tensor> values) {
    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      for (Map.Entry<String, Tensor> e : values.entrySet()) {
        assertEquals(
            e.getValue(), r.read("vars/" + KeyEscaping.escape(e.getKey()) + VALUE), e.getKey());
      }
      assertEquals(List.of(1, 0, 0, 0, 0, 0, 0, 0), toList(r.read("save_counter" + VALUE).data()));
    }
  }

  private static List<Integer> toList(byte[] b) {
    return java.util.stream.IntStream.range(0, b.length).mapToObj(i -> (int) b[i]).toList();
  }

  private LocalMigration.Result convert(
      FileIO io, String src, String out, FileReuse.Policy policy) {
    return LocalMigration.run(
        io,
        src,
        out,
        MigrationSpec.to(CheckpointFormat.TF2),
        MappingRules.none(),
        0,
        false,
        policy);
  }

  @Test
  void linkMakesEveryReusedDataFileASecondNameOfItsSource() throws IOException {
    String src = dir.resolve("src/model.ckpt-5").toString();
    Map<String, Tensor> values = writeTf1(io, src, 3);
    Map<String, String> before = snapshot(dir.resolve("src"));
    String out = dir.resolve("out/ckpt-1").toString();

    LocalMigration.Result r = convert(io, src, out, FileReuse.Policy.of(FileReuse.Mode.LINK));

    assertEquals(FileReuse.Mode.LINK, r.layout().mode());
    assertEquals(
        List.of(
            "checkpoint",
            "ckpt-1.data-00000-of-00004",
            "ckpt-1.data-00001-of-00004",
            "ckpt-1.data-00002-of-00004",
            "ckpt-1.data-00003-of-00004",
            "ckpt-1.index"),
        list(dir.resolve("out")));
    for (int s = 0; s < 3; s++) {
      assertEquals(inode(data(src, s, 3)), inode(data(out, s, 4)), "shard " + s);
    }
    assertNotEquals(inode(data(src, 0, 3)), inode(data(out, 3, 4)));
    assertTrue(
        CheckpointVerifier.verify(io, out, null).ok(),
        CheckpointVerifier.verify(io, out, null).toString());
    assertRestoresUnderTf2Keys(io, out, values);
    // Entries of linked files point into the shard that holds their bytes.
    try (CheckpointReader in = CheckpointReader.open(io, src);
        CheckpointReader o = CheckpointReader.open(io, out)) {
      for (IndexRecord rec : in.records()) {
        BundleEntry e = o.entry("vars/" + KeyEscaping.escape(rec.name()) + VALUE);
        assertEquals(rec.entry(), e, rec.name());
      }
    }
    assertEquals(before, snapshot(dir.resolve("src")));
  }

  @Test
  void copyWritesIdenticalBytesIntoNewFiles() throws IOException {
    String src = dir.resolve("src/model").toString();
    Map<String, Tensor> values = writeTf1(io, src, 2);
    String out = dir.resolve("out/model").toString();

    LocalMigration.Result r = convert(io, src, out, FileReuse.Policy.of(FileReuse.Mode.COPY));

    assertEquals(FileReuse.Mode.COPY, r.layout().mode());
    assertEquals(3, r.layout().numShards());
    for (int s = 0; s < 2; s++) {
      assertNotEquals(inode(data(src, s, 2)), inode(data(out, s, 3)));
      assertEquals(-1, Files.mismatch(data(src, s, 2), data(out, s, 3)));
    }
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
    assertRestoresUnderTf2Keys(io, out, values);
  }

  @Test
  void reusedFilesAreStagedRenamedIntoPlaceAndTheIndexWrittenLast() {
    String src = dir.resolve("model").toString();
    writeTf1(io, src, 2);
    RecordingFileIO recording = new RecordingFileIO(dir.toString());

    LocalMigration.run(
        recording,
        src,
        dir.resolve("out").toString(),
        MigrationSpec.to(CheckpointFormat.TF2),
        MappingRules.none(),
        0,
        false,
        FileReuse.Policy.of(FileReuse.Mode.COPY));

    List<String> log =
        recording.log.stream()
            .map(
                l ->
                    l.replaceAll("staging-out-[0-9a-f]{8}", "staging-out-*")
                        .replaceAll("checkpoint\\.tmp\\d+", "checkpoint.tmp*"))
            .toList();
    String staging = ".rebundle-staging-out-*";
    assertEquals(
        List.of(
            "mkdirs " + staging,
            "create " + staging + "/owner.tmp",
            "close " + staging + "/owner.tmp",
            "replace " + staging + "/owner.tmp -> " + staging + "/owner",
            "create " + staging + "/shard-00000-attempt-local",
            "close " + staging + "/shard-00000-attempt-local",
            "create " + staging + "/shard-00001-attempt-local",
            "close " + staging + "/shard-00001-attempt-local",
            "create " + staging + "/shard-00002-attempt-local",
            "close " + staging + "/shard-00002-attempt-local",
            "create " + staging + "/index",
            "close " + staging + "/index",
            "create " + staging + "/journal.tmp",
            "close " + staging + "/journal.tmp",
            "replace " + staging + "/journal.tmp -> " + staging + "/journal",
            "rename " + staging + "/shard-00000-attempt-local -> out.data-00000-of-00003",
            "rename " + staging + "/shard-00001-attempt-local -> out.data-00001-of-00003",
            "rename " + staging + "/shard-00002-attempt-local -> out.data-00002-of-00003",
            "rename " + staging + "/index -> out.index",
            "create " + staging + "/checkpoint.tmp",
            "close " + staging + "/checkpoint.tmp",
            "replace " + staging + "/checkpoint.tmp -> checkpoint",
            "delete " + staging + "/journal",
            "delete " + staging + "/owner",
            "delete " + staging),
        log);
  }

  @Test
  void linkOnStorageWithoutHardLinksIsRefusedBeforeAnythingIsWritten() throws IOException {
    String src = dir.resolve("src/model").toString();
    writeTf1(io, src, 2);
    RecordingFileIO recording = new RecordingFileIO(dir.toString());

    LinkNotPossibleException e =
        assertThrows(
            LinkNotPossibleException.class,
            () ->
                convert(
                    recording,
                    src,
                    dir.resolve("out/model").toString(),
                    FileReuse.Policy.of(FileReuse.Mode.LINK)));

    assertEquals(
        "Cannot hard-link "
            + dir.resolve("out/model")
            + ": hard links need a local disk, and this storage "
            + "(RecordingFileIO) has none; copy the files instead",
        e.getMessage());
    assertEquals(List.of(), recording.log);
    assertEquals(List.of("src"), list(dir));
  }

  @Test
  void linkAcrossFileSystemsFailsNamingTheFileAndLeavesNothing() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no /dev/shm");
    assumeTrue(
        !Files.getFileStore(shm).equals(Files.getFileStore(dir)),
        "/dev/shm is on the same file system");
    Path srcDir = Files.createTempDirectory(shm, "rebundle-link-test");
    try {
      String src = srcDir.resolve("model").toString();
      writeTf1(io, src, 2);
      Path outDir = dir.resolve("out");

      LinkNotPossibleException e =
          assertThrows(
              LinkNotPossibleException.class,
              () ->
                  convert(
                      io,
                      src,
                      outDir.resolve("model").toString(),
                      FileReuse.Policy.of(FileReuse.Mode.LINK)));

      assertTrue(
          e.getMessage()
              .startsWith(
                  "Cannot hard-link "
                      + src
                      + ".data-00000-of-00002 as "
                      + outDir
                      + "/.rebundle-staging-model-"),
          e.getMessage());
      assertTrue(
          e.getMessage()
              .endsWith(
                  ": they are on different file systems (a hard link needs source and "
                      + "destination on one local file system; copy the files instead)"),
          e.getMessage());
      assertEquals(List.of(), list(outDir));
      assertEquals(
          List.of("model.data-00000-of-00002", "model.data-00001-of-00002", "model.index"),
          list(srcDir));
    } finally {
      try (Stream<Path> s = Files.list(srcDir)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(srcDir);
    }
  }

  @Test
  void linkResolvesASymlinkedDataFileToTheFileItself() throws IOException {
    String real = dir.resolve("real/model").toString();
    writeTf1(io, real, 1);
    Path src = Files.createDirectories(dir.resolve("src"));
    for (String suffix : new String[] {".index", ".data-00000-of-00001"}) {
      Files.createSymbolicLink(src.resolve("model" + suffix), Path.of("../real/model" + suffix));
    }
    String out = dir.resolve("out/model").toString();

    convert(io, src.resolve("model").toString(), out, FileReuse.Policy.of(FileReuse.Mode.LINK));

    assertFalse(Files.isSymbolicLink(data(out, 0, 2)));
    assertEquals(inode(data(real, 0, 1)), inode(data(out, 0, 2)));
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
  }

  @Test
  void verifyCopiesCatchesADamagedReusedFileWhichPlainReuseCarriesOver() throws IOException {
    String src = dir.resolve("src/model").toString();
    writeTf1(io, src, 2);
    BundleEntry e;
    try (CheckpointReader r = CheckpointReader.open(io, src)) {
      e = r.entry("scope_1/w3");
    }
    Path file = data(src, e.shardId(), 2);
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) e.offset() + 5] ^= 0x10;
    Files.write(file, bytes);

    String checked = dir.resolve("checked/model").toString();
    CorruptCheckpointException ex =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                convert(
                    io, src, checked, FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification()));
    assertTrue(
        ex.getMessage()
            .startsWith(
                "Checksum mismatch for tensor scope_1/w3 in " + file + " (shard 1, offset "),
        ex.getMessage());
    assertEquals(List.of(), list(dir.resolve("checked")));

    // The documented trade-off: without --verify-copies the damage reaches the output, where verify
    // finds it.
    String unchecked = dir.resolve("unchecked/model").toString();
    convert(io, src, unchecked, FileReuse.Policy.of(FileReuse.Mode.COPY));
    CheckpointVerifier.Summary summary = CheckpointVerifier.verify(io, unchecked, null);
    assertFalse(summary.ok());
    assertTrue(
        summary.toString().contains("Checksum mismatch for tensor vars/scope_1.Sw3" + VALUE),
        summary.toString());
  }

  @Test
  void anExistingDestinationIsRefusedWithoutOverwriteAndReplacedWithIt() throws IOException {
    String src = dir.resolve("src/model").toString();
    Map<String, Tensor> values = writeTf1(io, src, 2);
    String out = dir.resolve("out/model").toString();
    convert(io, src, out, FileReuse.Policy.of(FileReuse.Mode.LINK));
    Map<String, String> before = snapshot(dir);

    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class,
            () -> convert(io, src, out, FileReuse.Policy.of(FileReuse.Mode.LINK)));
    assertEquals(
        "Cannot write checkpoint "
            + out
            + ": it already exists (use --overwrite to replace it once the new one is complete)",
        e.getMessage());
    assertEquals(before, snapshot(dir));

    LocalMigration.run(
        io,
        src,
        out,
        MigrationSpec.to(CheckpointFormat.TF2),
        MappingRules.none(),
        0,
        true,
        FileReuse.Policy.of(FileReuse.Mode.LINK));
    assertRestoresUnderTf2Keys(io, out, values);
    assertEquals(inode(data(src, 1, 2)), inode(data(out, 1, 3)));
    assertEquals(
        List.of(
            "checkpoint",
            "model.data-00000-of-00003",
            "model.data-00001-of-00003",
            "model.data-00002-of-00003",
            "model.index"),
        list(dir.resolve("out")));
  }

  /** A one-file TF1 checkpoint of three 1-2 MiB tensors, big enough for kernel copies. */
  private Map<String, Tensor> writeLarge(String prefix) {
    Random random = new Random(21);
    Map<String, Tensor> values = new TreeMap<>();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      for (int i = 0; i < 3; i++) {
        byte[] data = new byte[(1 << 20) + i * (1 << 19)];
        random.nextBytes(data);
        Tensor t = Tensor.of(DType.UINT8, TensorShape.of(data.length), data);
        w.add("big" + i, t);
        values.put("big" + i, t);
      }
      w.finish();
    }
    return values;
  }

  @Test
  void aVerifiedCopyRunsInTheKernelWhileAnotherThreadChecksEveryTensor() throws IOException {
    String src = dir.resolve("src/model").toString();
    Map<String, Tensor> values = writeLarge(src);
    long fileBytes = Files.size(data(src, 0, 1));
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    String out = dir.resolve("out/model").toString();
    convert(counting, src, out, FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification());

    assertEquals(fileBytes, counting.kernelBytes.get(), "the whole file went through the kernel");
    long checked = counting.bytesByFile.get(data(src, 0, 1).toString()).get();
    assertEquals(fileBytes, checked, "the checks read every byte of the file once");
    assertTrue(
        counting.readingThreads.stream().anyMatch(n -> n.startsWith("rebundle-check ")),
        counting.readingThreads.toString());
    assertEquals(
        HexFormat.of().formatHex(Files.readAllBytes(data(src, 0, 1))),
        HexFormat.of().formatHex(Files.readAllBytes(data(out, 0, 2))));
    assertRestoresUnderTf2Keys(io, out, values);
  }

  @Test
  void aVerifiedCopyOfAFileDamagedInItsLastTensorLeavesNothing() throws IOException {
    String src = dir.resolve("src/model").toString();
    writeLarge(src);
    BundleEntry e;
    try (CheckpointReader r = CheckpointReader.open(io, src)) {
      e = r.entry("big2");
    }
    Path file = data(src, 0, 1);
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) (e.offset() + e.size() - 1)] ^= 0x40;
    Files.write(file, bytes);

    String out = dir.resolve("out/model").toString();
    CorruptCheckpointException ex =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                convert(
                    CountingFileIO.localWithKernelCopies(),
                    src,
                    out,
                    FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification()));
    assertTrue(
        ex.getMessage().startsWith("Checksum mismatch for tensor big2 in " + file + " (shard 0, "),
        ex.getMessage());
    assertEquals(List.of(), list(dir.resolve("out")));
  }
}
