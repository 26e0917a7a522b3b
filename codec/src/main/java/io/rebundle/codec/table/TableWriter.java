package io.rebundle.codec.table;

import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Writes a table with TensorFlow's exact parameters (tensorbundle-format.md §2.5-2.8): 256 KiB data
 * blocks, restart interval 16, index restart interval 1, no compression, LevelDB's shortest
 * separator and successor keys. For the same entries the output is byte-identical to TensorFlow's.
 * Keys must be added in strictly increasing unsigned order. Does not close the stream. Not
 * thread-safe.
 */
public final class TableWriter {
  public static final int BLOCK_SIZE = 262144;
  public static final int RESTART_INTERVAL = 16;

  private final PositionOutputStream out;
  private final String location;
  private final BlockBuilder dataBlock = new BlockBuilder(RESTART_INTERVAL);
  private final BlockBuilder indexBlock = new BlockBuilder(1);
  private byte[] lastKey = new byte[0];
  private long numEntries;
  private boolean pendingIndexEntry;
  private BlockHandle pendingHandle;
  private boolean finished;

  public TableWriter(PositionOutputStream out, String location) {
    this.out = out;
    this.location = location;
  }

  public long numEntries() {
    return numEntries;
  }

  public void add(byte[] key, byte[] value) {
    if (finished) {
      throw new IllegalStateException("Cannot add to finished table " + location);
    }
    if (numEntries > 0) {
      if (Arrays.compareUnsigned(key, lastKey) <= 0) {
        throw new IllegalArgumentException(
            "Invalid key order in "
                + location
                + ": keys must strictly increase, got a key after an equal or greater one");
      }
      if ((long) key.length + value.length >= 2L * BLOCK_SIZE) {
        flush();
      }
    }
    if (pendingIndexEntry) {
      indexBlock.add(shortestSeparator(lastKey, key), pendingHandle.encode());
      pendingIndexEntry = false;
    }
    lastKey = key;
    numEntries++;
    dataBlock.add(key, value);
    if (dataBlock.currentSizeEstimate() >= BLOCK_SIZE) {
      flush();
    }
  }

  private void flush() {
    if (dataBlock.isEmpty()) {
      return;
    }
    pendingHandle = writeBlock(dataBlock);
    pendingIndexEntry = true;
  }

  private BlockHandle writeBlock(BlockBuilder block) {
    byte[] contents = block.finish();
    block.reset();
    return writeRawBlock(contents);
  }

  private BlockHandle writeRawBlock(byte[] contents) {
    BlockHandle handle = new BlockHandle(out.position(), contents.length);
    byte[] trailer = new byte[Block.TRAILER_SIZE];
    trailer[0] = Block.NO_COMPRESSION;
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(contents);
    crc.update(trailer, 0, 1);
    Varints.putFixed32(trailer, 1, Crc32c.mask((int) crc.getValue()));
    try {
      out.write(contents);
      out.write(trailer);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
    return handle;
  }

  /** Writes the last data block, the metaindex, the index and the footer. */
  public void finish() {
    flush();
    finished = true;
    BlockHandle metaindex = writeBlock(new BlockBuilder(RESTART_INTERVAL));
    if (pendingIndexEntry) {
      indexBlock.add(shortSuccessor(lastKey), pendingHandle.encode());
      pendingIndexEntry = false;
    }
    BlockHandle index = writeBlock(indexBlock);
    try {
      out.write(new Footer(metaindex, index).encode());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + location + ": " + e.getMessage(), e);
    }
  }

  /** LevelDB's BytewiseComparator::FindShortestSeparator (§2.6). */
  static byte[] shortestSeparator(byte[] start, byte[] limit) {
    int min = Math.min(start.length, limit.length);
    int d = 0;
    while (d < min && start[d] == limit[d]) {
      d++;
    }
    if (d < min) {
      int b = start[d] & 0xFF;
      if (b < 0xFF && b + 1 < (limit[d] & 0xFF)) {
        byte[] sep = Arrays.copyOf(start, d + 1);
        sep[d] = (byte) (b + 1);
        return sep;
      }
    }
    return start;
  }

  /** LevelDB's BytewiseComparator::FindShortSuccessor (§2.6). */
  static byte[] shortSuccessor(byte[] key) {
    for (int i = 0; i < key.length; i++) {
      if ((key[i] & 0xFF) != 0xFF) {
        byte[] succ = Arrays.copyOf(key, i + 1);
        succ[i] = (byte) ((key[i] & 0xFF) + 1);
        return succ;
      }
    }
    return key;
  }
}
