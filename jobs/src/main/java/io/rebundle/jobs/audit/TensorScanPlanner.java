package io.rebundle.jobs.audit;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.jobs.discover.CheckpointDiscovery;
import io.rebundle.jobs.discover.DiscoveredCheckpoint;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Plans a tensor scan as byte-range input partitions. Each checkpoint weighs its data bytes (or,
 * when no data column is asked for, its index bytes) plus an open cost; small checkpoints are
 * packed together until a partition reaches {@code maxPartitionBytes}. A checkpoint heavier than
 * that is opened here (index only) and cut into key ranges of about that many bytes, and each
 * tensor bigger than that is cut into byte ranges read by separate Spark tasks, whose partial
 * statistics, CRCs and fingerprints are merged here and handed to the partition that emits the
 * tensor's row.
 */
public final class TensorScanPlanner {
  private TensorScanPlanner() {}

  /** One byte range of one big tensor. */
  record Piece(String prefix, String key, long start, long length, long size)
      implements Serializable {}

  /** What a range task returns: a partial, or why it failed (the tensor is then read whole). */
  record PieceResult(Piece piece, TensorDigest.Partial partial, String failure)
      implements Serializable {}

  /** A plan: the partitions, and the checkpoints discovery found (for callers that want them). */
  public record Plan(
      List<List<CheckpointWork>> partitions, List<DiscoveredCheckpoint> discovered) {}

  public static Plan plan(
      JavaSparkContext jsc,
      FileIO io,
      CheckpointDiscovery.Result discovery,
      ScanOptions options,
      Predicate<String> checkpointFilter) {
    List<CheckpointWork> works = new ArrayList<>();
    List<Long> weights = new ArrayList<>();
    List<Piece> pieces = new ArrayList<>();
    for (DiscoveredCheckpoint c : discovery.checkpoints()) {
      if (!c.hasIndex() || !checkpointFilter.test(c.prefix())) {
        continue;
      }
      long data = c.dataFiles().values().stream().mapToLong(Long::longValue).sum();
      if (!options.readData() || data <= options.splitBytes()) {
        works.add(CheckpointWork.whole(c.prefix()));
        weights.add((options.readData() ? data : c.indexLength()) + options.openCostBytes());
        continue;
      }
      splitCheckpoint(io, c.prefix(), options, works, weights, pieces);
    }
    Map<String, Map<String, TensorDigest.Result>> merged = readPieces(jsc, io, options, pieces);
    if (!merged.isEmpty()) {
      for (int i = 0; i < works.size(); i++) {
        CheckpointWork w = works.get(i);
        Map<String, TensorDigest.Result> m = merged.get(w.prefix());
        if (m != null) {
          Map<String, TensorDigest.Result> mine = new HashMap<>();
          m.forEach(
              (k, v) -> {
                if (w.covers(k)) {
                  mine.put(k, v);
                }
              });
          works.set(i, new CheckpointWork(w.prefix(), w.fromKey(), w.toKey(), mine));
        }
      }
    }
    List<List<CheckpointWork>> partitions = new ArrayList<>();
    List<CheckpointWork> current = new ArrayList<>();
    long load = 0;
    for (int i = 0; i < works.size(); i++) {
      if (!current.isEmpty() && load + weights.get(i) > options.splitBytes()) {
        partitions.add(current);
        current = new ArrayList<>();
        load = 0;
      }
      current.add(works.get(i));
      load += weights.get(i);
    }
    if (!current.isEmpty()) {
      partitions.add(current);
    }
    return new Plan(partitions, discovery.checkpoints());
  }

  /** Cuts a big checkpoint into key ranges of about {@code splitBytes}; big tensors into pieces. */
  private static void splitCheckpoint(
      FileIO io,
      String prefix,
      ScanOptions options,
      List<CheckpointWork> works,
      List<Long> weights,
      List<Piece> pieces) {
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      String from = null;
      long load = 0;
      for (IndexRecord rec : r.records()) {
        if (rec.isSliceEntry()) {
          continue;
        }
        String key = rec.name();
        long size = rec.entry().size();
        if (load > 0 && load + Math.min(size, options.splitBytes()) > options.splitBytes()) {
          works.add(new CheckpointWork(prefix, from, key, Map.of()));
          weights.add(load + options.openCostBytes());
          from = key;
          load = 0;
        }
        boolean splittable =
            !rec.entry().isSliced()
                && DType.isKnown(rec.entry().dtypeCode())
                && TensorDigest.isSplittable(rec.entry().dtype());
        if (splittable
            && size > options.splitBytes()
            && options.accepts(key, rec.entry().dtypeName())) {
          for (long at = 0; at < size; at += options.splitBytes()) {
            pieces.add(new Piece(prefix, key, at, Math.min(options.splitBytes(), size - at), size));
          }
          load += 1; // the row itself is cheap once the pieces are merged
        } else {
          load += size;
        }
      }
      works.add(new CheckpointWork(prefix, from, null, Map.of()));
      weights.add(load + options.openCostBytes());
    } catch (RebundleException | UncheckedIOException e) {
      // The scanner reports (or, with ignoreCorruptFiles, skips) the unreadable index itself.
      works.add(CheckpointWork.whole(prefix));
      weights.add(options.openCostBytes());
    }
  }

  private static Map<String, Map<String, TensorDigest.Result>> readPieces(
      JavaSparkContext jsc, FileIO io, ScanOptions options, List<Piece> pieces) {
    if (pieces.isEmpty()) {
      return Map.of();
    }
    boolean stats = options.readStats();
    List<PieceResult> results =
        jsc.parallelize(pieces, pieces.size())
            .map(
                p -> {
                  byte[] buffer = new byte[CheckpointReader.BUFFER_SIZE];
                  try {
                    return new PieceResult(
                        p,
                        TensorScanner.partial(
                            io, p.prefix(), p.key(), p.start(), p.length(), stats, buffer),
                        null);
                  } catch (RebundleException | UncheckedIOException e) {
                    return new PieceResult(p, null, e.getMessage());
                  }
                })
            .collect();
    Map<String, List<PieceResult>> byTensor = new HashMap<>();
    for (PieceResult r : results) {
      byTensor
          .computeIfAbsent(r.piece().prefix() + "\u0000" + r.piece().key(), k -> new ArrayList<>())
          .add(r);
    }
    Map<String, Map<String, TensorDigest.Result>> out = new HashMap<>();
    for (List<PieceResult> parts : byTensor.values()) {
      if (parts.stream().anyMatch(p -> p.failure() != null)) {
        continue; // read whole by its partition, which reports the problem
      }
      Piece first = parts.get(0).piece();
      try (CheckpointReader r = CheckpointReader.openPrefix(io, first.prefix())) {
        var e = r.entry(first.key());
        TensorDigest.Result res =
            TensorDigest.combine(
                e.dtype(), e.shape(), e.size(), parts.stream().map(PieceResult::partial).toList());
        out.computeIfAbsent(first.prefix(), k -> new HashMap<>()).put(first.key(), res);
      } catch (RebundleException | UncheckedIOException ex) {
        // Leave it to the partition.
      }
    }
    return out;
  }
}
