package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.CountingFileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Large copies go through the kernel; the source CRC is still checked, and damage still found. */
class KernelCopyTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String prefix;
  private byte[] data;

  @BeforeEach
  void write() {
    prefix = dir.resolve("src").toString();
    data = new byte[3 << 20];
    new Random(5).nextBytes(data);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("small", Tensor.of(DType.INT8, TensorShape.of(7), new byte[7]));
      w.add("big", Tensor.of(DType.UINT8, TensorShape.of(data.length), data));
      w.finish();
    }
  }

  @Test
  void largeTensorsTakeTheKernelPathAndSmallOnesDoNot() throws Exception {
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    try (CheckpointReader r = CheckpointReader.open(counting, prefix);
        PositionOutputStream out =
            counting.newOutputFile(dir.resolve("k.bin").toString()).create()) {
      r.copyRaw("small", r.entry("small"), out, ByteBuffer.allocateDirect(1 << 20));
      assertEquals(0, counting.kernelBytes.get(), "7 bytes are below the kernel copy threshold");
      r.copyRaw("big", r.entry("big"), out, ByteBuffer.allocateDirect(1 << 20));
      assertEquals(
          data.length,
          counting.kernelBytes.get(),
          "every byte of the big tensor went through the kernel");
    }
    byte[] written = Files.readAllBytes(dir.resolve("k.bin"));
    assertArrayEquals(data, java.util.Arrays.copyOfRange(written, 7, written.length));
  }

  private void copy(String target) throws Exception {
    try (CheckpointReader r = CheckpointReader.open(io, prefix);
        PositionOutputStream out = io.newOutputFile(target).create()) {
      out.write(new byte[] {1, 2, 3});
      r.copyRaw("big", r.entry("big"), out, ByteBuffer.allocateDirect(1 << 20));
      assertEquals(3 + data.length, out.position());
    }
  }

  @Test
  void copiesLargeTensorsExactlyAfterBufferedBytes() throws Exception {
    Path target = dir.resolve("out.bin");
    copy(target.toString());
    byte[] written = Files.readAllBytes(target);
    assertEquals(3 + data.length, written.length);
    assertArrayEquals(new byte[] {1, 2, 3}, java.util.Arrays.copyOf(written, 3));
    assertArrayEquals(data, java.util.Arrays.copyOfRange(written, 3, written.length));
  }

  @Test
  void stillFindsAFlippedByteInAKernelCopiedTensor() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(Naming.dataFile(prefix, 0, 1), "rw")) {
      f.seek(7 + (2 << 20));
      int b = f.read();
      f.seek(7 + (2 << 20));
      f.write(b ^ 0x10);
    }
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class, () -> copy(dir.resolve("out.bin").toString()));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Checksum mismatch for tensor big in "
                    + Naming.dataFile(prefix, 0, 1)
                    + " (shard 0, offset 7, 3145728 bytes)"),
        e.getMessage());
  }

  @Test
  void aKernelCopyReportsEachChunkAsTheKernelMovesIt() throws Exception {
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    java.util.List<Long> reports = new java.util.ArrayList<>();
    long chunk = 1 << 20;
    try (CheckpointReader r = CheckpointReader.open(counting, prefix);
        PositionOutputStream out =
            counting.newOutputFile(dir.resolve("k.bin").toString()).create()) {
      r.copyRaw(
          "big", r.entry("big"), out, ByteBuffer.allocateDirect(256 << 10), reports::add, chunk);
    }
    // 3 MiB in 1 MiB kernel calls, each reported once it is done.
    assertEquals(java.util.List.of(chunk, chunk, chunk), counting.kernelCalls);
    assertEquals(java.util.List.of(chunk, chunk, chunk), reports);
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("k.bin")));
  }

  @Test
  void aKernelCopyWithAnUnevenChunkReportsTheTailLast() throws Exception {
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    java.util.List<Long> reports = new java.util.ArrayList<>();
    long chunk = 1_300_000;
    try (CheckpointReader r = CheckpointReader.open(counting, prefix);
        PositionOutputStream out =
            counting.newOutputFile(dir.resolve("k.bin").toString()).create()) {
      r.copyRaw(
          "big", r.entry("big"), out, ByteBuffer.allocateDirect(256 << 10), reports::add, chunk);
    }
    long tail = data.length - 2 * chunk;
    assertEquals(java.util.List.of(chunk, chunk, tail), counting.kernelCalls);
    assertEquals(java.util.List.of(chunk, chunk, tail), reports);
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("k.bin")));
  }

  @Test
  void aStreamedCopyReportsInChunksToo() throws Exception {
    CountingFileIO streamed = new CountingFileIO(new LocalFileIO(), false, 0, false);
    java.util.List<Long> reports = new java.util.ArrayList<>();
    long chunk = 1 << 20;
    try (CheckpointReader r = CheckpointReader.open(streamed, prefix);
        PositionOutputStream out =
            streamed.newOutputFile(dir.resolve("s.bin").toString()).create()) {
      r.copyRaw(
          "small",
          r.entry("small"),
          out,
          ByteBuffer.allocateDirect(256 << 10),
          reports::add,
          chunk);
      r.copyRaw(
          "big", r.entry("big"), out, ByteBuffer.allocateDirect(256 << 10), reports::add, chunk);
    }
    assertEquals(0, streamed.kernelBytes.get());
    // The small tensor's 7 bytes at its end; the big one's every 1 MiB (four 256 KiB reads each).
    assertEquals(java.util.List.of(7L, chunk, chunk, chunk), reports);
    byte[] written = Files.readAllBytes(dir.resolve("s.bin"));
    assertArrayEquals(data, java.util.Arrays.copyOfRange(written, 7, written.length));
  }

  @Test
  void aDamagedKernelCopyStillFailsAfterItsChunksWereReported() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(Naming.dataFile(prefix, 0, 1), "rw")) {
      f.seek(7 + 100);
      int b = f.read();
      f.seek(7 + 100);
      f.write(b ^ 0x01);
    }
    java.util.List<Long> reports = new java.util.ArrayList<>();
    try (CheckpointReader r = CheckpointReader.open(io, prefix);
        PositionOutputStream out = io.newOutputFile(dir.resolve("d.bin").toString()).create()) {
      CorruptCheckpointException e =
          assertThrows(
              CorruptCheckpointException.class,
              () ->
                  r.copyRaw(
                      "big",
                      r.entry("big"),
                      out,
                      ByteBuffer.allocateDirect(256 << 10),
                      reports::add,
                      1 << 20));
      assertTrue(e.getMessage().startsWith("Checksum mismatch for tensor big"), e.getMessage());
    }
    assertEquals(3, reports.size());
  }

  @Test
  void transferRawCopiesWithoutReadingAndItsDeferredCheckRunsOnAnotherThread() throws Exception {
    CountingFileIO counting = CountingFileIO.localWithKernelCopies();
    Path target = dir.resolve("t.bin");
    long readBefore;
    try (CheckpointReader r = CheckpointReader.open(counting, prefix);
        PositionOutputStream out = counting.newOutputFile(target.toString()).create()) {
      BundleEntry big = r.entry("big");
      assertTrue(r.canTransferRaw("big", big, out));
      assertFalse(r.canTransferRaw("small", r.entry("small"), out), "below the threshold");
      CheckpointReader.DeferredCheck check = r.deferredCheck("big", big);
      readBefore = counting.bytes.get();
      r.transferRaw("big", big, out, null, 1 << 20);
      assertEquals(readBefore, counting.bytes.get(), "the copy itself reads nothing");
      assertEquals(data.length, counting.kernelBytes.get());
      assertEquals(data.length, check.size());
      Thread checker = new Thread(() -> check.run(ByteBuffer.allocateDirect(64 << 10)), "checker");
      checker.start();
      checker.join();
    }
    assertEquals(readBefore + data.length, counting.bytes.get(), "the check read every byte once");
    assertTrue(counting.readingThreads.contains("checker"), counting.readingThreads.toString());
    assertArrayEquals(data, Files.readAllBytes(target));
  }

  @Test
  void aDeferredCheckFindsTheFlippedByteATransferCopied() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(Naming.dataFile(prefix, 0, 1), "rw")) {
      f.seek(7 + 12345);
      int b = f.read();
      f.seek(7 + 12345);
      f.write(b ^ 0x01);
    }
    try (CheckpointReader r = CheckpointReader.open(io, prefix);
        PositionOutputStream out = io.newOutputFile(dir.resolve("t.bin").toString()).create()) {
      CheckpointReader.DeferredCheck check = r.deferredCheck("big", r.entry("big"));
      r.transferRaw("big", r.entry("big"), out, null, 1 << 20);
      CorruptCheckpointException e =
          assertThrows(
              CorruptCheckpointException.class,
              () -> check.run(ByteBuffer.allocateDirect(1 << 20)));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Checksum mismatch for tensor big in "
                      + Naming.dataFile(prefix, 0, 1)
                      + " (shard 0, offset 7, 3145728 bytes)"),
          e.getMessage());
    }
  }
}
