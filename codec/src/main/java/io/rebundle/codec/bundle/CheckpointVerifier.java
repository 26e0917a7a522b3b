package io.rebundle.codec.bundle;

import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.table.Block;
import io.rebundle.codec.table.BlockHandle;
import io.rebundle.codec.table.TableReader;
import io.rebundle.codec.util.Bytes;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checks every byte of a checkpoint and reports all problems, not just the first. Stricter than
 * TensorFlow's reader: besides every block and tensor checksum it checks what TensorFlow never
 * reads (the metaindex block, the footer padding, gaps between index blocks, data-file bytes no
 * entry covers), so a single flipped byte anywhere is found. Memory is bounded by one index block,
 * one streaming buffer and 16 bytes per entry.
 */
public final class CheckpointVerifier {
  /** One problem: the file, the byte offset (-1 if none applies), the key (null if none), what. */
  public record Finding(String file, long offset, String key, String message) {
    @Override
    public String toString() {
      return file
          + (offset >= 0 ? " @" + offset : "")
          + (key != null ? " [" + key + "]" : "")
          + ": "
          + message;
    }
  }

  /** What was checked. */
  public record Summary(
      String prefix,
      int numShards,
      long tensors,
      long entries,
      long dataBytes,
      List<Finding> findings) {
    public boolean ok() {
      return findings.isEmpty();
    }
  }

  private final FileIO io;
  private final String prefix;
  private final Consumer<Long> progress;
  private final List<Finding> findings = new ArrayList<>();

  private CheckpointVerifier(FileIO io, String prefix, Consumer<Long> progress) {
    this.io = io;
    this.prefix = prefix;
    this.progress = progress;
  }

  /**
   * Verifies the checkpoint at {@code prefix} (already resolved). {@code progress} receives the
   * number of data bytes checked so far, now and then; may be null.
   */
  public static Summary verify(FileIO io, String prefix, Consumer<Long> progress) {
    return new CheckpointVerifier(io, prefix, progress).run();
  }

  private void add(String file, long offset, String key, String message) {
    findings.add(new Finding(file, offset, key, message));
  }

  private Summary run() {
    String indexFile = Naming.indexFile(prefix);
    InputFile index = io.newInputFile(indexFile);
    if (!index.exists()) {
      add(indexFile, -1, null, "index file is missing");
      return new Summary(prefix, 0, 0, 0, 0, findings);
    }
    long tensors = 0;
    long entries = 0;
    long dataBytes = 0;
    int numShards = 0;
    try (RangeReader r = index.open()) {
      TableReader table;
      try {
        table = new TableReader(r);
      } catch (RebundleException e) {
        add(indexFile, -1, null, e.getMessage());
        return new Summary(prefix, 0, 0, 0, 0, findings);
      }
      List<IndexRecord> records = new ArrayList<>();
      BundleHeader header = checkTable(table, indexFile, records);
      if (header == null) {
        return new Summary(prefix, 0, 0, records.size(), 0, findings);
      }
      numShards = header.numShards();
      entries = records.size();
      Set<Integer> present = checkShardFiles(numShards, records);
      Map<String, BundleEntry> byName = new HashMap<>();
      Set<String> sliceKeysSeen = new HashSet<>();
      for (IndexRecord rec : records) {
        if (!rec.isSliceEntry()) {
          byName.put(rec.name(), rec.entry());
        }
      }
      for (IndexRecord rec : records) {
        if (rec.isSliceEntry()) {
          checkSliceEntry(rec, byName, indexFile, sliceKeysSeen);
        } else {
          tensors++;
          if (!DType.isKnown(rec.entry().dtypeCode())) {
            add(indexFile, -1, rec.name(), "unknown dtype code " + rec.entry().dtypeCode());
          }
          if (rec.entry().isSliced()) {
            for (TensorSlice s : rec.entry().slices()) {
              if (!sliceKeysSeen.contains(Bytes.hex(SliceKeys.encode(rec.name(), s)))) {
                add(indexFile, -1, rec.name(), "slice " + s + " has no slice entry");
              }
            }
          }
        }
      }
      if (numShards > CheckpointReader.SHARDS_CHECKED_AT_OPEN && present.size() < numShards) {
        // A reader refuses to open such a checkpoint at all; say so in the reader's words.
        add(
            indexFile,
            0,
            "",
            "the bundle header claims "
                + numShards
                + " shards, but only "
                + present.size()
                + " of their data files exist");
        return new Summary(prefix, numShards, tensors, entries, 0, findings);
      }
      // The data checks read through CheckpointReader: if it refuses the checkpoint (a second
      // header
      // entry with another shard count, say), report why instead of failing the whole verify.
      try (CheckpointReader probe = CheckpointReader.openPrefix(io, prefix)) {
        probe.header();
      } catch (RebundleException e) {
        add(indexFile, -1, null, e.getMessage());
        return new Summary(prefix, numShards, tensors, entries, 0, findings);
      }
      dataBytes = checkData(header, records, present);
      checkObjectGraph(byName);
    } catch (UncheckedIOException e) {
      add(indexFile, -1, null, "storage error: " + e.getMessage());
    }
    return new Summary(prefix, numShards, tensors, entries, dataBytes, findings);
  }

