package io.rebundle.codec.table;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * In-memory tables for the table tests: written by {@link TableWriter}, read by {@link
 * TableReader}.
 */
final class TableFixtures {
  static final String LOCATION = "mem://test.index";

  private TableFixtures() {}

  /** The bytes {@link TableWriter} produces for the entries {@code body} adds. */
  static byte[] table(Consumer<TableWriter> body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LocalFileIO.CountingStream out = new LocalFileIO.CountingStream(bytes);
    TableWriter writer = new TableWriter(out, LOCATION);
    body.accept(writer);
    writer.finish();
    return bytes.toByteArray();
  }

  /** A stored block: contents, type byte, masked CRC32C over contents and type (§2.3). */
  static byte[] storedBlock(byte[] contents, byte type) {
    byte[] out = new byte[contents.length + Block.TRAILER_SIZE];
    System.arraycopy(contents, 0, out, 0, contents.length);
    out[contents.length] = type;
    Varints.putFixed32(
        out, contents.length + 1, Crc32c.mask(Crc32c.of(out, 0, contents.length + 1)));
    return out;
  }

  /** Positioned reads over a byte array, with {@link RangeReader}'s no-short-read contract. */
  static RangeReader reader(byte[] bytes) {
    return new RangeReader() {
      @Override
      public String location() {
        return LOCATION;
      }

      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public void readFully(long position, byte[] buffer, int offset, int length) {
        if (position < 0 || length < 0 || position > bytes.length - length) {
          throw new CorruptCheckpointException("read past the end of " + LOCATION);
        }
        System.arraycopy(bytes, (int) position, buffer, offset, length);
      }

      @Override
      public void close() {}
    };
  }

  static TableReader open(byte[] bytes) {
    return new TableReader(reader(bytes));
  }
}
