package io.rebundle.codec.source;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.diff.CheckpointDiff;
import io.rebundle.codec.exec.Transforms;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.NameMapper;
import io.rebundle.codec.source.TensorSource.SourceTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code diff} between any two {@link TensorSource}s (a safetensors model against a checkpoint, or
 * two safetensors models), with the same result type and the same rules as {@link CheckpointDiff}:
 * A's names go through the mapping rules, then keys only in A or B, dtype/shape mismatches and
 * value differences are reported. safetensors stores no checksums, so every matched pair is
 * compared byte by byte, streaming both sides through fixed buffers. In-process; one thread.
 */
public final class SourceDiff {
  private SourceDiff() {}

  /** The whole comparison, reading values in chunks of {@code chunk} bytes. */
  public static CheckpointDiff.Result run(
      TensorSource a, TensorSource b, MappingRules rules, int chunk) {
    Map<String, SourceTensor> ta = new LinkedHashMap<>();
    a.tensors().forEach(t -> ta.put(t.name(), t));
    Map<String, String> aToB = new LinkedHashMap<>();
    if (rules.isEmpty()) {
      ta.keySet().forEach(k -> aToB.put(k, k));
    } else {
      NameMapper.Result m = NameMapper.map(new ArrayList<>(ta.keySet()), rules, a.location());
      m.targets().forEach((k, targets) -> targets.forEach(t -> aToB.put(k, t)));
    }
    List<String> onlyA = new ArrayList<>();
    List<CheckpointDiff.Mismatch> mismatches = new ArrayList<>();
    List<CheckpointDiff.Pair> pairs = new ArrayList<>();
    List<CheckpointDiff.ValueDiff> different = new ArrayList<>();
    Set<String> seenB = new HashSet<>();
    for (Map.Entry<String, String> e : aToB.entrySet()) {
      SourceTensor x = ta.get(e.getKey());
      SourceTensor y = b.find(e.getValue());
      if (y == null) {
        onlyA.add(e.getKey());
        continue;
      }
      seenB.add(e.getValue());
      if (x.dtype() != y.dtype() || !x.shape().equals(y.shape()) || x.size() != y.size()) {
        mismatches.add(
            new CheckpointDiff.Mismatch(
                e.getKey(),
                e.getValue(),
                x.dtype().displayName(),
                x.shape().toString(),
                y.dtype().displayName(),
                y.shape().toString()));
        continue;
      }
      pairs.add(new CheckpointDiff.Pair(e.getKey(), entry(x), e.getValue(), entry(y)));
      CheckpointDiff.ValueDiff d = compare(a, x, b, y, e.getKey(), chunk);
      if (d != null) {
        different.add(d);
      }
    }
    List<String> onlyB = new ArrayList<>();
    for (SourceTensor t : b.tensors()) {
      if (!seenB.contains(t.name())) {
        onlyB.add(t.name());
      }
    }
    return new CheckpointDiff.Result(
        new CheckpointDiff.KeyDiff(onlyA, onlyB, mismatches, pairs, 0), different);
  }

  private static BundleEntry entry(SourceTensor t) {
    return BundleEntry.of(t.dtype(), t.shape(), t.file(), 0, t.size(), 0);
  }

  /** Compares two tensors of one dtype and shape; null when their bytes are equal. */
  static CheckpointDiff.ValueDiff compare(
      TensorSource a, SourceTensor x, TensorSource b, SourceTensor y, String key, int chunk) {
    DType dtype = x.dtype();
    long n = x.shape().numElements();
    int elem = dtype.isFixedSize() ? dtype.elementSize() : 1;
    int step = Math.max(elem, chunk / elem * elem);
    byte[] bx = new byte[(int) Math.min(step, Math.max(x.size(), 1))];
    byte[] by = new byte[bx.length];
    step = Math.max(elem, bx.length / elem * elem);
    long differing = 0;
    boolean floating = dtype.isFloating();
    double maxAbs = floating ? 0 : Double.NaN;
    double maxRel = maxAbs;
    ByteBuffer fx = ByteBuffer.wrap(bx).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer fy = ByteBuffer.wrap(by).order(ByteOrder.LITTLE_ENDIAN);
    for (long pos = 0; pos < x.size(); pos += step) {
      int len = (int) Math.min(step, x.size() - pos);
      a.readRange(x, pos, bx, 0, len);
      b.readRange(y, pos, by, 0, len);
      for (int i = 0; i + elem <= len; i += elem) {
        if (java.util.Arrays.equals(bx, i, i + elem, by, i, i + elem)) {
          continue;
        }
        if (!floating) {
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
    return differing == 0
        ? null
        : new CheckpointDiff.ValueDiff(key, dtype.displayName(), n, differing, maxAbs, maxRel);
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
}
