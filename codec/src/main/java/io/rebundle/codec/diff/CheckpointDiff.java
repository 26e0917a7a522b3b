package io.rebundle.codec.diff;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.NameMapper;
import io.rebundle.codec.exec.Transforms;
import io.rebundle.codec.util.Crc32c;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares two checkpoints: keys only in A or only in B (A's keys taken through the mapping rules
 * first), dtype or shape mismatches, and value differences. Equal size and CRC32C count as equal
 * bytes without reading them; otherwise both tensors are streamed in bounded chunks and compared
 * element by element: maximum absolute and relative difference for floating-point types, the count
 * of differing elements for all.
 */
public final class CheckpointDiff {
  private CheckpointDiff() {}

  /** A key present in both with different dtype or shape. */
  public record Mismatch(String key, String keyInB, String dtypeA, String shapeA, String dtypeB, String shapeB)
      implements Serializable {}

  /** A key whose values differ. Differences are NaN for non-floating types. */
  public record ValueDiff(String key, String dtype, long elements, long differing, double maxAbs, double maxRel)
      implements Serializable {}

  /** A pair of entries with the same dtype and shape, whose values must be compared. */
  public record Pair(String keyA, BundleEntry a, String keyB, BundleEntry b) implements Serializable {}

  /** The comparison of indexes only; value comparisons still to do are in {@code toCompare}. */
  public record KeyDiff(List<String> onlyInA, List<String> onlyInB, List<Mismatch> mismatches, List<Pair> toCompare,
      long identical) implements Serializable {}

  public record Result(KeyDiff keys, List<ValueDiff> different) {
    public boolean same() {
      return keys.onlyInA().isEmpty() && keys.onlyInB().isEmpty() && keys.mismatches().isEmpty() && different.isEmpty();
    }

    public long equalTensors() {
      return keys.identical() + keys.toCompare().size() - different.size();
    }
  }

  private static Map<String, BundleEntry> entries(CheckpointReader r) {
    Map<String, BundleEntry> m = new LinkedHashMap<>();
    for (IndexRecord rec : r.records()) {
      m.put(rec.name(), rec.entry());
    }
    return m;
  }

  /** Compares the indexes; value comparisons are left in the result's {@code toCompare}. */
  public static KeyDiff compareKeys(CheckpointReader a, CheckpointReader b, MappingRules rules) {
    Map<String, BundleEntry> ea = entries(a);
    Map<String, BundleEntry> eb = entries(b);
    Map<String, String> aToB = new LinkedHashMap<>();
    if (rules.isEmpty()) {
      ea.keySet().forEach(k -> aToB.put(k, k));
    } else {
      NameMapper.Result m = NameMapper.map(new ArrayList<>(ea.keySet()), rules, a.prefix());
      m.targets().forEach((k, targets) -> targets.forEach(t -> aToB.put(k, t)));
    }
    List<String> onlyA = new ArrayList<>();
    List<Mismatch> mismatches = new ArrayList<>();
    List<Pair> pairs = new ArrayList<>();
    long identical = 0;
    java.util.Set<String> seenB = new java.util.HashSet<>();
    for (Map.Entry<String, String> e : aToB.entrySet()) {
      BundleEntry x = ea.get(e.getKey());
      BundleEntry y = eb.get(e.getValue());
      if (y == null) {
        onlyA.add(e.getKey());
        continue;
      }
      seenB.add(e.getValue());
      if (x.dtypeCode() != y.dtypeCode() || !x.shape().equals(y.shape())) {
        mismatches.add(new Mismatch(e.getKey(), e.getValue(), x.dtypeName(), x.shape().toString(), y.dtypeName(),
            y.shape().toString()));
      } else if (x.isSliced() || y.isSliced()) {
        if (!x.slices().equals(y.slices())) {
          mismatches.add(new Mismatch(e.getKey(), e.getValue(), x.dtypeName() + " sliced " + x.slices(),
              x.shape().toString(), y.dtypeName() + " sliced " + y.slices(), y.shape().toString()));
        } else {
          identical++;
        }
      } else if (x.size() == y.size() && x.crc32c() == y.crc32c()) {
        identical++;
      } else {
        pairs.add(new Pair(e.getKey(), x, e.getValue(), y));
      }
    }
    List<String> onlyB = new ArrayList<>();
    for (String k : eb.keySet()) {
      if (!seenB.contains(k)) {
        onlyB.add(k);
      }
    }
    return new KeyDiff(onlyA, onlyB, mismatches, pairs, identical);
  }

