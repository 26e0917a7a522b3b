package io.rebundle.codec.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes a file through its channel: small writes are gathered in a direct buffer; a direct {@link
 * ByteBuffer} handed to {@link #write(ByteBuffer)} goes to the file without further copies. Every
 * write(2) is at most {@link #MAX_WRITE} bytes: measured on Linux 6.18 / ext4
 * (docs/performance.md), writes of 1 MiB and more cost the kernel several times the CPU of 256 KiB
 * ones for the same bytes.
 */
final class ChannelOutputStream extends PositionOutputStream {
  /** The largest single write(2), and the size of the gathering buffer. */
  static final int MAX_WRITE = 256 << 10;

  private static final int WRITE_BUFFER = MAX_WRITE;

  private final FileChannel channel;
  private final String location;
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
  private long position;

  ChannelOutputStream(FileChannel channel, String location) {
    this.channel = channel;
    this.location = location;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void write(int b) throws IOException {
    if (!buffer.hasRemaining()) {
      drain();
    }
    buffer.put((byte) b);
    position++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    int at = off;
    int left = len;
    while (left > 0) {
      if (!buffer.hasRemaining()) {
        drain();
      }
      int n = Math.min(left, buffer.remaining());
      buffer.put(b, at, n);
      at += n;
      left -= n;
    }
    position += len;
  }

  @Override
  public void write(ByteBuffer src) throws IOException {
    int len = src.remaining();
    if (len < buffer.remaining()) {
      buffer.put(src);
    } else {
      drain();
      int limit = src.limit();
      try {
        while (src.hasRemaining()) {
          src.limit(Math.min(limit, src.position() + MAX_WRITE));
          while (src.hasRemaining()) {
            channel.write(src);
          }
          src.limit(limit);
        }
      } finally {
        src.limit(limit);
      }
    }
    position += len;
  }

  /** Appends {@code count} bytes of {@code source} at {@code from}, copied by the kernel. */
  void transferFrom(FileChannel source, long from, long count) throws IOException {
    drain();
    long done = 0;
    while (done < count) {
      long n = source.transferTo(from + done, count - done, channel);
      if (n <= 0) {
        throw new IOException("transfer stopped after " + done + " of " + count + " bytes");
      }
      done += n;
    }
    position += count;
  }

  private void drain() throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    buffer.clear();
  }

  @Override
  public void flush() throws IOException {
    drain();
  }

  @Override
  public void close() throws IOException {
    if (!channel.isOpen()) {
      return;
    }
    try {
      drain();
    } finally {
      channel.close();
    }
  }

  @Override
  public String toString() {
    return "ChannelOutputStream[" + location + "]";
  }
}
