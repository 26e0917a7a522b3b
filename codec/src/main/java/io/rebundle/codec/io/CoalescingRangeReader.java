package io.rebundle.codec.io;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Positioned reads for storage where every read is a request (object stores, HDFS): a decorator
 * that turns many small reads of neighbouring tensors into a few large ranged reads, in memory
 * bounded by one window.
 *
 * <ul>
 *   <li>A caller that knows what it will read announces it with {@link #expect(List)}, in reading
 *       order. Neighbouring ranges (gaps of at most {@code maxGap} bytes) are merged into groups of
 *       at most {@code window} bytes, as long as the gaps stay within 4% of the wanted bytes; when
 *       a read reaches a group, that group and the ones after it that fit in the window are fetched
 *       in one {@link RangeReader#readRanges} call (Hadoop's vectored read where the file system
 *       has one). Reads that follow the announcement read each byte of the file at most once.
 *   <li>A reader with no announcement whose file fits in the window (an index file) fetches the
 *       whole file on its first read: a footer and all index blocks cost one request.
 *   <li>Anything else (a range bigger than the window, a read nobody announced) goes straight to
 *       the delegate.
 * </ul>
 *
 * Thread-safe: reads are serialized, as the underlying streams serialize them anyway.
 */
public final class CoalescingRangeReader implements RangeReader {
  /** Default window: 8 MiB, the size of one ranged read. */
  public static final int DEFAULT_WINDOW = 8 << 20;

  /** Default largest gap merged over: reading 64 KiB more costs less than one more request. */
  public static final int DEFAULT_MAX_GAP = 64 << 10;

  /**
   * Bytes merged over (gaps) stay within 1/25 (4%) of a group's wanted bytes, so announced reads
   * cost at most 1.04 times their bytes even when several readers share a file between them.
   */
  private static final int GAP_BUDGET_DIVISOR = 25;

  private final RangeReader delegate;
  private final int window;
  private final int maxGap;
  private final ArrayDeque<ByteRange> groups = new ArrayDeque<>();
  private boolean announced;
  private boolean firstRead = true;

  private ByteBuffer buffer;

  /** The ranges held in {@link #buffer}, in buffer order, and where each starts in it. */
  private final List<ByteRange> held = new ArrayList<>();

  private final List<Integer> heldAt = new ArrayList<>();

  public CoalescingRangeReader(RangeReader delegate) {
    this(delegate, DEFAULT_WINDOW, DEFAULT_MAX_GAP);
  }

  public CoalescingRangeReader(RangeReader delegate, int window, int maxGap) {
    if (window <= 0 || maxGap < 0) {
      throw new IllegalArgumentException("Invalid read window " + window + " or gap " + maxGap);
    }
    this.delegate = delegate;
    this.window = window;
    this.maxGap = maxGap;
  }

  /**
   * Announces the ranges the caller will read next, in the order it will read them; replaces any
   * earlier announcement. Ranges are merged with their predecessor when they follow it within
   * {@code maxGap} bytes and the group stays within the window.
   */
  public synchronized void expect(List<ByteRange> ranges) {
    groups.clear();
    announced = true;
    long start = -1;
    long end = -1;
    long useful = 0;
    for (ByteRange r : ranges) {
      RangeReader.checkRange(delegate.location(), r.offset(), r.length(), delegate.length());
      if (r.length() == 0) {
        continue;
      }
      long gap = r.offset() - end;
      long wasted = (end - start) - useful + gap;
      if (start >= 0
          && gap >= 0
          && gap <= maxGap
          && r.end() - start <= window
          && wasted * GAP_BUDGET_DIVISOR <= useful + r.length()) {
        end = r.end();
        useful += r.length();
        continue;
      }
      if (start >= 0) {
        groups.add(new ByteRange(start, end - start));
      }
      start = r.offset();
      end = r.end();
      useful = r.length();
    }
    if (start >= 0) {
      groups.add(new ByteRange(start, end - start));
    }
  }

  @Override
  public String location() {
    return delegate.location();
  }

  @Override
  public long length() {
    return delegate.length();
  }

  @Override
  public void readFully(long position, byte[] bytes, int offset, int length) {
    readFully(position, ByteBuffer.wrap(bytes, offset, length));
  }

  @Override
  public synchronized void readFully(long position, ByteBuffer dst) {
    RangeReader.checkRange(delegate.location(), position, dst.remaining(), delegate.length());
    long at = position;
    try {
      boolean fetched = false;
      while (dst.hasRemaining()) {
        int before = dst.remaining();
        if (copyHeld(at, dst)) {
          at += before - dst.remaining();
          fetched = false;
          continue;
        }
        if (fetched || !fetchFor(at)) {
          delegate.readFully(at, dst);
          return;
        }
        fetched = true;
      }
    } finally {
      firstRead = false;
    }
  }

  /**
   * Copies what the buffer holds at {@code at} into {@code dst}; false if it holds nothing there.
   */
  private boolean copyHeld(long at, ByteBuffer dst) {
    for (int i = 0; i < held.size(); i++) {
      ByteRange r = held.get(i);
      if (at >= r.offset() && at < r.end()) {
        int n = (int) Math.min(dst.remaining(), r.end() - at);
        ByteBuffer src = buffer.duplicate();
        int from = heldAt.get(i) + (int) (at - r.offset());
        src.limit(from + n).position(from);
        dst.put(src);
        return true;
      }
    }
    return false;
  }

  /** Fills the buffer with what serves a read at {@code at}; false if the read should go direct. */
  private boolean fetchFor(long at) {
    while (!groups.isEmpty() && groups.peekFirst().end() <= at) {
      groups.pollFirst(); // announced but skipped
    }
    List<ByteRange> batch = new ArrayList<>();
    ByteRange first = groups.peekFirst();
    if (first != null && first.offset() <= at && first.length() <= window) {
      long total = 0;
      while (!groups.isEmpty() && total + groups.peekFirst().length() <= window) {
        ByteRange g = groups.pollFirst();
        batch.add(g);
        total += g.length();
      }
    } else if (!announced && firstRead && delegate.length() <= window && delegate.length() > 0) {
      batch.add(new ByteRange(0, delegate.length()));
    } else {
      return false;
    }
    fill(batch);
    return true;
  }

  private void fill(List<ByteRange> batch) {
    if (buffer == null) {
      buffer = ByteBuffer.allocate(window);
    }
    held.clear();
    heldAt.clear();
    ByteBuffer[] slices = new ByteBuffer[batch.size()];
    int at = 0;
    for (int i = 0; i < batch.size(); i++) {
      int n = (int) batch.get(i).length();
      ByteBuffer slice = buffer.duplicate();
      slice.limit(at + n).position(at);
      slices[i] = slice.slice();
      held.add(batch.get(i));
      heldAt.add(at);
      at += n;
    }
    try {
      delegate.readRanges(batch, slices);
    } catch (RuntimeException e) {
      held.clear();
      heldAt.clear();
      throw e;
    }
  }

  @Override
  public void close() {
    buffer = null;
    held.clear();
    heldAt.clear();
    delegate.close();
  }
}