  /** Compares the values of one pair, streaming both in chunks; null if they are equal after all. */
  public static ValueDiff compareValues(CheckpointReader a, CheckpointReader b, Pair p, int chunk) {
    DType dtype = p.a().dtype();
    long n = p.a().shape().numElements();
    if (!dtype.isFixedSize()) {
      Tensor x = a.read(p.keyA(), p.a());
      Tensor y = b.read(p.keyB(), p.b());
      if (dtype != DType.STRING) {
        return new ValueDiff(p.keyA(), dtype.displayName(), n, n, Double.NaN, Double.NaN);
      }
      long differing = 0;
      for (int i = 0; i < n; i++) {
        if (!java.util.Arrays.equals(x.strings().get(i), y.strings().get(i))) {
          differing++;
        }
      }
      return differing == 0 ? null : new ValueDiff(p.keyA(), dtype.displayName(), n, differing, Double.NaN, Double.NaN);
    }
    // One pass per side: the bytes compared are also the bytes checksummed.
    a.checkSize(p.keyA(), p.a());
    b.checkSize(p.keyB(), p.b());
    java.util.zip.CRC32C crcA = new java.util.zip.CRC32C();
    java.util.zip.CRC32C crcB = new java.util.zip.CRC32C();
    int elem = dtype.elementSize();
    int step = Math.max(elem, chunk / elem * elem);
    byte[] bx = new byte[step];
    byte[] by = new byte[step];
    long differing = 0;
    double maxAbs = dtype.isFloating() ? 0 : Double.NaN;
    double maxRel = maxAbs;
    for (long pos = 0; pos < p.a().size(); pos += step) {
      int len = (int) Math.min(step, p.a().size() - pos);
      a.readRange(p.keyA(), p.a(), pos, bx, 0, len);
      b.readRange(p.keyB(), p.b(), pos, by, 0, len);
      crcA.update(bx, 0, len);
      crcB.update(by, 0, len);
      ByteBuffer fx = ByteBuffer.wrap(bx).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer fy = ByteBuffer.wrap(by).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < len; i += elem) {
        if (java.util.Arrays.equals(bx, i, i + elem, by, i, i + elem)) {
          continue;
        }
        if (!dtype.isFloating()) {
          differing++;
          continue;
        }
        double u = value(fx, i, dtype);
        double v = value(fy, i, dtype);
        if (Double.isNaN(u) && Double.isNaN(v)) {
          continue;
        }
        differing++;
        double abs = Math.abs(u - v);
        if (Double.isNaN(abs)) {
          abs = Double.POSITIVE_INFINITY;
        }
        double scale = Math.max(Math.abs(u), Math.abs(v));
        double rel = scale == 0 ? 0 : abs / scale;
        maxAbs = Math.max(maxAbs, abs);
        maxRel = Math.max(maxRel, Double.isNaN(rel) ? Double.POSITIVE_INFINITY : rel);
      }
    }
    if (Crc32c.mask((int) crcA.getValue()) != p.a().crc32c()) {
      a.verifyData(p.keyA(), p.a(), new byte[chunk]); // throws the reader's own checksum error
    }
    if (Crc32c.mask((int) crcB.getValue()) != p.b().crc32c()) {
      b.verifyData(p.keyB(), p.b(), new byte[chunk]);
    }
    return differing == 0 ? null : new ValueDiff(p.keyA(), dtype.displayName(), n, differing, maxAbs, maxRel);
  }

  /** Compares the values of every pair, in order; the differences found. */
  public static List<ValueDiff> compareAll(CheckpointReader a, CheckpointReader b, java.util.Iterator<Pair> pairs) {
    List<ValueDiff> different = new ArrayList<>();
    while (pairs.hasNext()) {
      ValueDiff d = compareValues(a, b, pairs.next(), 1 << 20);
      if (d != null) {
        different.add(d);
      }
    }
    return different;
  }

  private static double value(ByteBuffer b, int i, DType dtype) {
    return switch (dtype) {
      case FLOAT -> b.getFloat(i);
      case DOUBLE -> b.getDouble(i);
      case HALF -> Transforms.halfToFloat(b.getShort(i));
      case BFLOAT16 -> Float.intBitsToFloat((b.getShort(i) & 0xFFFF) << 16);
      default -> throw new IllegalArgumentException("Invalid floating dtype " + dtype);
    };
  }

  /** The whole comparison in this process. */
  public static Result run(FileIO io, String pathA, String pathB, MappingRules rules) {
    try (CheckpointReader a = CheckpointReader.open(io, pathA); CheckpointReader b = CheckpointReader.open(io, pathB)) {
      KeyDiff keys = compareKeys(a, b, rules);
      return new Result(keys, compareAll(a, b, keys.toCompare().iterator()));
    }
  }
}
