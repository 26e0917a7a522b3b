package io.rebundle.codec.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.CountingFileIO;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-file copies of large local files run in two parts at once, each checked. */
class WholeFilePartsTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private long before;

  @BeforeEach
  void smallParts() {
    before = FileParts.minBytes;
    FileParts.minBytes = 1 << 20;
  }

  @AfterEach
  void restore() {
    FileParts.minBytes = before;
  }

  private String writeSource() {
    String src = dir.resolve("src/model").toString();
    Random random = new Random(31);
    try (CheckpointWriter w = CheckpointWriter.create(io, src)) {
      for (int i = 0; i < 4; i++) {
        byte[] data = new byte[(1 << 19) + i * 4099];
        random.nextBytes(data);
        w.add("w" + i, Tensor.of(DType.UINT8, TensorShape.of(data.length), data));
      }
      w.finish();
    }
    return src;
  }

  private void convert(FileIO storage, String src, String out, FileReuse.Policy policy) {
    LocalMigration.run(
        storage,
        src,
        out,
        MigrationSpec.to(CheckpointFormat.TF2),
        MappingRules.none(),
        0,
        false,
        policy);
  }

  private static Path data(String prefix, int shard, int shards) {
    return Path.of(prefix + String.format(".data-%05d-of-%05d", shard, shards));
  }

  @Test
  void aCheckedCopyInTwoPartsIsByteIdenticalAndEveryTensorIsRead() throws IOException {
    String src = writeSource();
    long fileBytes = Files.size(data(src, 0, 1));
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    String out = dir.resolve("out/model").toString();
    convert(counting, src, out, FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification());

    assertArrayEquals(Files.readAllBytes(data(src, 0, 1)), Files.readAllBytes(data(out, 0, 2)));
    assertEquals(fileBytes, counting.kernelBytes.get());
    assertEquals(fileBytes, counting.bytesByFile.get(data(src, 0, 1).toString()).get());
    assertTrue(
        counting.readingThreads.stream().anyMatch(n -> n.startsWith("rebundle-check ")),
        counting.readingThreads.toString());
    // Two kernel copies ran side by side: the helper thread's part and this thread's.
    assertTrue(counting.kernelCalls.size() >= 2, counting.kernelCalls.toString());
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
  }

  @Test
  void anUncheckedCopyInTwoPartsIsByteIdentical() throws IOException {
    String src = writeSource();
    String out = dir.resolve("out/model").toString();
    convert(
        CountingFileIO.localWithKernelCopies(), src, out, FileReuse.Policy.of(FileReuse.Mode.COPY));
    assertArrayEquals(Files.readAllBytes(data(src, 0, 1)), Files.readAllBytes(data(out, 0, 2)));
  }

  private void assertDamageFails(String key) throws IOException {
    String src = writeSource();
    BundleEntry e;
    try (CheckpointReader r = CheckpointReader.open(io, src)) {
      e = r.entry(key);
    }
    Path file = data(src, 0, 1);
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) (e.offset() + 17)] ^= 0x02;
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
        ex.getMessage().startsWith("Checksum mismatch for tensor " + key + " in " + file),
        ex.getMessage());
    try (Stream<Path> left = Files.list(dir.resolve("out"))) {
      assertEquals(java.util.List.of(), left.toList());
    }
  }

  @Test
  void aDamagedTensorOfTheFirstPartLeavesNothing() throws IOException {
    assertDamageFails("w0");
  }

  @Test
  void aDamagedTensorOfTheSecondPartLeavesNothing() throws IOException {
    assertDamageFails("w3");
  }
}
