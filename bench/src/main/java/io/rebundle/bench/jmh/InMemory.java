package io.rebundle.bench.jmh;

import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import java.io.ByteArrayOutputStream;

/** In-memory storage for benchmarks that measure decoding, not I/O. */
final class InMemory {
  private InMemory() {}

  /** Collects written bytes. */
  static final class Output extends PositionOutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public long position() {
      return bytes.size();
    }

    @Override
    public void write(int b) {
      bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      bytes.write(b, off, len);
    }
  }

  /** Positioned reads of a byte array. */
  static final class Reader implements RangeReader {
    private final byte[] data;

    Reader(byte[] data) {
      this.data = data;
    }

    @Override
    public String location() {
      return "memory";
    }

    @Override
    public long length() {
      return data.length;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) {
      System.arraycopy(data, (int) position, buffer, offset, length);
    }

    @Override
    public void close() {}
  }
}
