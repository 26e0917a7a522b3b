package io.rebundle.codec.diff;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.exec.Transforms;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.NameMapper;
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

  /**
   * When two values count as equal: {@code |a - b| <= atol + rtol * |b|}, as numpy's {@code
   * allclose} (b is the second checkpoint's, the reference). Both 0: bit-exact. Applies to floating
   * types.
   */
  public record Tolerance(double rtol, double atol) implements Serializable {
    public static final Tolerance EXACT = new Tolerance(0, 0);

    public Tolerance {
      if (!(rtol >= 0) || !(atol >= 0) || Double.isInfinite(rtol) || Double.isInfinite(atol)) {
        throw new IllegalArgumentException(
            "Invalid tolerance: rtol "
                + rtol
                + ", atol "
                + atol
                + " (must be finite and at least 0)");
      }
    }

    boolean exact() {
      return rtol == 0 && atol == 0;
    }
  }

  /**
   * How A's keys meet B's: the mapping rules first, then {@code naming} (A's name after the rules
   * to B's key, e.g. TF1 variable names to TF2 object-graph keys read from a converted checkpoint),
   * and the keys each side may hold alone without that being a difference (a conversion's
   * bookkeeping: the object graph, save_counter, dropped optimizer slots). With {@code casts}, a
   * pair whose floating dtypes differ is compared after casting A's values to B's dtype rather than
   * reported as a mismatch.
   */
  public record Options(
      MappingRules rules,
      Map<String, String> naming,
      java.util.Set<String> expectedOnlyInA,
      java.util.Set<String> expectedOnlyInB,
      boolean casts) {
    public Options {
      naming = Map.copyOf(naming);
      expectedOnlyInA = java.util.Set.copyOf(expectedOnlyInA);
      expectedOnlyInB = java.util.Set.copyOf(expectedOnlyInB);
    }

    public static Options of(MappingRules rules) {
      return new Options(rules, Map.of(), java.util.Set.of(), java.util.Set.of(), false);
    }
  }

  /**
   * The options that check a conversion of A into B ({@code diff --as-converted}): A's keys (after
   * {@code rules}, the --map convert was given) are renamed as convert names them, read back from
   * the object graph(s): a TF2 checkpoint's graph pairs each variable's full_name (its TF1 name)
   * with its key. Keys a conversion adds or drops by design are expected on one side only: the
   * object graph and save_counter of a TF2 side, and a TF2 source's optimizer slots (TF1 output
   * keeps them only with --keep-optimizer; then they match by name like any variable). Casts are
   * compared after casting.
   */
  public static Options asConverted(CheckpointReader a, CheckpointReader b, MappingRules rules) {
    Map<String, String> keyOfName = new LinkedHashMap<>(); // TF1 name (full_name) -> B's key
    java.util.Set<String> expectedB = new java.util.HashSet<>();
    java.util.Set<String> expectedA = new java.util.HashSet<>();
    Map<String, String> nameOfKeyA = new LinkedHashMap<>(); // A's key -> TF1 name, for a TF2 A
    if (b.isObjectBased()) {
      expectedB.add(io.rebundle.codec.bundle.Naming.OBJECT_GRAPH_KEY);
      for (ObjectGraph.Node n : b.objectGraph().nodes()) {
        for (ObjectGraph.Attribute at : n.attributes()) {
          if (!at.fullName().isEmpty()) {
            keyOfName.putIfAbsent(at.fullName(), at.checkpointKey());
          }
        }
      }
      saveCounterKeys(b.objectGraph(), expectedB);
    }
    if (a.isObjectBased()) {
      expectedA.add(io.rebundle.codec.bundle.Naming.OBJECT_GRAPH_KEY);
      ObjectGraph ga = a.objectGraph();
      for (ObjectGraph.Node n : ga.nodes()) {
        for (ObjectGraph.Attribute at : n.attributes()) {
          if (!at.fullName().isEmpty()) {
            nameOfKeyA.putIfAbsent(at.checkpointKey(), at.fullName());
          }
        }
      }
      saveCounterKeys(ga, expectedA);
      for (IndexRecord r : a.records()) {
        if (r.name().contains(io.rebundle.codec.graph.KeyEscaping.OPTIMIZER_SLOT + "/")) {
          expectedA.add(r.name());
        }
      }
    }
    Map<String, String> naming = new LinkedHashMap<>();
    if (a.isObjectBased() && b.isObjectBased()) {
      nameOfKeyA.forEach(
          (key, name) -> {
            String kb = keyOfName.get(name);
            if (kb != null && !kb.equals(key)) {
              naming.put(key, kb);
            }
          });
    } else if (a.isObjectBased()) {
      nameOfKeyA.forEach(
          (key, name) -> {
            if (!name.equals(key)) {
              naming.put(key, name);
            }
          });
    } else if (b.isObjectBased()) {
      keyOfName.forEach(
          (name, key) -> {
            if (!name.equals(key)) {
              naming.put(name, key);
            }
          });
    }
    return new Options(rules, naming, expectedA, expectedB, true);
  }

  /**
   * The options that check a conversion of A into B by the naming a conversion recorded or would
   * use, rather than what B's object graph says: {@code renamed} pairs A's keys with B's (a convert
   * report's {@code renamed} list, or a plan made here as convert would make it, which already
   * applied convert's --map, so no further rules apply), and A's {@code dropped} keys are expected
   * in A only. B's object graph and save_counter (when B is a TF2 checkpoint) are expected in B
   * only. A key renamed to several targets pairs with the first. Casts are compared after casting.
   */
  public static Options asPlanned(
      CheckpointReader b,
      List<io.rebundle.codec.plan.MigrationPlan.Renamed> renamed,
      java.util.Collection<String> dropped) {
    Map<String, String> naming = new LinkedHashMap<>();
    for (io.rebundle.codec.plan.MigrationPlan.Renamed r : renamed) {
      naming.putIfAbsent(r.from(), r.to());
    }
    java.util.Set<String> expectedB = new java.util.HashSet<>();
    if (b.isObjectBased()) {
      expectedB.add(io.rebundle.codec.bundle.Naming.OBJECT_GRAPH_KEY);
      saveCounterKeys(b.objectGraph(), expectedB);
    }
    return new Options(
        MappingRules.none(), naming, new java.util.HashSet<>(dropped), expectedB, true);
  }

  /** The keys of the root's save_counter attribute (TF2 bookkeeping). */
  private static void saveCounterKeys(ObjectGraph g, java.util.Set<String> into) {
    if (g.nodes().isEmpty()) {
      return;
    }
    for (ObjectGraph.Child c : g.node(0).children()) {
      if (c.name().equals("save_counter") && c.nodeId() < g.nodes().size()) {
        g.node(c.nodeId()).attributes().forEach(at -> into.add(at.checkpointKey()));
      }
    }
  }

  /** A key present in both with different dtype or shape. */
  public record Mismatch(
      String key, String keyInB, String dtypeA, String shapeA, String dtypeB, String shapeB)
      implements Serializable {}

  /** A key whose values differ. Differences are NaN for non-floating types. */
  public record ValueDiff(
      String key, String dtype, long elements, long differing, double maxAbs, double maxRel)
      implements Serializable {}

  /** A pair of entries with the same dtype and shape, whose values must be compared. */
  public record Pair(String keyA, BundleEntry a, String keyB, BundleEntry b)
      implements Serializable {}

  /** The comparison of indexes only; value comparisons still to do are in {@code toCompare}. */
  public record KeyDiff(
      List<String> onlyInA,
      List<String> onlyInB,
      List<Mismatch> mismatches,
      List<Pair> toCompare,
      long identical,
      long expectedOnlyInA,
      long expectedOnlyInB)
      implements Serializable {
    public KeyDiff(
        List<String> onlyInA,
        List<String> onlyInB,
        List<Mismatch> mismatches,
        List<Pair> toCompare,
        long identical) {
      this(onlyInA, onlyInB, mismatches, toCompare, identical, 0, 0);
    }
  }

  public record Result(KeyDiff keys, List<ValueDiff> different) {
    public boolean same() {
      return keys.onlyInA().isEmpty()
          && keys.onlyInB().isEmpty()
          && keys.mismatches().isEmpty()
          && different.isEmpty();
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
    return compareKeys(a, b, Options.of(rules));
  }

  /**
   * Compares the indexes as {@code o} says; value comparisons are left in the result's {@code
   * toCompare}.
   */
  public static KeyDiff compareKeys(CheckpointReader a, CheckpointReader b, Options o) {
    MappingRules rules = o.rules();
    Map<String, BundleEntry> ea = entries(a);
    Map<String, BundleEntry> eb = entries(b);
    Map<String, String> aToB = new LinkedHashMap<>();
    if (rules.isEmpty()) {
      ea.keySet().forEach(k -> aToB.put(k, k));
    } else {
      NameMapper.Result m = NameMapper.map(new ArrayList<>(ea.keySet()), rules, a.prefix());
      m.targets().forEach((k, targets) -> targets.forEach(t -> aToB.put(k, t)));
    }
    if (!o.naming().isEmpty()) {
      aToB.replaceAll((k, mapped) -> o.naming().getOrDefault(mapped, mapped));
    }
    long expectedA = 0;
    long expectedB = 0;
    List<String> onlyA = new ArrayList<>();
    List<Mismatch> mismatches = new ArrayList<>();
    List<Pair> pairs = new ArrayList<>();
    long identical = 0;
    java.util.Set<String> seenB = new java.util.HashSet<>();
    for (Map.Entry<String, String> e : aToB.entrySet()) {
      BundleEntry x = ea.get(e.getKey());
      BundleEntry y = eb.get(e.getValue());
      if (y == null) {
        if (o.expectedOnlyInA().contains(e.getKey())) {
          expectedA++;
        } else {
          onlyA.add(e.getKey());
        }
        continue;
      }
      seenB.add(e.getValue());
      boolean castable =
          o.casts()
              && x.dtypeCode() != y.dtypeCode()
              && x.shape().equals(y.shape())
              && !x.isSliced()
              && !y.isSliced()
              && isCastable(x)
              && isCastable(y);
      if (castable) {
        pairs.add(new Pair(e.getKey(), x, e.getValue(), y));
      } else if (x.dtypeCode() != y.dtypeCode() || !x.shape().equals(y.shape())) {
        mismatches.add(
            new Mismatch(
                e.getKey(),
                e.getValue(),
                x.dtypeName(),
                x.shape().toString(),
                y.dtypeName(),
                y.shape().toString()));
      } else if (x.isSliced() || y.isSliced()) {
        if (!x.slices().equals(y.slices())) {
          mismatches.add(
              new Mismatch(
                  e.getKey(),
                  e.getValue(),
                  x.dtypeName() + " sliced " + x.slices(),
                  x.shape().toString(),
                  y.dtypeName() + " sliced " + y.slices(),
                  y.shape().toString()));
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
        if (o.expectedOnlyInB().contains(k)) {
          expectedB++;
        } else {
          onlyB.add(k);
        }
      }
    }
    return new KeyDiff(onlyA, onlyB, mismatches, pairs, identical, expectedA, expectedB);
  }

  /** A floating dtype a conversion may cast to or from (MappingRules' casts are between these). */
  private static boolean isCastable(BundleEntry e) {
    try {
      return e.dtype().isFloating();
    } catch (RuntimeException unknown) {
      return false;
    }
  }

  /** {@code u} rounded to {@code to}'s precision, as a cast to it would store it. */
  static double castTo(double u, DType to) {
    return switch (to) {
      case DOUBLE -> u;
      case FLOAT -> (float) u;
      case HALF -> Transforms.halfToFloat(Transforms.floatToHalf((float) u));
      case BFLOAT16 -> Float.intBitsToFloat((Transforms.floatToBfloat16((float) u) & 0xFFFF) << 16);
      default -> throw new IllegalArgumentException("Invalid cast target " + to);
    };
  }

  /**
   * Compares the values of one pair, streaming both in chunks; null if they are equal after all.
   */
  public static ValueDiff compareValues(CheckpointReader a, CheckpointReader b, Pair p, int chunk) {
    return compareValues(a, b, p, chunk, Tolerance.EXACT);
  }

  /**
   * Compares the values of one pair within {@code tol}, streaming both in chunks of the same
   * element count; a pair of different floating dtypes is compared after casting A's values to B's
   * dtype. Null if they are equal (within tolerance) after all.
   */
  public static ValueDiff compareValues(
      CheckpointReader a, CheckpointReader b, Pair p, int chunk, Tolerance tol) {
    DType dtype = p.a().dtype();
    DType dtypeB = p.b().dtype();
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
      return differing == 0
          ? null
          : new ValueDiff(p.keyA(), dtype.displayName(), n, differing, Double.NaN, Double.NaN);
    }
    boolean cast = dtype != dtypeB;
    // One pass per side: the bytes compared are also the bytes checksummed.
    a.checkSize(p.keyA(), p.a());
    b.checkSize(p.keyB(), p.b());
    java.util.zip.CRC32C crcA = new java.util.zip.CRC32C();
    java.util.zip.CRC32C crcB = new java.util.zip.CRC32C();
    int elemA = dtype.elementSize();
    int elemB = dtypeB.elementSize();
    int perChunk = Math.max(1, chunk / Math.max(elemA, elemB));
    byte[] bx = new byte[perChunk * elemA];
    byte[] by = new byte[perChunk * elemB];
    long differing = 0;
    double maxAbs = dtype.isFloating() ? 0 : Double.NaN;
    double maxRel = maxAbs;
    for (long done = 0; done < n; done += perChunk) {
      int count = (int) Math.min(perChunk, n - done);
      int lenA = count * elemA;
      int lenB = count * elemB;
      a.readRange(p.keyA(), p.a(), done * elemA, bx, 0, lenA);
      b.readRange(p.keyB(), p.b(), done * elemB, by, 0, lenB);
      crcA.update(bx, 0, lenA);
      crcB.update(by, 0, lenB);
      ByteBuffer fx = ByteBuffer.wrap(bx).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer fy = ByteBuffer.wrap(by).order(ByteOrder.LITTLE_ENDIAN);
      for (int e = 0; e < count; e++) {
        int i = e * elemA;
        int j = e * elemB;
        if (!cast && java.util.Arrays.equals(bx, i, i + elemA, by, j, j + elemB)) {
          continue;
        }
        if (!dtype.isFloating()) {
          differing++;
          continue;
        }
        double u = value(fx, i, dtype);
        double v = value(fy, j, dtypeB);
        if (cast) {
          u = castTo(u, dtypeB);
        }
        if (Double.isNaN(u) && Double.isNaN(v) || u == v) {
          continue;
        }
        double abs = Math.abs(u - v);
        if (Double.isNaN(abs)) {
          abs = Double.POSITIVE_INFINITY;
        }
        if (!tol.exact() && abs <= tol.atol() + tol.rtol() * Math.abs(v)) {
          continue;
        }
        differing++;
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
    String name = cast ? dtype.displayName() + "->" + dtypeB.displayName() : dtype.displayName();
    return differing == 0 ? null : new ValueDiff(p.keyA(), name, n, differing, maxAbs, maxRel);
  }

  /** Compares the values of every pair, in order; the differences found. */
  public static List<ValueDiff> compareAll(
      CheckpointReader a, CheckpointReader b, java.util.Iterator<Pair> pairs) {
    return compareAll(a, b, pairs, Tolerance.EXACT);
  }

  /**
   * As {@link #compareAll(CheckpointReader, CheckpointReader, java.util.Iterator)}, within {@code
   * tol}.
   */
  public static List<ValueDiff> compareAll(
      CheckpointReader a, CheckpointReader b, java.util.Iterator<Pair> pairs, Tolerance tol) {
    List<ValueDiff> different = new ArrayList<>();
    while (pairs.hasNext()) {
      ValueDiff d = compareValues(a, b, pairs.next(), 1 << 20, tol);
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
    try (CheckpointReader a = CheckpointReader.open(io, pathA);
        CheckpointReader b = CheckpointReader.open(io, pathB)) {
      KeyDiff keys = compareKeys(a, b, rules);
      return new Result(keys, compareAll(a, b, keys.toCompare().iterator()));
    }
  }
}
