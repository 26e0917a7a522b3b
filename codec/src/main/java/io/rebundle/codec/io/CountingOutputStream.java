package io.rebundle.codec.io;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Counts bytes on their way to a delegate stream: a {@link PositionOutputStream} over any stream.
 */
public class CountingOutputStream extends PositionOutputStream {
  private final OutputStream delegate;
  private long position;

  public CountingOutputStream(OutputStream delegate) {
    this.delegate = delegate;
  }

  protected OutputStream delegate() {
    return delegate;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void write(int b) throws IOException {
    delegate.write(b);
    position++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    delegate.write(b, off, len);
    position += len;
  }

  @Override
  public void flush() throws IOException {
    delegate.flush();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
