package io.rebundle.codec.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceIndexTest {
  @TempDir Path dir;

  @Test
  void refusesToMigrateABigEndianBundle() throws Exception {
    LocalFileIO io = new LocalFileIO();
    String prefix = dir.resolve("be").toString();
    byte[] data = {0x3f, (byte) 0x80, 0, 0};
    Files.write(Path.of(Naming.dataFile(prefix, 0, 1)), data);
    IndexWriter.write(
        io.newOutputFile(Naming.indexFile(prefix)),
        new BundleHeader(1, true, 1, 0, List.of()),
        List.of(
            new IndexRecord(
                Bytes.utf8("x"),
                BundleEntry.of(
                    DType.FLOAT, TensorShape.SCALAR, 0, 0, 4, Crc32c.mask(Crc32c.of(data))))));
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      assertEquals(
          1.0f,
          java.nio.ByteBuffer.wrap(r.read("x").data())
              .order(java.nio.ByteOrder.LITTLE_ENDIAN)
              .getFloat(),
          "reading swaps big-endian values");
      UnsupportedCheckpointException e =
          assertThrows(UnsupportedCheckpointException.class, () -> SourceIndex.read(r));
      assertEquals(
          "Cannot migrate checkpoint "
              + prefix
              + ": its tensor data is big-endian, and migrations write "
              + "little-endian checkpoints without byte-swapping",
          e.getMessage());
    }
  }
}
