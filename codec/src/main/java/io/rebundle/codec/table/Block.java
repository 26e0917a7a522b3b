package io.rebundle.codec.table;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.Errors;
import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.util.Varints;
import java.util.Arrays;

/**
 * A decoded (uncompressed) block (tensorbundle-format.md §2.2). Immutable once built; iterators are
 * independent and not thread-safe. Every decoded length is checked against the entry area, so a
 * corrupt block fails with a {@link CorruptCheckpointException} naming the file and block offset.
 */
public final class Block {
  /** Type byte and masked CRC32C after every stored block (§2.3). */
  public static final int TRAILER_SIZE = 5;

  public static final byte NO_COMPRESSION = 0;
  public static final byte SNAPPY_COMPRESSION = 1;

  private final byte[] data;
  private final String file;
  private final String what;
  private final long blockOffset;
  private final int restartsOffset;
  private final int numRestarts;

  public Block(byte[] data, String file, long blockOffset) {
    this(data, file, "data", blockOffset);
  }

  /**
   * A block of {@code file} stored at {@code blockOffset}; {@code what} names it in messages
   * ("data", "index", "metaindex"). Checks the restart array: every restart point must lie inside
   * the entry area, so {@link Iterator#seek} never jumps outside it.
   */
  public Block(byte[] data, String file, String what, long blockOffset) {
    this.data = data;
    this.file = file;
    this.what = what;
    this.blockOffset = blockOffset;
    if (data.length < 4) {
      throw corrupt("bad block contents: " + data.length + " bytes, fewer than 4");
    }
    long restarts = Integer.toUnsignedLong(Varints.getFixed32(data, data.length - 4));
    if (restarts > (data.length - 4) / 4) {
      throw corrupt(
          "bad block contents: "
              + restarts
              + " restart points do not fit in "
              + data.length
              + " bytes");
    }
    this.numRestarts = (int) restarts;
    this.restartsOffset = data.length - 4 * (numRestarts + 1);
    int previous = -1;
    for (int i = 0; i < numRestarts; i++) {
      int point = restartPoint(i);
      // Unsigned: a "negative" restart point is a huge offset, past the entry area all the same.
      if (point < 0 || point > restartsOffset || point < previous) {
        throw corrupt(
            "restart point "
                + i
                + " is "
                + Integer.toUnsignedString(point)
                + (point < previous && point >= 0
                    ? ", below the previous one"
                    : ", outside the entry area of " + restartsOffset + " bytes"));
      }
      previous = point;
    }
  }

  CorruptCheckpointException corrupt(String reason) {
    return Errors.malformedBlock(file, what, blockOffset, reason);
  }

  public int size() {
    return data.length;
  }

  public int numRestarts() {
    return numRestarts;
  }

  public Iterator iterator() {
    return new Iterator();
  }

  private int restartPoint(int i) {
    return Varints.getFixed32(data, restartsOffset + 4 * i);
  }

  /** Walks the entries in order. {@link #next()} must return true before the accessors are used. */
  public final class Iterator {
    private int next;
    private byte[] key = new byte[0];
    private int valueOffset;
    private int valueLength;
    private int entryOffset = -1;

    private Iterator() {
      next = 0;
    }

    public boolean next() {
      if (next >= restartsOffset) {
        return false;
      }
      entryOffset = next;
      Varints.Cursor c = new Varints.Cursor(data, next, restartsOffset);
      int shared;
      int nonShared;
      int valueLen;
      try {
        shared = c.varint32();
        nonShared = c.varint32();
        valueLen = c.varint32();
      } catch (MalformedBytesException e) {
        throw corrupt("bad entry at byte " + entryOffset + ": " + e.reason());
      }
      if (shared > key.length) {
        throw corrupt(
            "bad entry at byte "
                + entryOffset
                + ": shares "
                + shared
                + " bytes with a previous key of "
                + key.length);
      }
      if ((long) nonShared + valueLen > c.remaining()) {
        throw corrupt(
            "bad entry at byte "
                + entryOffset
                + ": lengths "
                + nonShared
                + "+"
                + valueLen
                + " overrun the entry area");
      }
      byte[] k = Arrays.copyOf(key, shared + nonShared);
      System.arraycopy(data, c.position(), k, shared, nonShared);
      key = k;
      valueOffset = c.position() + nonShared;
      valueLength = valueLen;
      next = valueOffset + valueLength;
      return true;
    }

    /** Positions before the first entry whose key is >= target (unsigned bytewise). */
    public void seek(byte[] target) {
      int lo = 0;
      int hi = numRestarts - 1;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        byte[] midKey = keyAtRestart(restartPoint(mid));
        if (Arrays.compareUnsigned(midKey, target) < 0) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      next = numRestarts == 0 ? restartsOffset : restartPoint(lo);
      key = new byte[0];
      // The restart point holds the last restart key < target; scan to the first key >= target.
      while (true) {
        int entry = next;
        byte[] previousKey = key;
        if (!next()) {
          return;
        }
        if (Arrays.compareUnsigned(key, target) >= 0) {
          next = entry;
          key = previousKey;
          return;
        }
      }
    }

    private byte[] keyAtRestart(int offset) {
      Varints.Cursor c = new Varints.Cursor(data, offset, restartsOffset);
      try {
        int shared = c.varint32();
        int nonShared = c.varint32();
        c.varint32();
        if (shared != 0 || nonShared > c.remaining()) {
          throw corrupt("bad entry at restart point " + offset);
        }
        return Arrays.copyOfRange(data, c.position(), c.position() + nonShared);
      } catch (MalformedBytesException e) {
        throw corrupt("bad entry at restart point " + offset + ": " + e.reason());
      }
    }

    public byte[] key() {
      return key;
    }

    public byte[] value() {
      return Arrays.copyOfRange(data, valueOffset, valueOffset + valueLength);
    }

    /** Offset of the current entry inside the block, for error messages. */
    public int entryOffset() {
      return entryOffset;
    }
  }
}
