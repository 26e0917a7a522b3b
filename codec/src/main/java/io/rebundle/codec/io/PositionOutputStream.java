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
   * Whether {@link #openPart} can give a second writer into this file: a local file, written by
   * several threads at once, each through its own descriptor.
   */
  public boolean canOpenParts() {
    return false;
  }

  /**
   * A second stream into the same file whose writes land from byte {@code offset} on (its {@link
   * #position()} starts there), for another thread to fill a part of the file known in advance
   * while this stream writes the bytes before it. Closing it closes only its own descriptor; the
   * part's bytes belong to this file, which the caller still closes (after {@link #skipTo}) or
   * discards.
   */
  public PositionOutputStream openPart(long offset) throws java.io.IOException {
    throw new UnsupportedOperationException("No part writers on " + this);
  }

  /**
   * Moves this stream's position forward to {@code position} over bytes that part writers wrote,
   * once they are closed, so that the next write (if any) follows them.
   */
  public void skipTo(long position) throws java.io.IOException {
    throw new UnsupportedOperationException("No part writers on " + this);
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