  /** Walks every block of the index; collects records; returns the header or null. */
  private BundleHeader checkTable(TableReader table, String indexFile, List<IndexRecord> records) {
    byte[] footer = table.footerBytes();
    int dirty = table.footer().firstNonCanonicalByte(footer);
    if (dirty >= 0) {
      add(
          indexFile,
          table.footerOffset() + dirty,
          null,
          "footer byte differs from the canonical encoding of its handles (padded varint or non-zero padding)");
    }
    List<long[]> blocks = new ArrayList<>();
    BlockHandle meta = table.footer().metaindex();
    blocks.add(new long[] {meta.offset(), meta.end()});
    blocks.add(new long[] {table.footer().index().offset(), table.footer().index().end()});
    try {
      Block metaBlock = table.readBlock(meta, "metaindex");
      if (metaBlock.iterator().next()) {
        add(
            indexFile,
            meta.offset(),
            null,
            "metaindex block is not empty (TensorFlow writes it empty)");
      }
    } catch (RebundleException e) {
      add(indexFile, meta.offset(), null, e.getMessage());
    }
    List<TableReader.IndexEntry> dataBlocks;
    try {
      dataBlocks = table.indexEntries();
    } catch (RebundleException e) {
      add(indexFile, table.footer().index().offset(), null, e.getMessage());
      return null;
    }
    BundleHeader header = null;
    byte[] previous = null;
    byte[] previousSeparator = null;
    for (TableReader.IndexEntry ie : dataBlocks) {
      BlockHandle h = ie.handle();
      blocks.add(new long[] {h.offset(), h.end()});
      Block block;
      try {
        block = table.readBlock(h, "data");
      } catch (RebundleException e) {
        add(indexFile, h.offset(), null, e.getMessage());
        previous = null;
        continue;
      }
      Block.Iterator it = block.iterator();
      byte[] first = null;
      try {
        while (it.next()) {
          byte[] key = it.key();
          if (first == null) {
            first = key;
          }
          int order = previous == null ? -1 : Arrays.compareUnsigned(previous, key);
          if (order >= 0) {
            add(
                indexFile,
                h.offset(),
                Bytes.printable(key),
                (order == 0 ? "duplicate key " : "out-of-order key ")
                    + Bytes.printable(key)
                    + " (keys must strictly increase)");
          }
          previous = key;
          if (key.length == 0) {
            if (header != null || !records.isEmpty()) {
              add(indexFile, h.offset(), "", "header entry is not the first entry");
            }
            try {
              header = BundleHeader.decode(it.value(), indexFile);
            } catch (RebundleException e) {
              add(indexFile, h.offset(), "", e.getMessage());
            }
            continue;
          }
          String name = Bytes.printable(key);
          try {
            IndexRecord rec = new IndexRecord(key, BundleEntry.decode(it.value(), indexFile, name));
            records.add(rec);
          } catch (RebundleException e) {
            add(indexFile, h.offset(), name, e.getMessage());
          }
        }
      } catch (RebundleException e) {
        add(indexFile, h.offset(), null, e.getMessage());
      }
      if (previousSeparator != null
          && first != null
          && Arrays.compareUnsigned(previousSeparator, first) >= 0) {
        add(
            indexFile,
            h.offset(),
            Bytes.printable(first),
            "index separator of the previous block is not below this block's first key");
      }
      if (previous != null && Arrays.compareUnsigned(previous, ie.separator()) > 0) {
        add(
            indexFile,
            h.offset(),
            Bytes.printable(previous),
            "index separator is below the block's last key");
      }
      previousSeparator = ie.separator();
    }
    blocks.sort((a, b) -> Long.compare(a[0], b[0]));
    long at = 0;
    for (long[] b : blocks) {
      if (b[0] != at) {
        add(
            indexFile,
            Math.min(at, b[0]),
            null,
            b[0] > at
                ? "bytes [" + at + ", " + b[0] + ") belong to no block"
                : "blocks overlap at offset " + b[0]);
      }
      at = Math.max(at, b[1]);
    }
    if (at != table.footerOffset()) {
      add(
          indexFile,
          at,
          null,
          "bytes [" + at + ", " + table.footerOffset() + ") before the footer belong to no block");
    }
    if (header == null && findings.isEmpty()) {
      add(indexFile, 0, "", "no bundle header entry");
    }
    return header;
  }

