package io.rebundle.jobs.audit;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.graph.AttributeTensors;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.codec.stats.TensorStats;
import io.rebundle.codec.util.Crc32c;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Produces the rows of {@link TensorColumns#SCHEMA} for one {@link CheckpointWork}, lazily, one
 * tensor at a time: the index is read block by block; a tensor's bytes are read (only when a data
 * column is asked for) once, through one buffer, into statistics, CRC and fingerprint together. A
 * tensor whose bytes cannot be read gets a row with {@code problem_kind}/{@code problem} set rather
 * than failing the scan; a checkpoint whose index cannot be read fails it, unless {@code
 * ignoreCorruptFiles}, which yields no rows for it.
 */
public final class TensorScanner implements Iterator<Object[]>, AutoCloseable {
  /** Problem kinds a row can carry (the audit's finding kinds). */
  public static final String CRC_MISMATCH = "crc_mismatch";

  public static final String MISSING_SHARD = "missing_shard";
  public static final String TRUNCATED = "truncated";
  public static final String UNREADABLE = "unreadable";

  private final FileIO io;
  private final CheckpointWork work;
  private final ScanOptions options;
  private final byte[] buffer;
  private CheckpointReader reader;
  private Iterator<IndexRecord> records;
  private boolean tf2;
  private Map<String, String[]> graphNames = Map.of();
  private final Map<Integer, Long> shardLengths = new HashMap<>();
  private Object[] next;

  public TensorScanner(FileIO io, CheckpointWork work, ScanOptions options, byte[] buffer) {
    this.io = io;
    this.work = work;
    this.options = options;
    this.buffer = buffer;
    try {
      reader = CheckpointReader.openPrefix(io, work.prefix());
      records = reader.records().iterator();
      tf2 = reader.isObjectBased();
      if (tf2 && options.readGraph()) {
        graphNames = graphNames(reader);
      }
    } catch (RebundleException | UncheckedIOException e) {
      closeQuietly();
      if (!options.ignoreCorruptFiles()) {
        throw e;
      }
      records = java.util.Collections.emptyIterator();
    }
  }

  /** checkpoint key -> {full_name, object_path}; empty if the graph cannot be read. */
  private static Map<String, String[]> graphNames(CheckpointReader reader) {
    ObjectGraph g;
    try {
      g = reader.objectGraph();
    } catch (RebundleException e) {
      return Map.of(); // the audit reports the unreadable graph through verify's check
    }
    String[] paths = g.objectPaths();
    Map<String, String[]> out = new java.util.TreeMap<>();
    for (ObjectGraph.Node n : g.nodes()) {
      for (ObjectGraph.Attribute a : n.attributes()) {
        String path = paths[n.id()] == null ? null : paths[n.id()];
        out.put(
            a.checkpointKey(), new String[] {a.fullName().isEmpty() ? null : a.fullName(), path});
      }
    }
    return out;
  }

  @Override
  public boolean hasNext() {
    while (next == null && records.hasNext()) {
      IndexRecord rec;
      try {
        rec = records.next();
      } catch (RebundleException e) {
        if (!options.ignoreCorruptFiles()) {
          throw e;
        }
        records = java.util.Collections.emptyIterator();
        break;
      }
      if (rec.isSliceEntry()) {
        continue;
      }
      String key = rec.name();
      if (!work.covers(key) || !options.accepts(key, rec.entry().dtypeName())) {
        continue;
      }
      next = row(key, rec.entry());
    }
    return next != null;
  }

