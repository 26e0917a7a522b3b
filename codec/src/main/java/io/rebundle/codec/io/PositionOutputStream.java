package io.rebundle.codec.io;

import java.io.OutputStream;

/** An output stream that knows how many bytes it has written: the offsets of bundle entries. */
public abstract class PositionOutputStream extends OutputStream {
  /** Bytes written so far. */
  public abstract long position();
}
