package io.rebundle.codec.safetensors;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes one safetensors file as a stream: the header (every tensor's name, dtype, shape and
 * offsets) goes out first, then the caller hands over each tensor's bytes in header order, in
 * pieces of any size, so an executor can stream a tensor from its source through a fixed buffer.
 * The writer checks that exactly the declared bytes arrive, in order.
 *
 * <p>Nothing appears at the target until {@link #commit()}: bytes go to {@code TARGET.partial},
 * which is renamed onto the target once complete; {@link #close()} without a commit deletes it. The
 * caller owns and closes the writer. Not thread-safe.
 */
public final class SafetensorsWriter implements AutoCloseable {
  /** Suffix of the staging file a writer fills before its commit. */
  public static final String PARTIAL_SUFFIX = ".partial";

  private final FileIO io;
  private final String target;
  private final String staging;
  private final SafetensorsHeader header;
  private final PositionOutputStream out;
  private final long dataStart;
  private int current;
  private long writtenInCurrent;
  private boolean committed;
  private boolean closed;

  private SafetensorsWriter(FileIO io, String target, SafetensorsHeader header) {
    this.io = io;
    this.target = target;
    this.staging = target + PARTIAL_SUFFIX;
    this.header = header;
    if (io.exists(target)) {
      // A storage condition, not a caller bug: the command line maps it to exit code 4.
      throw new UncheckedIOException(
          "Cannot write " + target + ": it already exists",
          new java.nio.file.FileAlreadyExistsException(target));
    }
    byte[] head = header.encode();
    this.dataStart = head.length;
    this.out = io.newOutputFile(staging).createOrOverwrite();
    try {
      out.write(head);
    } catch (IOException e) {
      abortQuietly();
      throw new UncheckedIOException("Cannot write " + staging + ": " + e.getMessage(), e);
    }
    skipEmpty();
  }

  /** Starts a file at {@code target} whose layout is {@code header}; writes the header now. */
  public static SafetensorsWriter create(FileIO io, String target, SafetensorsHeader header) {
    return new SafetensorsWriter(io, target, header);
  }

  /**
   * The default {@code __metadata__}: {@code format: pt} (transformers refuses to load files
   * without it), the source location and the tool version.
   */
  public static Map<String, String> defaultMetadata(String source, String toolVersion) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", "pt");
    m.put("source", source);
    m.put("tool", "rebundle " + toolVersion);
    return m;
  }

  public SafetensorsHeader header() {
    return header;
  }

  /** The tensor whose bytes are expected next, or null when all have been written. */
  public SafetensorsEntry next() {
    return current < header.entries().size() ? header.entries().get(current) : null;
  }

  /** Writes the next {@code len} bytes of the data region (they may span tensors). */
  public void write(byte[] bytes, int off, int len) {
    checkRoom(len);
    try {
      out.write(bytes, off, len);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + staging + ": " + e.getMessage(), e);
    }
    advance(len);
  }

  /** Writes the remaining bytes of {@code src}, advancing its position. */
  public void write(ByteBuffer src) {
    int len = src.remaining();
    checkRoom(len);
    try {
      out.write(src);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + staging + ": " + e.getMessage(), e);
    }
    advance(len);
  }

  private void checkRoom(int len) {
    if (closed) {
      throw new IllegalStateException("Cannot write " + target + ": the writer is closed");
    }
    long left = header.dataLength() - (out.position() - dataStart);
    if (len > left) {
      SafetensorsEntry e = next();
      throw new IllegalStateException(
          "Cannot write "
              + len
              + " bytes to "
              + target
              + ": only "
              + left
              + " bytes of tensor data remain"
              + (e == null ? "" : " (next tensor " + e.name() + ")"));
    }
  }

  private void advance(long len) {
    long left = len;
    while (left > 0) {
      SafetensorsEntry e = header.entries().get(current);
      long room = e.size() - writtenInCurrent;
      long step = Math.min(room, left);
      writtenInCurrent += step;
      left -= step;
      if (writtenInCurrent == e.size()) {
        current++;
        writtenInCurrent = 0;
        skipEmpty();
      }
    }
  }

  private void skipEmpty() {
    while (current < header.entries().size() && header.entries().get(current).size() == 0) {
      current++;
    }
  }

  /** Checks that every tensor's bytes arrived, closes the file and moves it onto the target. */
  public void commit() {
    if (closed) {
      throw new IllegalStateException("Cannot commit " + target + ": the writer is closed");
    }
    SafetensorsEntry missing = next();
    if (missing != null) {
      throw new IllegalStateException(
          "Cannot commit "
              + target
              + ": tensor "
              + missing.name()
              + " has "
              + writtenInCurrent
              + " of its "
              + missing.size()
              + " bytes");
    }
    closed = true;
    try {
      out.close();
    } catch (IOException e) {
      abortQuietly();
      throw new UncheckedIOException("Cannot write " + staging + ": " + e.getMessage(), e);
    }
    io.rename(staging, target);
    committed = true;
  }

  /** Bytes of the whole file: header plus data. */
  public long fileLength() {
    return dataStart + header.dataLength();
  }

  @Override
  public void close() {
    if (!committed) {
      abortQuietly();
    }
  }

  private void abortQuietly() {
    closed = true;
    try {
      out.close();
    } catch (IOException | RuntimeException ignored) {
      // Deleting the partial file matters more than a failure to close it.
    }
    try {
      io.delete(staging);
    } catch (RuntimeException ignored) {
      // A leftover .partial file is never mistaken for output: it does not end in .safetensors.
    }
  }
}