  /**
   * Checks which data files exist, bounded by what is really there rather than by the header's
   * shard count (a corrupt header may claim 10^9 shards): one directory listing, then a check of
   * each shard some entry refers to. Missing shards no entry refers to are counted, and the first
   * few named. Returns the shards whose data file exists.
   */
  private Set<Integer> checkShardFiles(int numShards, List<IndexRecord> records) {
    String dir = io.parent(prefix);
    String base = io.fileName(prefix) + ".data-";
    String suffix = String.format("-of-%05d", numShards);
    Set<Integer> present = new java.util.TreeSet<>();
    for (String name : io.list(dir.isEmpty() ? "." : dir)) {
      if (!name.startsWith(base) || !name.matches(".*\\.data-\\d{5,}-of-\\d{5,}")) {
        continue;
      }
      String shard = name.substring(base.length(), name.indexOf("-of-", base.length()));
      if (name.endsWith(suffix)
          && shard.length() <= 10
          && Long.parseLong(shard) < numShards
          && name.equals(
              io.fileName(Naming.dataFile(prefix, (int) Long.parseLong(shard), numShards)))) {
        present.add((int) Long.parseLong(shard));
      } else {
        add(
            dir.isEmpty() ? name : io.join(dir, name),
            -1,
            null,
            "data file does not belong to this checkpoint of " + numShards + " shards");
      }
    }
    Set<Integer> referenced = new java.util.TreeSet<>();
    for (IndexRecord rec : records) {
      if (!rec.entry().isSliced() && rec.entry().shardId() < numShards) {
        referenced.add(rec.entry().shardId());
      }
    }
    for (int s : referenced) {
      String f = Naming.dataFile(prefix, s, numShards);
      if (!present.contains(s) && !io.newInputFile(f).exists()) {
        add(f, -1, null, "data file (shard " + s + " of " + numShards + ") is missing");
      } else {
        present.add(s);
      }
    }
    long unreferencedMissing =
        (long) numShards
            - present.size()
            - referenced.stream().filter(s -> !present.contains(s)).count();
    if (unreferencedMissing > 0) {
      List<String> first = new ArrayList<>();
      for (int s = 0; s < numShards && first.size() < 3; s++) {
        if (!present.contains(s) && !referenced.contains(s)) {
          first.add(Naming.dataFile(prefix, s, numShards));
        }
      }
      add(
          first.get(0),
          -1,
          null,
          unreferencedMissing == 1
              ? "data file (shard "
                  + first.get(0).substring(first.get(0).lastIndexOf(".data-") + 6)
                  + ", referenced by no entry) is missing"
              : unreferencedMissing
                  + " of "
                  + numShards
                  + " data files are missing, e.g. "
                  + String.join(", ", first));
    }
    return present;
  }

