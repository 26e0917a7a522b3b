package io.rebundle.codec.table;

import io.rebundle.codec.Errors;
import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Reads a LevelDB-style table (the {@code .index} of a checkpoint). Opening reads the footer and
 * the index block; data blocks are read one at a time, on demand, and every block's checksum is
 * verified. Memory is bounded by the index block plus one data block. Does not own the {@link
 * RangeReader}. Not thread-safe.
 */
public final class TableReader {
  private final RangeReader reader;
  private final String file;
  private final long length;
  private final Footer footer;
  private final byte[] footerBytes;
  private final Block indexBlock;

  public TableReader(RangeReader reader) {
    this.reader = reader;
    this.file = reader.location();
    this.length = reader.length();
    if (length < Footer.ENCODED_LENGTH) {
      throw Errors.unexpectedEnd("table", file, length, Footer.ENCODED_LENGTH);
    }
    long footerOffset = length - Footer.ENCODED_LENGTH;
    byte[] footerBytes = reader.readFully(footerOffset, Footer.ENCODED_LENGTH);
    this.footer = Footer.decode(footerBytes, file, footerOffset);
    this.footerBytes = footerBytes;
    this.indexBlock = readBlock(footer.index(), "index");
  }

  public String file() {
    return file;
  }

  public long length() {
    return length;
  }

  public Footer footer() {
    return footer;
  }

  /** The raw 48 footer bytes. */
  public byte[] footerBytes() {
    return footerBytes.clone();
  }

  /** Offset of the footer: every block must end at or before it. */
  public long footerOffset() {
    return length - Footer.ENCODED_LENGTH;
  }

  /** The data-block handles listed by the index block, in order, with their separator keys. */
  public List<IndexEntry> indexEntries() {
    List<IndexEntry> entries = new ArrayList<>();
    Block.Iterator it = indexBlock.iterator();
    while (it.next()) {
      entries.add(new IndexEntry(it.key(), decodeHandle(it.value(), it.entryOffset())));
    }
    return entries;
  }

  /** A separator key and the data block it closes. */
  public record IndexEntry(byte[] separator, BlockHandle handle) {}

  private BlockHandle decodeHandle(byte[] value, int entryOffset) {
    try {
      return BlockHandle.decode(new Varints.Cursor(value, 0, value.length));
    } catch (MalformedBytesException e) {
      throw Errors.malformedBlock(
          file,
          "index",
          footer.index().offset(),
          "bad block handle in the entry at byte " + entryOffset + ": " + e.reason());
    }
  }

  /**
   * Reads, checks and (if needed) decompresses one block. {@code what} names the block in error
   * messages ("data", "index", "metaindex").
   */
  public Block readBlock(BlockHandle handle, String what) {
    if (handle.size() > Integer.MAX_VALUE - Block.TRAILER_SIZE
        || handle.offset() > footerOffset() - handle.size() - Block.TRAILER_SIZE) {
      throw Errors.malformedBlock(
          file,
          what,
          handle.offset(),
          String.format(
              "its %d bytes and trailer run past the footer at %d", handle.size(), footerOffset()));
    }
    int n = (int) handle.size();
    byte[] raw = reader.readFully(handle.offset(), n + Block.TRAILER_SIZE);
    int stored = Crc32c.unmask(Varints.getFixed32(raw, n + 1));
    int actual = Crc32c.of(raw, 0, n + 1);
    if (stored != actual) {
      throw Errors.checksumMismatch(
          what + " block",
          file,
          null,
          handle.offset(),
          String.format("offset %d, %d bytes", handle.offset(), n),
          stored,
          actual);
    }
    byte type = raw[n];
    byte[] contents;
    if (type == Block.NO_COMPRESSION) {
      contents = Arrays.copyOf(raw, n);
    } else if (type == Block.SNAPPY_COMPRESSION) {
      try {
        contents = Snappy.uncompress(raw, 0, n);
      } catch (MalformedBytesException e) {
        throw Errors.malformedBlock(
            file, what, handle.offset(), "corrupted compressed contents: " + e.reason());
      }
    } else {
      throw Errors.malformedBlock(file, what, handle.offset(), "bad block type " + (type & 0xFF));
    }
    return new Block(contents, file, what, handle.offset());
  }

  /** Iterates all entries in key order, one data block in memory at a time. */
  public EntryIterator iterator() {
    return new EntryIterator(indexEntries());
  }

  /** Value stored under {@code key}, or null. */
  public byte[] get(byte[] key) {
    Block.Iterator index = indexBlock.iterator();
    index.seek(key);
    while (index.next()) {
      if (Arrays.compareUnsigned(index.key(), key) >= 0) {
        Block data = readBlock(decodeHandle(index.value(), index.entryOffset()), "data");
        Block.Iterator it = data.iterator();
        it.seek(key);
        while (it.next()) {
          int c = Arrays.compareUnsigned(it.key(), key);
          if (c == 0) {
            return it.value();
          }
          if (c > 0) {
            return null;
          }
        }
        return null;
      }
    }
    return null;
  }

  /** Entries in key order; checks that keys strictly increase across the whole table. */
  public final class EntryIterator {
    private final List<IndexEntry> blocks;
    private int nextBlock;
    private Block.Iterator current;
    private BlockHandle currentHandle;
    private byte[] previous;

    private EntryIterator(List<IndexEntry> blocks) {
      this.blocks = blocks;
    }

    /** Advances; false at the end. */
    public boolean next() {
      while (true) {
        if (current != null && current.next()) {
          byte[] key = current.key();
          int order = previous == null ? -1 : Arrays.compareUnsigned(previous, key);
          if (order >= 0) {
            throw Errors.keysOutOfOrder(
                file,
                currentHandle.offset(),
                io.rebundle.codec.util.Bytes.printable(key),
                order == 0);
          }
          previous = key;
          return true;
        }
        if (nextBlock >= blocks.size()) {
          current = null;
          return false;
        }
        currentHandle = blocks.get(nextBlock++).handle();
        current = readBlock(currentHandle, "data").iterator();
      }
    }

    public byte[] key() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return current.key();
    }

    public byte[] value() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return current.value();
    }

    /** File offset of the data block holding the current entry, for error messages. */
    public long blockOffset() {
      return currentHandle.offset();
    }
  }
}