  @Override
  public Object[] next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Object[] r = next;
    next = null;
    return r;
  }

  private Object[] row(String key, BundleEntry e) {
    Object[] row = new Object[TensorColumns.NAMES.size()];
    row[0] = work.prefix();
    row[1] = tf2 ? "tf2" : "tf1";
    row[2] = key;
    String[] names = graphNames.get(key);
    if (names == null && graphNames instanceof java.util.TreeMap<String, String[]> byKey) {
      // One of the tensors of an attribute saved as several (docs/object-graph-attributes.md).
      String attribute = byKey.floorKey(key);
      if (attribute != null && AttributeTensors.belongs(attribute, key)) {
        names = byKey.get(attribute);
      }
    }
    if (names != null) {
      row[3] = names[0];
      row[4] = names[1];
    }
    row[5] = e.dtypeName();
    row[6] = e.shape().dims();
    row[7] = e.shape().numElements();
    row[8] = e.size();
    if (!e.isSliced()) {
      row[9] = e.shardId();
      row[10] = e.offset();
      row[11] = Integer.toUnsignedLong(Crc32c.unmask(e.crc32c()));
    }
    row[26] = OptimizerSlots.isOptimizerKey(key, tf2);
    if (options.readData()) {
      fillData(row, key, e);
    }
    return row;
  }

  private void fillData(Object[] row, String key, BundleEntry e) {
    if (e.isSliced()) {
      row[27] = "sliced";
      row[28] =
          "tensor "
              + key
              + " is stored as slices; statistics are computed for unsliced tensors only";
      return;
    }
    if (!DType.isKnown(e.dtypeCode())) {
      row[27] = UNREADABLE;
      row[28] = "unknown dtype code " + e.dtypeCode();
      return;
    }
    TensorDigest.Result result = work.merged().get(key);
    try {
      if (result == null) {
        String problem = locate(key, e, row);
        if (problem != null) {
          return;
        }
        reader.checkSize(key, e);
        DType dtype = e.dtype();
        TensorDigest.Accumulator acc =
            TensorDigest.accumulate(
                dtype,
                e.shape().numElements(),
                reader.header().bigEndian(),
                0,
                e.size(),
                options.readStats());
        long at = 0;
        while (at < e.size()) {
          int n = (int) Math.min(buffer.length, e.size() - at);
          reader.readRange(key, e, at, buffer, 0, n);
          acc.update(buffer, 0, n);
          at += n;
        }
        result = TensorDigest.combine(dtype, e.shape(), e.size(), List.of(acc.finish()));
      }
    } catch (RebundleException | UncheckedIOException ex) {
      row[27] = ex instanceof UncheckedIOException ? UNREADABLE : TRUNCATED;
      row[28] = ex.getMessage();
      return;
    }
    fillResult(row, key, e, result);
  }

  /**
   * Checks the shard exists and holds the tensor's bytes; sets the row's problem and returns it if
   * not.
   */
  private String locate(String key, BundleEntry e, Object[] row) {
    int numShards = reader.header().numShards();
    String file = e.shardId() < numShards ? reader.dataFile(e.shardId()) : null;
    if (file == null) {
      row[27] = UNREADABLE;
      row[28] =
          String.format(
              "Cannot read tensor %s: entry names shard %d but %s has %d shards",
              key, e.shardId(), reader.indexFile(), numShards);
      return (String) row[28];
    }
    Long length = shardLengths.get(e.shardId());
    if (length == null) {
      InputFile in = io.newInputFile(file);
      length = in.exists() ? in.length() : -1L;
      shardLengths.put(e.shardId(), length);
    }
    if (length < 0) {
      row[27] = MISSING_SHARD;
      row[28] =
          "Cannot read tensor "
              + key
              + ": data file "
              + file
              + " (shard "
              + e.shardId()
              + " of "
              + numShards
              + ") is missing";
      return (String) row[28];
    }
    if (e.offset() > length || e.size() > length - e.offset()) {
      row[27] = TRUNCATED;
      row[28] =
          String.format(
              "Cannot read tensor %s: bytes [%d, %d) lie past the end of %s (%d bytes)",
              key, e.offset(), e.offset() + e.size(), file, length);
      return (String) row[28];
    }
    return null;
  }

  private void fillResult(Object[] row, String key, BundleEntry e, TensorDigest.Result result) {
    int stored = Crc32c.unmask(e.crc32c());
    boolean ok = stored == result.crc32c();
    row[12] = ok;
    if (!ok) {
      // CheckpointReader's (and so verify's) wording.
      row[27] = CRC_MISMATCH;
      row[28] =
          String.format(
              "Checksum mismatch for tensor %s in %s (shard %d, offset %d, %d bytes): stored %08x, computed %08x",
              key,
              reader.dataFile(e.shardId()),
              e.shardId(),
              e.offset(),
              e.size(),
              stored,
              result.crc32c());
    }
    TensorStats s = result.stats();
    if (s != null) {
      row[13] = s.nanCount();
      row[14] = s.posInfCount();
      row[15] = s.negInfCount();
      row[16] = s.zeroCount();
      row[17] = s.negativeCount();
      row[18] = s.positiveCount();
      row[19] = s.minOrNull();
      row[20] = s.maxOrNull();
      row[21] = s.meanOrNull();
      row[22] = s.stdOrNull();
      row[23] = s.l2NormOrNull();
      row[24] = s.absMaxOrNull();
    }
    row[25] = result.fingerprintHex();
  }

  /**
   * Reads bytes [{@code start}, {@code start + length}) of one tensor into a partial result: the
   * planner's byte-range tasks for tensors too big for one task.
   */
  public static TensorDigest.Partial partial(
      FileIO io, String prefix, String key, long start, long length, boolean stats, byte[] buffer) {
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      BundleEntry e = r.entry(key);
      r.checkSize(key, e);
      TensorDigest.Accumulator acc =
          TensorDigest.accumulate(
              e.dtype(), e.shape().numElements(), r.header().bigEndian(), start, length, stats);
      long at = start;
      while (at < start + length) {
        int n = (int) Math.min(buffer.length, start + length - at);
        r.readRange(key, e, at, buffer, 0, n);
        acc.update(buffer, 0, n);
        at += n;
      }
      return acc.finish();
    }
  }

  private void closeQuietly() {
    if (reader != null) {
      try {
        reader.close();
      } catch (RuntimeException ignored) {
        // Closing a reader that failed to open matters less than the failure itself.
      }
      reader = null;
    }
  }

  @Override
  public void close() {
    closeQuietly();
  }
}
