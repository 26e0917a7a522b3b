package io.rebundle.codec.io;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A storage decorator that counts what reaches the storage underneath: read requests (each
 * positioned read, each range of a batch), bytes read, files opened. With {@code remote} it also
 * behaves like an object store above the counters: reads are requests ({@link #readsAreRequests})
 * and readers are {@link CoalescingRangeReader}s, as {@code HadoopFileIO}'s are; so a test on a
 * local disk measures exactly what an object store would be asked.
 */
public final class CountingFileIO extends ForwardingFileIO {
  private static final long serialVersionUID = 1L;

  private final boolean remote;
  private final int window;
  public final transient AtomicLong requests = new AtomicLong();
  public final transient AtomicLong bytes = new AtomicLong();
  public final transient AtomicLong opens = new AtomicLong();

  /** Bytes read per location. */
  public final transient java.util.Map<String, AtomicLong> bytesByFile =
      new java.util.concurrent.ConcurrentHashMap<>();

  public CountingFileIO(FileIO delegate, boolean remote, int window) {
    super(delegate);
    this.remote = remote;
    this.window = window;
  }

  public void reset() {
    requests.set(0);
    bytesByFile.clear();
    bytes.set(0);
    opens.set(0);
  }

  @Override
  public boolean readsAreRequests(String location) {
    return remote || delegate().readsAreRequests(location);
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
        return in.length();
      }

      @Override
      public boolean exists() {
        return in.exists();
      }

      @Override
      public RangeReader open() {
        opens.incrementAndGet();
        RangeReader counted = new Counted(in.open());
        return remote
            ? new CoalescingRangeReader(counted, window, CoalescingRangeReader.DEFAULT_MAX_GAP)
            : counted;
      }
    };
  }

  private final class Counted implements RangeReader {
    private final RangeReader r;

    Counted(RangeReader r) {
      this.r = r;
    }

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
      requests.incrementAndGet();
      bytes.addAndGet(length);
      bytesByFile.computeIfAbsent(r.location(), k -> new AtomicLong()).addAndGet(length);
      r.readFully(position, buffer, offset, length);
    }

    @Override
    public void readFully(long position, ByteBuffer dst) {
      requests.incrementAndGet();
      bytes.addAndGet(dst.remaining());
      bytesByFile.computeIfAbsent(r.location(), k -> new AtomicLong()).addAndGet(dst.remaining());
      r.readFully(position, dst);
    }

    @Override
    public void readRanges(List<ByteRange> ranges, ByteBuffer[] dsts) {
      for (int i = 0; i < dsts.length; i++) {
        readFully(ranges.get(i).offset(), dsts[i]);
      }
    }

    @Override
    public void close() {
      r.close();
    }
  }
}
