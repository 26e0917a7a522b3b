package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positioned reads through {@link FileChannel#read(ByteBuffer, long)}; thread-safe. */
final class ChannelRangeReader implements RangeReader {
  private final String location;
  private final FileChannel channel;
  private final long length;

  ChannelRangeReader(String location, FileChannel channel) throws IOException {
    this.location = location;
    this.channel = channel;
    this.length = channel.size();
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int len) {
    RangeReader.checkRange(location, position, len, length);
    ByteBuffer target = ByteBuffer.wrap(buffer, offset, len);
    long at = position;
    try {
      while (target.hasRemaining()) {
        int n = channel.read(target, at);
        if (n < 0) {
          throw new io.rebundle.codec.CorruptCheckpointException(
              String.format(
                  "Cannot read %s: file ended at offset %d, expected %d more bytes",
                  location, at, target.remaining()));
        }
        at += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read " + location + " at offset " + position + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean canTransferTo(PositionOutputStream out) {
    return out instanceof ChannelOutputStream;
  }

  @Override
  public boolean transferTo(long position, long count, PositionOutputStream out) {
    if (!(out instanceof ChannelOutputStream target)) {
      return false;
    }
    RangeReader.checkRange(location, position, count, length);
    try {
      target.transferFrom(channel, position, count);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot copy "
              + count
              + " bytes of "
              + location
              + " at offset "
              + position
              + " to "
              + target
              + ": "
              + e.getMessage(),
          e);
    }
    return true;
  }

  @Override
  public void readFully(long position, ByteBuffer dst) {
    int len = dst.remaining();
    RangeReader.checkRange(location, position, len, length);
    long at = position;
    try {
      while (dst.hasRemaining()) {
        int n = channel.read(dst, at);
        if (n < 0) {
          throw new io.rebundle.codec.CorruptCheckpointException(
              String.format(
                  "Cannot read %s: file ended at offset %d, expected %d more bytes",
                  location, at, dst.remaining()));
        }
        at += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read " + location + " at offset " + position + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot close " + location + ": " + e.getMessage(), e);
    }
  }
}