  private void checkSliceEntry(
      IndexRecord rec, Map<String, BundleEntry> byName, String indexFile, Set<String> seen) {
    SliceKeys.Decoded d;
    try {
      d = SliceKeys.decode(rec.key());
    } catch (MalformedBytesException e) {
      add(indexFile, -1, Bytes.printable(rec.key()), "malformed slice key: " + e.reason());
      return;
    }
    seen.add(Bytes.hex(rec.key()));
    BundleEntry full = byName.get(d.name());
    if (full == null || !full.slices().contains(d.slice())) {
      add(indexFile, -1, rec.name(), "slice entry has no matching full entry for " + d.name());
      return;
    }
    String problem = d.slice().problemWith(full.shape());
    if (problem == null && !d.slice().sliceShape(full.shape()).equals(rec.entry().shape())) {
      problem = "slice entry shape " + rec.entry().shape() + " does not match slice " + d.slice();
    }
    if (problem != null) {
      add(indexFile, -1, rec.name(), problem);
    }
  }

  /**
   * Whether each read of the data files is a request (object stores, HDFS): then read them in file
   * order.
   */
  private boolean numShardsReadAsRequests(BundleHeader header) {
    return header.numShards() > 0
        && io.readsAreRequests(Naming.dataFile(prefix, 0, header.numShards()));
  }

