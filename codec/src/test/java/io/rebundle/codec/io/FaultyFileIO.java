package io.rebundle.codec.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A storage decorator that breaks on purpose: it numbers every operation that reaches the storage
 * (open, read, create, write, close, rename, replace, delete, mkdirs, list, exists) and makes
 * operation number {@code k} fail in one of the ways storage fails ({@link Fault}). Operation
 * numbers are deterministic for a single-threaded run, so a test can sweep {@code k} over every
 * operation of a whole job: first a run with no fault counts them ({@link #operations}).
 */
public final class FaultyFileIO extends ForwardingFileIO {
  private static final long serialVersionUID = 1L;

  /** How operation {@code k} fails. */
  public enum Fault {
    /** An I/O error (the storage refuses or the connection drops). */
    ERROR,
    /** A write or close reports a full disk; any other operation an I/O error. */
    NO_SPACE,
    /** A read ends early (the file is shorter than the caller was told); else an I/O error. */
    SHORT_READ,
    /** The process dies: an {@link Error} that no cleanup code catches, as with kill -9. */
    CRASH
  }

  /** What {@link Fault#CRASH} throws. Tests catch it where the dead process would have stopped. */
  public static final class SimulatedCrash extends Error {
    private static final long serialVersionUID = 1L;

    public SimulatedCrash(String message) {
      super(message);
    }
  }

  private final int failAt;
  private final Fault fault;
  private final transient AtomicInteger count = new AtomicInteger();
  private volatile String injected;
  private final boolean mutationsOnly;

  /** Fails operation {@code failAt} (1-based; 0 never) with {@code fault}. */
  public FaultyFileIO(FileIO delegate, int failAt, Fault fault) {
    this(delegate, failAt, fault, false);
  }

  /**
   * As above; with {@code mutationsOnly} only operations that change the storage (create, write,
   * close of a written file, rename, replace, delete, mkdirs) are numbered: where a process can be
   * killed with an effect.
   */
  public FaultyFileIO(FileIO delegate, int failAt, Fault fault, boolean mutationsOnly) {
    super(delegate);
    this.failAt = failAt;
    this.fault = fault;
    this.mutationsOnly = mutationsOnly;
  }

  /** How many operations were numbered so far. */
  public int operations() {
    return count.get();
  }

  /** The operation that was made to fail, or null if none was reached. */
  public String injected() {
    return injected;
  }

  private void op(String what, String location, boolean mutation, boolean write, boolean read)
      throws IOException {
    if (mutationsOnly && !mutation) {
      return;
    }
    if (count.incrementAndGet() != failAt) {
      return;
    }
    String desc = what + " " + location;
    injected = desc;
    switch (fault) {
      case CRASH -> throw new SimulatedCrash("killed at " + desc);
      case NO_SPACE -> {
        if (write) {
          throw new IOException("No space left on device (injected at " + desc + ")");
        }
      }
      case SHORT_READ -> {
        if (read) {
          throw new EOFException("Unexpected end of file (injected short read at " + desc + ")");
        }
      }
      case ERROR -> {}
    }
    throw new IOException("Injected fault at " + desc);
  }

  private void unchecked(String what, String location, boolean mutation) {
    try {
      op(what, location, mutation, false, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  @Override
  public InputFile newInputFile(String location) {
    InputFile in = delegate().newInputFile(location);
    return new InputFile() {
      @Override
      public String location() {
        return in.location();
      }

      @Override
      public long length() {
        unchecked("length", location, false);
        return in.length();
      }

      @Override
      public boolean exists() {
        unchecked("exists", location, false);
        return in.exists();
      }

      @Override
      public RangeReader open() {
        unchecked("open", location, false);
        return reader(in.open());
      }
    };
  }

  private RangeReader reader(RangeReader r) {
    return new RangeReader() {
      @Override
      public String location() {
        return r.location();
      }

      @Override
      public long length() {
        return r.length();
      }

      @Override
      public void readFully(long position, byte[] buffer, int offset, int length) {
        try {
          op("read", r.location() + "@" + position, false, false, true);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
        r.readFully(position, buffer, offset, length);
      }

      @Override
      public void close() {
        r.close();
      }
    };
  }

  @Override
  public OutputFile newOutputFile(String location) {
    OutputFile out = delegate().newOutputFile(location);
    return new OutputFile() {
      @Override
      public String location() {
        return out.location();
      }

      @Override
      public PositionOutputStream create() {
        unchecked("create", location, true);
        return stream(out.create(), location);
      }

      @Override
      public PositionOutputStream createOrOverwrite() {
        unchecked("create", location, true);
        return stream(out.createOrOverwrite(), location);
      }
    };
  }

  private PositionOutputStream stream(PositionOutputStream s, String location) {
    return new PositionOutputStream() {
      private boolean closed;

      @Override
      public long position() {
        return s.position();
      }

      @Override
      public void write(int b) throws IOException {
        op("write", location, true, true, false);
        s.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        op("write", location, true, true, false);
        s.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        if (closed) {
          return;
        }
        op("close", location, true, true, false);
        closed = true;
        s.close();
      }

      @Override
      public boolean abort() {
        boolean aborted = s.abort();
        closed = aborted; // if not, the caller closes (and deletes) the file
        return aborted;
      }
    };
  }

  @Override
  public boolean exists(String location) {
    unchecked("exists", location, false);
    return delegate().exists(location);
  }

  @Override
  public boolean isDirectory(String location) {
    unchecked("isDirectory", location, false);
    return delegate().isDirectory(location);
  }

  @Override
  public List<String> list(String directory) {
    unchecked("list", directory, false);
    return delegate().list(directory);
  }

  @Override
  public void rename(String source, String target) {
    unchecked("rename", source + " -> " + target, true);
    delegate().rename(source, target);
  }

  @Override
  public void replace(String source, String target) {
    unchecked("replace", source + " -> " + target, true);
    delegate().replace(source, target);
  }

  @Override
  public boolean delete(String location) {
    unchecked("delete", location, true);
    return delegate().delete(location);
  }

  @Override
  public void mkdirs(String directory) {
    unchecked("mkdirs", directory, true);
    delegate().mkdirs(directory);
  }
}
