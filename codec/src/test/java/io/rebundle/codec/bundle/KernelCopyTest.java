package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.ForwardingFileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
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

  /**
   * Local storage whose readers count the bytes they hand to the kernel (transferTo), and delegate.
   */
  private static final class KernelCountingFileIO extends ForwardingFileIO {
    private static final long serialVersionUID = 1L;
    final AtomicLong kernelBytes = new AtomicLong();
    final java.util.List<Long> kernelCalls =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    private final boolean kernel;

    KernelCountingFileIO() {
      this(true);
    }

    /** {@code kernel} false: the readers refuse kernel copies, as remote storage does. */
    KernelCountingFileIO(boolean kernel) {
      super(new LocalFileIO());
      this.kernel = kernel;
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
        public RangeReader open() {
          RangeReader r = f.open();
          return new RangeReader() {
            @Override
            public String location() {
              return r.location();
            }

            @Override
            public long length() {
              return r.length();
            }

            @Override
            public void readFully(long position, byte[] buffer, int offset, int len) {
              r.readFully(position, buffer, offset, len);
            }

            @Override
            public void readFully(long position, ByteBuffer dst) {
              r.readFully(position, dst);
            }

            @Override
            public boolean canTransferTo(PositionOutputStream out) {
              return kernel && r.canTransferTo(out);
            }

            @Override
            public boolean transferTo(long position, long count, PositionOutputStream out) {
              boolean done = r.transferTo(position, count, out);
              if (done) {
                kernelBytes.addAndGet(count);
                kernelCalls.add(count);
              }
              return done;
            }

            @Override
            public void close() {
              r.close();
            }
          };
        }
      };
    }
  }

  @Test
  void largeTensorsTakeTheKernelPathAndSmallOnesDoNot() throws Exception {
    KernelCountingFileIO counting = new KernelCountingFileIO();
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
    KernelCountingFileIO counting = new KernelCountingFileIO();
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
    KernelCountingFileIO counting = new KernelCountingFileIO();
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
    KernelCountingFileIO streamed = new KernelCountingFileIO(false);
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
}
