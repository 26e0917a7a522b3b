package io.rebundle.codec.io;

import java.io.OutputStream;

/** An output stream that knows how many bytes it has written: the offsets of bundle entries. */
public abstract class PositionOutputStream extends OutputStream {
  /** Bytes written so far. */
  public abstract long position();

  /**
   * Gives up on this file: closes the stream so that nothing it wrote becomes visible, where the
   * storage allows it, and returns true; returns false when it cannot (then the caller closes and
   * deletes the file). An object-store upload is aborted here: a plain {@link #close()} would
   * publish the partial object. Never throws for a stream that is already closed.
   */
  public boolean abort() {
    return false;
  }

  /**
   * Writes the remaining bytes of {@code src}, advancing its position. Channel-backed streams write
   * a direct buffer straight to the file; this default copies through the heap.
   */
  public void write(java.nio.ByteBuffer src) throws java.io.IOException {
    byte[] chunk = new byte[Math.min(src.remaining(), 1 << 16)];
    while (src.hasRemaining()) {
      int n = Math.min(chunk.length, src.remaining());
      src.get(chunk, 0, n);
      write(chunk, 0, n);
    }
  }
}
