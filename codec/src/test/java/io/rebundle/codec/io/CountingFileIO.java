package io.rebundle.codec.io;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A storage decorator that counts what reaches the storage underneath: read requests (each
 * positioned read, each range of a batch), bytes read, files opened. With {@code remote} it also
 * behaves like an object store above the counters: reads are requests ({@link #readsAreRequests})
 * and readers are {@link CoalescingRangeReader}s, as {@code HadoopFileIO}'s are; so a test on a
 * local disk measures exactly what an object store would be asked. With {@code kernel} (local
 * storage only) its readers offer the kernel copies of the storage underneath and count them too.
 */
public final class CountingFileIO extends ForwardingFileIO {
  private static final long serialVersionUID = 1L;

  private final boolean remote;
  private final int window;
  private final boolean kernel;
  public final transient AtomicLong requests = new AtomicLong();
  public final transient AtomicLong bytes = new AtomicLong();
  public final transient AtomicLong opens = new AtomicLong();

  /** Bytes and calls handed to the kernel by {@link RangeReader#transferTo}. */
  public final transient AtomicLong kernelBytes = new AtomicLong();

  public final transient List<Long> kernelCalls =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  /** Names of the threads that read bytes. */
  public final transient java.util.Set<String> readingThreads =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Bytes read per location. */
  public final transient java.util.Map<String, AtomicLong> bytesByFile =
      new java.util.concurrent.ConcurrentHashMap<>();

  public CountingFileIO(FileIO delegate, boolean remote, int window) {
    this(delegate, remote, window, false);
  }

  public CountingFileIO(FileIO delegate, boolean remote, int window, boolean kernel) {
    super(delegate);
    if (remote && kernel) {
      throw new IllegalArgumentException("An object store has no kernel copies");
    }
    this.remote = remote;
    this.window = window;
    this.kernel = kernel;
  }

  /** Local storage that counts reads and offers (and counts) kernel copies. */
  public static CountingFileIO localWithKernelCopies() {
    return new CountingFileIO(new LocalFileIO(), false, 0, true);
  }

  public void reset() {
    requests.set(0);
    kernelBytes.set(0);
    kernelCalls.clear();
    readingThreads.clear();
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
      readingThreads.add(Thread.currentThread().getName());
      requests.incrementAndGet();
      bytes.addAndGet(length);
      bytesByFile.computeIfAbsent(r.location(), k -> new AtomicLong()).addAndGet(length);
      r.readFully(position, buffer, offset, length);
    }

    @Override
    public void readFully(long position, ByteBuffer dst) {
      readingThreads.add(Thread.currentThread().getName());
      requests.incrementAndGet();
      bytes.addAndGet(dst.remaining());
      bytesByFile.computeIfAbsent(r.location(), k -> new AtomicLong()).addAndGet(dst.remaining());
      r.readFully(position, dst);
    }

    @Override
    public boolean canTransferTo(PositionOutputStream out) {
      return kernel && r.canTransferTo(out);
    }

    @Override
    public boolean transferTo(long position, long count, PositionOutputStream out) {
      if (!kernel) {
        return false;
      }
      boolean done = r.transferTo(position, count, out);
      if (done) {
        kernelBytes.addAndGet(count);
        kernelCalls.add(count);
      }
      return done;
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
