package io.rebundle.codec.bundle;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.Errors;
import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.table.TableReader;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Reads a checkpoint lazily. Opening reads the index footer, index block and header; listing keys
 * reads only the index, one block at a time; tensor bytes are read by positioned reads from the
 * data files, opened on first use. Every tensor read verifies its CRC32C. Owns the readers it opens
 * and closes them in {@link #close()}. Not thread-safe.
 */
public final class CheckpointReader implements AutoCloseable {
  /** Streaming buffer for copies and checks. */
  public static final int BUFFER_SIZE = 1 << 20;

  /** Largest tensor {@link #read} will hold in memory; bigger ones must be streamed. */
  public static final long MAX_IN_MEMORY = Integer.MAX_VALUE - 64;

  /** Tensors at least this big are copied by the kernel where the storage allows it. */
  static final long KERNEL_COPY_THRESHOLD = 1 << 20;

  private final FileIO io;
  private final String prefix;
  private final List<String> warnings;
  private final RangeReader indexReader;
  private final TableReader table;
  private final BundleHeader header;
  private final Map<Integer, RangeReader> dataReaders = new HashMap<>();

  private CheckpointReader(FileIO io, String prefix, List<String> warnings) {
    this.io = io;
    this.prefix = prefix;
    this.warnings = List.copyOf(warnings);
    InputFile index = io.newInputFile(Naming.indexFile(prefix));
    if (!index.exists()) {
      throw new CheckpointNotFoundException(
          "Cannot find checkpoint " + prefix + ": no " + Naming.indexFile(prefix) + " found");
    }
    this.indexReader = index.open();
    try {
      this.table = new TableReader(indexReader);
      TableReader.EntryIterator it = table.iterator();
      if (!it.next() || it.key().length != 0) {
        throw Errors.malformedEntry(
            Naming.indexFile(prefix),
            "",
            null,
            "no bundle header (the first entry must have the empty key); the file is corrupt or "
                + "was produced by a newer TensorFlow");
      }
      this.header = BundleHeader.decode(it.value(), Naming.indexFile(prefix));
      checkShardCount();
    } catch (RuntimeException e) {
      indexReader.close();
      throw e;
    }
  }

  /**
   * A header may claim any number of shards up to 2^31-1, and callers size per-shard tables by it.
   * Above {@link #SHARDS_CHECKED_AT_OPEN} shards, one directory listing at open confirms that the
   * data files are really there, so a corrupt count fails here instead of allocating or looping.
   */
  private void checkShardCount() {
    if (header.numShards() <= SHARDS_CHECKED_AT_OPEN) {
      return;
    }
    String dir = io.parent(prefix);
    String base = io.fileName(prefix) + ".data-";
    String suffix = String.format("-of-%05d", header.numShards());
    long found = 0;
    for (String name : io.list(dir.isEmpty() ? "." : dir)) {
      if (name.startsWith(base) && name.endsWith(suffix)) {
        found++;
      }
    }
    if (found < header.numShards()) {
      throw Errors.malformedEntry(
          indexFile(),
          "",
          null,
          "the bundle header claims "
              + header.numShards()
              + " shards, but only "
              + found
              + " of their data files exist");
    }
  }

  /** Shard counts above this are checked against the data files present when a reader opens. */
  public static final int SHARDS_CHECKED_AT_OPEN = 4096;

  /** Opens a prefix, a model directory (through its state file) or a SavedModel directory. */
  public static CheckpointReader open(FileIO io, String path) {
    CheckpointLocator.Resolved r = CheckpointLocator.resolve(io, path);
    return new CheckpointReader(io, r.prefix(), r.warnings());
  }

  /** Opens exactly {@code prefix}, with no resolution. */
  public static CheckpointReader openPrefix(FileIO io, String prefix) {
    return new CheckpointReader(io, prefix, List.of());
  }

  public String prefix() {
    return prefix;
  }

  public FileIO io() {
    return io;
  }

  public List<String> warnings() {
    return warnings;
  }

  public BundleHeader header() {
    return header;
  }

  public TableReader table() {
    return table;
  }

  public String indexFile() {
    return Naming.indexFile(prefix);
  }

  public String dataFile(int shard) {
    return Naming.dataFile(prefix, shard, header.numShards());
  }

  /** Whether the checkpoint is object-based (TF2): it has an object graph. */
  public boolean isObjectBased() {
    return table.get(Bytes.utf8(Naming.OBJECT_GRAPH_KEY)) != null;
  }

  /** All entries after the header, in key order (slice entries included), read lazily. */
  public Iterable<IndexRecord> records() {
    return () ->
        new Iterator<>() {
          private final TableReader.EntryIterator it = table.iterator();
          private final String indexFile = indexFile();
          // Most indexes repeat a few shapes: their entries share one instance per shape.
          private final TensorShape.Recent shapes = new TensorShape.Recent();
          private IndexRecord next = advance(true);

          private IndexRecord advance(boolean first) {
            if (first && !it.next()) {
              return null;
            }
            if (!it.next()) {
              return null;
            }
            byte[] key = it.key();
            if (SliceKeys.isSliceKey(key)) {
              // Decoded here, once, so that every consumer of records() may decode slice keys
              // freely.
              try {
                SliceKeys.decode(key);
              } catch (MalformedBytesException e) {
                throw Errors.malformedSliceKey(
                    indexFile, Bytes.printable(key), it.blockOffset(), e);
              }
            }
            return new IndexRecord(key, BundleEntry.decode(it.value(), indexFile, key, shapes));
          }

          @Override
          public boolean hasNext() {
            return next != null;
          }

          @Override
          public IndexRecord next() {
            if (next == null) {
              throw new NoSuchElementException();
            }
            IndexRecord r = next;
            next = advance(false);
            return r;
          }
        };
  }

  /** The entry under a binary key (e.g. a slice key), or null if absent. */
  public BundleEntry findEntry(byte[] key) {
    byte[] value = table.get(key);
    return value == null ? null : BundleEntry.decode(value, indexFile(), Bytes.printable(key));
  }

  /** The entry for {@code key}, or null if absent. */
  public BundleEntry findEntry(String key) {
    byte[] value = table.get(Bytes.utf8(key));
    return value == null ? null : BundleEntry.decode(value, indexFile(), key);
  }

  /** The entry for {@code key}; throws {@link CheckpointNotFoundException} if absent. */
  public BundleEntry entry(String key) {
    BundleEntry e = findEntry(key);
    if (e == null) {
      throw Errors.keyNotFound(key, prefix);
    }
    return e;
  }

  /** The TF2 object graph, or null for a name-based checkpoint. */
  public ObjectGraph objectGraph() {
    BundleEntry e = findEntry(Naming.OBJECT_GRAPH_KEY);
    if (e == null) {
      return null;
    }
    Tensor t = read(Naming.OBJECT_GRAPH_KEY, e);
    if (t.dtype() != DType.STRING || !t.shape().isScalar()) {
      throw Errors.malformedEntry(
          indexFile(),
          Naming.OBJECT_GRAPH_KEY,
          null,
          "the object graph must be a string scalar, found " + e.dtypeName() + " " + e.shape());
    }
    return ObjectGraph.parse(t.strings().get(0), prefix);
  }

  private RangeReader dataReader(String key, BundleEntry e) {
    if (e.shardId() >= header.numShards()) {
      throw Errors.shardOutOfRange(indexFile(), key, e.shardId(), header.numShards());
    }
    RangeReader r = dataReaders.get(e.shardId());
    if (r == null) {
      InputFile f = io.newInputFile(dataFile(e.shardId()));
      if (!f.exists()) {
        throw Errors.missingDataFile(dataFile(e.shardId()), key, e.shardId(), header.numShards());
      }
      try {
        r = f.open();
      } catch (io.rebundle.codec.io.StorageFileNotFoundException gone) {
        throw Errors.missingDataFile(dataFile(e.shardId()), key, e.shardId(), header.numShards());
      }
      dataReaders.put(e.shardId(), r);
    }
    if (e.offset() > r.length() || e.size() > r.length() - e.offset()) {
      throw Errors.pastEnd("tensor " + key, r.location(), key, e.offset(), e.size(), r.length());
    }
    return r;
  }

  /**
   * Announces the entries about to be read, in reading order: on storage where every read is a
   * request, the data files' readers then fetch neighbouring tensors in a few large ranged reads
   * ({@link io.rebundle.codec.io.CoalescingRangeReader}). Opens the data files it names; entries
   * that are sliced, or out of their file's range, are left for the reads to report.
   */
  public void willRead(List<BundleEntry> entries) {
    Map<Integer, List<io.rebundle.codec.io.ByteRange>> byShard = new HashMap<>();
    for (BundleEntry e : entries) {
      if (!e.isSliced() && e.size() > 0 && e.shardId() >= 0 && e.shardId() < header.numShards()) {
        byShard
            .computeIfAbsent(e.shardId(), k -> new ArrayList<>())
            .add(new io.rebundle.codec.io.ByteRange(e.offset(), e.size()));
      }
    }
    for (Map.Entry<Integer, List<io.rebundle.codec.io.ByteRange>> s : byShard.entrySet()) {
      RangeReader r = dataReaders.get(s.getKey());
      if (r == null) {
        InputFile f = io.newInputFile(dataFile(s.getKey()));
        if (!f.exists()) {
          continue;
        }
        r = f.open();
        dataReaders.put(s.getKey(), r);
      }
      if (r instanceof io.rebundle.codec.io.CoalescingRangeReader c) {
        long length = r.length();
        c.expect(s.getValue().stream().filter(b -> b.end() <= length).toList());
      }
    }
  }

  /** Checks the entry's size against its dtype and shape (TensorFlow's own size check). */
  public void checkSize(String key, BundleEntry e) {
    if (e.isSliced()) {
      return;
    }
    DType dtype = e.dtype();
    if (dtype == DType.RESOURCE) {
      throw new UnsupportedCheckpointException(
          "Cannot read tensor " + key + ": DT_RESOURCE tensors cannot be stored", indexFile(), key);
    }
    long n = e.shape().numElements();
    if (dtype.isFixedSize()) {
      long expected;
      try {
        expected = Math.multiplyExact(n, dtype.elementSize());
      } catch (ArithmeticException ex) {
        expected = -1;
      }
      if (expected != e.size()) {
        throw Errors.sizeMismatch(indexFile(), key, e.size(), Long.toString(expected));
      }
    } else if (e.size() < n) {
      throw Errors.sizeMismatch(indexFile(), key, e.size(), "is at least " + n);
    }
  }

  private CorruptCheckpointException crcMismatch(String key, BundleEntry e, int computed) {
    return Errors.checksumMismatch(
        "tensor " + key,
        dataFile(e.shardId()),
        key,
        e.offset(),
        String.format("shard %d, offset %d, %d bytes", e.shardId(), e.offset(), e.size()),
        Crc32c.unmask(e.crc32c()),
        computed);
  }

  /**
   * Streams the stored bytes of a non-sliced entry to {@code out} through {@code buffer}, verifying
   * the CRC32C; a mismatch throws after the bytes were written, so callers must not commit output
   * that received them.
   */
  public void copyRaw(String key, BundleEntry e, OutputStream out, byte[] buffer) {
    checkSize(key, e);
    int computed = checksum(key, e, dataReader(key, e), out, java.nio.ByteBuffer.wrap(buffer));
    if (Crc32c.mask(computed) != e.crc32c()) {
      throw crcMismatch(key, e, computed);
    }
  }

  /**
   * Reads {@code length} bytes at {@code offsetInTensor} of a non-sliced entry's stored bytes,
   * without checking the CRC (callers verify the whole tensor separately).
   */
  public void readRange(
      String key, BundleEntry e, long offsetInTensor, byte[] buffer, int off, int length) {
    if (offsetInTensor < 0 || length < 0 || offsetInTensor > e.size() - length) {
      throw new IllegalArgumentException(
          "Invalid range of tensor "
              + key
              + ": "
              + length
              + " bytes at "
              + offsetInTensor
              + " of "
              + e.size());
    }
    dataReader(key, e).readFully(e.offset() + offsetInTensor, buffer, off, length);
  }

  /**
   * {@link #copyRaw(String, BundleEntry, OutputStream, byte[])} through a direct buffer: bytes go
   * from the data file into {@code buffer}, through the CRC, and out to {@code out}, with no heap
   * copy where both ends are file channels.
   */
  public void copyRaw(
      String key, BundleEntry e, PositionOutputStream out, java.nio.ByteBuffer buffer) {
    copyRaw(key, e, out, buffer, null, Long.MAX_VALUE);
  }

  /**
   * {@link #copyRaw(String, BundleEntry, PositionOutputStream, java.nio.ByteBuffer)} that also
   * reports the bytes written to {@code out} to {@code progress} (when not null) every {@code
   * chunk} bytes, and the rest at the end, so the reports of one tensor sum to its size. On the
   * kernel path the copy itself runs in ranges of {@code chunk} bytes, each one kernel call, so a
   * large tensor shows progress while the kernel moves it at full speed.
   */
  public void copyRaw(
      String key,
      BundleEntry e,
      PositionOutputStream out,
      java.nio.ByteBuffer buffer,
      java.util.function.LongConsumer progress,
      long chunk) {
    if (chunk <= 0) {
      throw new IllegalArgumentException("Invalid progress chunk: " + chunk + " bytes");
    }
    checkSize(key, e);
    RangeReader r = dataReader(key, e);
    if (out != null && e.size() >= KERNEL_COPY_THRESHOLD && r.canTransferTo(out)) {
      copyInKernel(key, e, r, out, buffer, progress, chunk);
      return;
    }
    int computed = checksum(key, e, r, out, buffer, out == null ? null : progress, chunk);
    if (Crc32c.mask(computed) != e.crc32c()) {
      throw crcMismatch(key, e, computed);
    }
  }

  /**
   * Whether {@link #transferRaw} copies this non-sliced entry to {@code out} in the kernel: it is
   * at least {@link #KERNEL_COPY_THRESHOLD} bytes and both ends are files of a storage that can.
   */
  public boolean canTransferRaw(String key, BundleEntry e, PositionOutputStream out) {
    checkSize(key, e);
    return out != null
        && e.size() >= KERNEL_COPY_THRESHOLD
        && dataReader(key, e).canTransferTo(out);
  }

  /**
   * Copies a non-sliced entry's stored bytes to {@code out} in the kernel, in ranges of {@code
   * chunk} bytes, each reported to {@code progress} (when not null), <b>without checking them</b>:
   * the caller runs {@link #deferredCheck} of the same entry, on any thread, and commits nothing
   * that received these bytes unless it passes. Only where {@link #canTransferRaw} said so.
   */
  public void transferRaw(
      String key,
      BundleEntry e,
      PositionOutputStream out,
      java.util.function.LongConsumer progress,
      long chunk) {
    if (chunk <= 0) {
      throw new IllegalArgumentException("Invalid progress chunk: " + chunk + " bytes");
    }
    checkSize(key, e);
    transferRanges(e, dataReader(key, e), out, progress, chunk);
  }

  /** One kernel call per range of {@code chunk} bytes: the copy stays file to file. */
  private void transferRanges(
      BundleEntry e,
      RangeReader r,
      PositionOutputStream out,
      java.util.function.LongConsumer progress,
      long chunk) {
    for (long done = 0; done < e.size(); ) {
      long n = Math.min(chunk, e.size() - done);
      if (!r.transferTo(e.offset() + done, n, out)) {
        throw new IllegalStateException(
            "Invalid storage: " + dataFile(e.shardId()) + " refused a kernel copy it offered");
      }
      done += n;
      if (progress != null) {
        progress.accept(n);
      }
    }
  }

  /**
   * The CRC32C check of a non-sliced entry's stored bytes, to run later on another thread (the data
   * file is opened now, on the caller's: this reader is not thread-safe, its open files are). It
   * reads the bytes through the buffer it is given and throws the error {@link #verifyData} would.
   */
  public DeferredCheck deferredCheck(String key, BundleEntry e) {
    checkSize(key, e);
    return new DeferredCheck(key, e, dataReader(key, e));
  }

  /** A CRC32C check prepared by {@link #deferredCheck}; run it once, on any one thread. */
  public final class DeferredCheck {
    private final String key;
    private final BundleEntry entry;
    private final RangeReader reader;

    private DeferredCheck(String key, BundleEntry entry, RangeReader reader) {
      this.key = key;
      this.entry = entry;
      this.reader = reader;
    }

    /** The bytes this check reads. */
    public long size() {
      return entry.size();
    }

    /** Reads the entry's bytes through {@code buffer}; throws on a CRC32C or length mismatch. */
    public void run(java.nio.ByteBuffer buffer) {
      int computed = checksum(key, entry, reader, null, buffer, null, Long.MAX_VALUE);
      if (Crc32c.mask(computed) != entry.crc32c()) {
        throw crcMismatch(key, entry, computed);
      }
    }
  }

  /**
   * The kernel copies the tensor file to file (no byte enters the JVM) while a second thread reads
   * the same range through {@code buffer} for its CRC: on two cores the two overlap. The output is
   * not committed unless the check passes, so a mismatch found after the copy loses nothing.
   */
  private void copyInKernel(
      String key,
      BundleEntry e,
      RangeReader r,
      PositionOutputStream out,
      java.nio.ByteBuffer buffer,
      java.util.function.LongConsumer progress,
      long chunk) {
    java.util.concurrent.CompletableFuture<Integer> check =
        new java.util.concurrent.CompletableFuture<>();
    Thread checker =
        new Thread(
            () -> {
              try {
                check.complete(checksum(key, e, r, null, buffer, null, chunk));
              } catch (Throwable t) {
                check.completeExceptionally(t);
              }
            },
            "rebundle-crc");
    checker.setDaemon(true);
    checker.start();
    try {
      transferRanges(e, r, out, progress, chunk);
    } finally {
      // The checker uses the caller's buffer: never return while it may still be reading into it.
      try {
        checker.join();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    int computed;
    try {
      computed = check.join();
    } catch (java.util.concurrent.CompletionException ce) {
      if (ce.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw ce;
    }
    if (Crc32c.mask(computed) != e.crc32c()) {
      throw crcMismatch(key, e, computed);
    }
  }

  /**
   * Streams the entry's bytes through {@code buffer} and the CRC, writing them to {@code out} if
   * given.
   */
  private int checksum(
      String key, BundleEntry e, RangeReader r, OutputStream out, java.nio.ByteBuffer buffer) {
    return checksum(key, e, r, out, buffer, null, Long.MAX_VALUE);
  }

  /**
   * {@link #checksum(String, BundleEntry, RangeReader, OutputStream, java.nio.ByteBuffer)},
   * reporting the bytes passed on to {@code progress} (when not null) every {@code chunk} bytes and
   * the rest at the end.
   */
  private int checksum(
      String key,
      BundleEntry e,
      RangeReader r,
      OutputStream out,
      java.nio.ByteBuffer buffer,
      java.util.function.LongConsumer progress,
      long chunk) {
    long pending = 0;
    TensorChecksum crc =
        TensorChecksum.of(e.dtype(), e.shape().numElements(), header.bigEndian(), e.size());
    long pos = e.offset();
    long end = e.offset() + e.size();
    try {
      while (pos < end) {
        int n = (int) Math.min(buffer.capacity(), end - pos);
        buffer.clear().limit(n);
        r.readFully(pos, buffer);
        buffer.flip();
        crc.update(buffer);
        if (out instanceof PositionOutputStream po) {
          po.write(buffer);
        } else if (out != null) {
          // Plain streams only come with the heap buffer of copyRaw(..., byte[]).
          out.write(buffer.array(), buffer.arrayOffset(), n);
        }
        pos += n;
        pending += n;
        if (progress != null && pending >= chunk) {
          progress.accept(pending);
          pending = 0;
        }
      }
    } catch (IOException ex) {
      throw new UncheckedIOException(
          "Cannot write bytes of tensor " + key + ": " + ex.getMessage(), ex);
    } catch (MalformedBytesException ex) {
      throw elementLengths(key, e, ex.reason());
    }
    String problem = crc.problem();
    if (problem != null) {
      throw elementLengths(key, e, problem);
    }
    if (progress != null && pending > 0) {
      progress.accept(pending);
    }
    return crc.value();
  }

  /** Reads every byte of a non-sliced entry through a direct buffer and checks its CRC32C. */
  public void verifyData(String key, BundleEntry e, java.nio.ByteBuffer buffer) {
    copyRaw(key, e, (PositionOutputStream) null, buffer);
  }

  /** Reads every byte and checks its CRC32C, in bounded memory. */
  public void verifyData(String key, BundleEntry e, byte[] buffer) {
    copyRaw(key, e, null, buffer);
  }

  /** The raw stored bytes of a non-sliced entry, CRC-checked. */
  public byte[] readRaw(String key, BundleEntry e) {
    checkSize(key, e);
    if (e.size() > MAX_IN_MEMORY) {
      throw Errors.tooLargeForMemory(key, e.size());
    }
    RangeReader r = dataReader(key, e);
    byte[] bytes = r.readFully(e.offset(), (int) e.size());
    TensorChecksum crc =
        TensorChecksum.of(e.dtype(), e.shape().numElements(), header.bigEndian(), e.size());
    try {
      crc.update(bytes, 0, bytes.length);
    } catch (MalformedBytesException ex) {
      throw elementLengths(key, e, ex.reason());
    }
    String problem = crc.problem();
    if (problem != null) {
      throw elementLengths(key, e, problem);
    }
    int computed = crc.value();
    if (Crc32c.mask(computed) != e.crc32c()) {
      throw crcMismatch(key, e, computed);
    }
    return bytes;
  }

  /** Reads a whole tensor into memory, assembling sliced tensors from their slices. */
  public Tensor read(String key) {
    return read(key, entry(key));
  }

  public Tensor read(String key, BundleEntry e) {
    DType dtype = e.dtype();
    if (e.isSliced()) {
      return SliceAssembler.assemble(this, key, e);
    }
    if (dtype == DType.VARIANT) {
      throw new UnsupportedCheckpointException(
          "Cannot decode tensor "
              + key
              + ": DT_VARIANT values need TensorFlow's variant decoders; they can be copied, not read");
    }
    byte[] raw = readRaw(key, e);
    if (dtype == DType.STRING) {
      return Tensor.ofStrings(e.shape(), decodeStrings(key, e, raw));
    }
    if (header.bigEndian()) {
      raw = swapToLittleEndian(key, dtype, raw);
    }
    return Tensor.of(dtype, e.shape(), raw);
  }

  /**
   * The first {@code min(n, maxElements)} elements of a tensor, in row-major order, as a vector:
   * what {@code inspect --values} prints. Only those elements are read and held: sizes, shard and
   * file bounds and, for a sliced tensor, slice coverage, overlap and slice entries are checked
   * against the index before anything is allocated. A tensor with at most {@code maxElements}
   * elements is read whole and checksummed as by {@link #read}; a prefix cannot be checksummed (the
   * stored CRC covers the whole tensor), {@code verify} checks those bytes.
   */
  public Tensor readHead(String key, BundleEntry e, int maxElements) {
    if (maxElements < 1) {
      throw new IllegalArgumentException("Invalid element count: " + maxElements);
    }
    long n = e.shape().numElements();
    DType dtype = e.dtype();
    if (dtype == DType.VARIANT) {
      return read(key, e); // refused there, with the reason
    }
    if (e.isSliced()) {
      return SliceAssembler.head(this, key, e, maxElements);
    }
    checkSize(key, e);
    if (n <= maxElements) {
      Tensor t = read(key, e);
      TensorShape flat = TensorShape.of(n);
      return dtype == DType.STRING
          ? Tensor.ofStrings(flat, t.strings())
          : Tensor.of(dtype, flat, t.data());
    }
    int k = maxElements;
    RangeReader r = dataReader(key, e);
    if (dtype == DType.STRING) {
      return Tensor.ofStrings(TensorShape.of(k), stringHead(key, e, r, k));
    }
    byte[] bytes = r.readFully(e.offset(), k * dtype.elementSize());
    if (header.bigEndian()) {
      bytes = swapToLittleEndian(key, dtype, bytes);
    }
    return Tensor.of(dtype, TensorShape.of(k), bytes);
  }

  /** Reads {@code length} stored bytes at {@code position} of the entry's data file, unchecked. */
  void readPart(String key, BundleEntry e, long position, byte[] into, int offset, int length) {
    if (position < 0 || length < 0 || position + length > e.size()) {
      throw Errors.pastEnd(
          "tensor " + key, dataFile(e.shardId()), key, e.offset() + position, length, e.size());
    }
    dataReader(key, e).readFully(e.offset() + position, into, offset, length);
  }

  /**
   * The first {@code k} strings of a string tensor of {@code n > k} elements. The stored layout is
   * all {@code n} lengths (varints), a 4-byte checksum of them, then the bytes. Every length is
   * scanned, in fixed-size chunks, to find where the bytes start and to check that they add up to
   * the entry size; only the first {@code k} lengths are kept and only their bytes are read.
   */
  private List<byte[]> stringHead(String key, BundleEntry e, RangeReader r, int k) {
    long n = e.shape().numElements();
    long size = e.size();
    long[] lengths = new long[k];
    byte[] chunk = new byte[(int) Math.min(size, 1 << 16)];
    long chunkStart = 0;
    int chunkLen = 0;
    long pos = 0;
    long total = 0;
    long headBytes = 0;
    for (long i = 0; i < n; i++) {
      long value = 0;
      for (int shift = 0; ; shift += 7) {
        if (shift >= 64) {
          throw elementLengths(key, e, "varint longer than 10 bytes at byte " + pos);
        }
        if (pos >= chunkStart + chunkLen) {
          if (pos >= size) {
            throw elementLengths(key, e, "varint runs past the end at byte " + pos);
          }
          chunkStart = pos;
          chunkLen = (int) Math.min(chunk.length, size - pos);
          r.readFully(e.offset() + pos, chunk, 0, chunkLen);
        }
        int b = chunk[(int) (pos - chunkStart)] & 0xFF;
        pos++;
        value |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          break;
        }
      }
      if (value < 0 || value > size) {
        throw elementLengths(
            key,
            e,
            "element "
                + i
                + " claims "
                + Long.toUnsignedString(value)
                + " bytes, more than the entry's "
                + size);
      }
      total += value;
      if (i < k) {
        lengths[(int) i] = value;
        headBytes += value;
      }
    }
    long dataStart = pos + 4;
    if (dataStart > size || total != size - dataStart) {
      throw elementLengths(
          key, e, "string lengths (" + total + " bytes) do not match the entry size " + size);
    }
    if (headBytes > MAX_IN_MEMORY) {
      throw Errors.tooLargeForMemory(key, headBytes);
    }
    List<byte[]> values = new ArrayList<>(k);
    long at = dataStart;
    for (long len : lengths) {
      values.add(r.readFully(e.offset() + at, (int) len));
      at += len;
    }
    return values;
  }

  byte[] swapToLittleEndian(String key, DType dtype, byte[] raw) {
    int w = dtype.swapWidth();
    if (w < 0) {
      throw new UnsupportedCheckpointException(
          "Cannot read tensor "
              + key
              + ": "
              + dtype.displayName()
              + " in a big-endian bundle cannot be byte-swapped");
    }
    for (int i = 0; w > 1 && i + w <= raw.length; i += w) {
      for (int a = i, b = i + w - 1; a < b; a++, b--) {
        byte t = raw[a];
        raw[a] = raw[b];
        raw[b] = t;
      }
    }
    return raw;
  }

  private CorruptCheckpointException elementLengths(String key, BundleEntry e, String reason) {
    String object = (e.dtype() == DType.VARIANT ? "variant" : "string") + " tensor " + key;
    return Errors.badElementLengths(object, dataFile(e.shardId()), key, e.offset(), reason);
  }

  /**
   * Splits a string tensor's stored bytes. Every length is checked against the bytes that remain
   * before any is used, so lengths that wrap around or promise more than the entry holds fail
   * without allocating.
   */
  private List<byte[]> decodeStrings(String key, BundleEntry e, byte[] raw) {
    long n = e.shape().numElements();
    if (n > raw.length) {
      throw elementLengths(key, e, n + " elements cannot fit in " + raw.length + " bytes");
    }
    Varints.Cursor c = new Varints.Cursor(raw, 0, raw.length);
    int[] lengths = new int[(int) n];
    long total = 0;
    try {
      for (int i = 0; i < n; i++) {
        long len = c.varint64();
        if (len < 0 || len > raw.length) {
          throw elementLengths(
              key,
              e,
              "element "
                  + i
                  + " claims "
                  + Long.toUnsignedString(len)
                  + " bytes, more than the entry's "
                  + raw.length);
        }
        lengths[i] = (int) len;
        total += len;
      }
    } catch (MalformedBytesException ex) {
      throw elementLengths(key, e, ex.reason());
    }
    int lengthsEnd = c.position();
    if (lengthsEnd + 4L > raw.length || total != raw.length - lengthsEnd - 4L) {
      throw elementLengths(
          key, e, "string lengths (" + total + " bytes) do not match the entry size " + e.size());
    }
    List<byte[]> values = new ArrayList<>((int) n);
    int pos = lengthsEnd + 4;
    for (int len : lengths) {
      values.add(java.util.Arrays.copyOfRange(raw, pos, pos + len));
      pos += len;
    }
    return values;
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (RangeReader r : dataReaders.values()) {
      try {
        r.close();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    dataReaders.clear();
    indexReader.close();
    if (failure != null) {
      throw failure;
    }
  }
}