  /**
   * For storage where every read is a request: whole shards dealt to threads (largest first), each
   * thread reading its shards in offset order, so coalesced reads fetch each byte once.
   */
  private static List<List<Integer>> groupsInFileOrder(List<IndexRecord> records, int threads) {
    Map<Integer, List<Integer>> byShard = new java.util.TreeMap<>();
    Map<Integer, Long> shardBytes = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      BundleEntry e = records.get(i).entry();
      if (!e.isSliced()) {
        byShard.computeIfAbsent(e.shardId(), k -> new ArrayList<>()).add(i);
        shardBytes.merge(e.shardId(), e.size(), Long::sum);
      }
    }
    List<Integer> shards = new ArrayList<>(byShard.keySet());
    shards.sort((a, b) -> Long.compare(shardBytes.get(b), shardBytes.get(a)));
    List<List<Integer>> groups = new ArrayList<>();
    long[] load = new long[threads];
    for (int t = 0; t < threads; t++) {
      groups.add(new ArrayList<>());
    }
    for (int shard : shards) {
      int t = 0;
      for (int k = 1; k < threads; k++) {
        if (load[k] < load[t]) {
          t = k;
        }
      }
      List<Integer> inShard = byShard.get(shard);
      inShard.sort(
          (a, b) -> Long.compare(records.get(a).entry().offset(), records.get(b).entry().offset()));
      groups.get(t).addAll(inShard);
      load[t] += shardBytes.get(shard);
    }
    return groups;
  }

  private long checkData(BundleHeader header, List<IndexRecord> records, Set<Integer> present) {
    // Tensors are checked in parallel (one reader and one direct buffer per thread, tensors dealt
    // largest first to the least loaded thread); findings are reported in index order all the same.
    int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 4));
    List<List<Integer>> groups = new ArrayList<>();
    long[] load = new long[threads];
    for (int t = 0; t < threads; t++) {
      groups.add(new ArrayList<>());
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      if (!records.get(i).entry().isSliced()) {
        order.add(i);
      }
    }
    order.sort(
        (a, b) -> Long.compare(records.get(b).entry().size(), records.get(a).entry().size()));
    for (int i : order) {
      int t = 0;
      for (int k = 1; k < threads; k++) {
        if (load[k] < load[t]) {
          t = k;
        }
      }
      groups.get(t).add(i);
      load[t] += records.get(i).entry().size();
    }
    // Direct buffers are freed only by a GC: size them by the largest tensor, not always 4 MiB, so
    // that verifying many small checkpoints in one process does not exhaust direct memory.
    long largest = 0;
    for (IndexRecord rec : records) {
      largest = Math.max(largest, rec.entry().size());
    }
    int bufferSize = (int) Math.max(4096, Math.min(4L * CheckpointReader.BUFFER_SIZE, largest));
    if (numShardsReadAsRequests(header)) {
      groups = groupsInFileOrder(records, threads);
    }
    String[] problems = new String[records.size()];
    java.util.concurrent.atomic.AtomicLong checked = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread th = new Thread(r, "rebundle-verify");
              th.setDaemon(true);
              return th;
            });
    try {
      List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
      for (List<Integer> group : groups) {
        futures.add(
            pool.submit(
                () -> {
                  java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(bufferSize);
                  try (CheckpointReader reader = CheckpointReader.openPrefix(io, prefix)) {
                    reader.willRead(group.stream().map(i -> records.get(i).entry()).toList());
                    for (int i : group) {
                      IndexRecord rec = records.get(i);
                      try {
                        reader.verifyData(rec.name(), rec.entry(), buffer);
                        long done = checked.addAndGet(rec.entry().size());
                        if (progress != null) {
                          synchronized (this) {
                            progress.accept(done);
                          }
                        }
                      } catch (RebundleException ex) {
                        problems[i] = ex.getMessage();
                      }
                    }
                  }
                }));
      }
      for (java.util.concurrent.Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException ex) {
          Throwable cause = ex.getCause();
          if (cause instanceof RuntimeException re) {
            throw re;
          }
          throw new IllegalStateException(cause);
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted while verifying " + prefix, ex);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Map<Integer, List<long[]>> extents = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      BundleEntry e = records.get(i).entry();
      if (e.isSliced()) {
        continue;
      }
      if (problems[i] != null) {
        String file =
            e.shardId() < header.numShards()
                ? Naming.dataFile(prefix, e.shardId(), header.numShards())
                : Naming.indexFile(prefix);
        add(file, e.offset(), records.get(i).name(), problems[i]);
      } else {
        extents
            .computeIfAbsent(e.shardId(), k -> new ArrayList<>())
            .add(new long[] {e.offset(), e.offset() + e.size()});
      }
    }
    for (int s : present) {
      String file = Naming.dataFile(prefix, s, header.numShards());
      InputFile in = io.newInputFile(file);
      if (!in.exists()) {
        continue;
      }
      List<long[]> list = extents.getOrDefault(s, new ArrayList<>());
      list.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
      long at = 0;
      for (long[] x : list) {
        if (x[0] > at) {
          add(file, at, null, "bytes [" + at + ", " + x[0] + ") are covered by no entry");
        } else if (x[0] < at && x[1] > x[0]) {
          add(file, x[0], null, "entries overlap at offset " + x[0]);
        }
        at = Math.max(at, x[1]);
      }
      if (at < in.length()) {
        add(
            file,
            at,
            null,
            "bytes [" + at + ", " + in.length() + ") at the end are covered by no entry");
      }
    }
    return checked.get();
  }

  private void checkObjectGraph(Map<String, BundleEntry> byName) {
    if (!byName.containsKey(Naming.OBJECT_GRAPH_KEY)) {
      return;
    }
    ObjectGraph graph;
    try (CheckpointReader reader = CheckpointReader.openPrefix(io, prefix)) {
      graph = reader.objectGraph();
    } catch (RebundleException e) {
      add(Naming.indexFile(prefix), -1, Naming.OBJECT_GRAPH_KEY, e.getMessage());
      return;
    }
    java.util.NavigableSet<String> keys = new java.util.TreeSet<>(byName.keySet());
    for (ObjectGraph.Node n : graph.nodes()) {
      for (ObjectGraph.Attribute a : n.attributes()) {
        // An attribute saved as several tensors (key plus suffixes) is present too.
        if (AttributeTensors.of(keys, a.checkpointKey()).isEmpty()) {
          add(
              Naming.indexFile(prefix),
              -1,
              Naming.OBJECT_GRAPH_KEY,
              "object graph node "
                  + n.id()
                  + " names checkpoint key "
                  + a.checkpointKey()
                  + ", which is not in the index");
        }
      }
    }
  }
}
