package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.util.Bytes;
import java.io.Serializable;
import java.util.List;

/**
 * One entry of the output index and where its bytes come from. Serializable: plans travel to
 * executors.
 *
 * <ul>
 *   <li>{@link Kind#COPY}: the stored bytes of {@code sourceKey} (entry {@code sourceEntry}), copied
 *       unchanged with their CRC verified.
 *   <li>{@link Kind#LITERAL}: bytes the planner made ({@code literal}, with {@code literalCrc}).
 *   <li>{@link Kind#MERGE_SLICES}: a full tensor assembled from the slices of {@code sourceKey}.
 *   <li>{@link Kind#SLICED}: the full entry of a sliced tensor; it has no bytes of its own.
 * </ul>
 */
public record PlannedTensor(byte[] targetKey, Kind kind, DType dtype, TensorShape shape,
    List<TensorSlice> slices, long size, byte[] sourceKey, BundleEntry sourceEntry,
    List<SlicePart> parts, byte[] literal, int literalCrc, MappingRules.Transform transform, String sourcePrefix)
    implements Serializable {

  public enum Kind { COPY, LITERAL, MERGE_SLICES, SLICED, TRANSFORM }

  /** One stored slice of a tensor to merge. */
  public record SlicePart(TensorSlice slice, byte[] sourceKey, BundleEntry entry) implements Serializable {}

  public PlannedTensor {
    slices = slices == null ? List.of() : List.copyOf(slices);
    parts = parts == null ? List.of() : List.copyOf(parts);
  }

  public static PlannedTensor copy(byte[] targetKey, byte[] sourceKey, BundleEntry source) {
    return new PlannedTensor(targetKey, Kind.COPY, DType.isKnown(source.dtypeCode()) ? source.dtype() : null,
        source.shape(), List.of(), source.size(), sourceKey, source, List.of(), null, 0, null, null);
  }

  public static PlannedTensor literal(byte[] targetKey, DType dtype, TensorShape shape, byte[] bytes, int maskedCrc) {
    return new PlannedTensor(targetKey, Kind.LITERAL, dtype, shape, List.of(), bytes.length, null, null,
        List.of(), bytes, maskedCrc, null, null);
  }

  public static PlannedTensor sliced(byte[] targetKey, byte[] sourceKey, BundleEntry full) {
    return new PlannedTensor(targetKey, Kind.SLICED, full.dtype(), full.shape(), full.slices(), 0, sourceKey,
        full, List.of(), null, 0, null, null);
  }

  public static PlannedTensor merge(byte[] targetKey, byte[] sourceKey, BundleEntry full, List<SlicePart> parts) {
    long size = full.shape().numElements() * full.dtype().elementSize();
    return new PlannedTensor(targetKey, Kind.MERGE_SLICES, full.dtype(), full.shape(), List.of(), size,
        sourceKey, full, parts, null, 0, null, null);
  }

  /** A copy whose bytes change on the way: a dtype cast, a transpose or a reshape. */
  public static PlannedTensor transform(byte[] targetKey, byte[] sourceKey, BundleEntry source,
      MappingRules.Transform transform) {
    DType from = source.dtype();
    TensorShape shape = source.shape();
    DType dtype = from;
    if (transform.cast() != null) {
      if (!from.isFloating()) {
        throw new MigrationException("Cannot cast " + Bytes.printable(sourceKey) + " (" + from.displayName()
            + ") to " + transform.cast().displayName() + ": only floating-point tensors can be cast");
      }
      dtype = transform.cast();
    } else if (transform.reshape() != null) {
      TensorShape to;
      try {
        to = TensorShape.of(transform.reshape());
      } catch (IllegalArgumentException e) {
        throw new MigrationException("Cannot reshape " + Bytes.printable(sourceKey) + ": " + e.getMessage());
      }
      if (to.numElements() != shape.numElements()) {
        throw new MigrationException("Cannot reshape " + Bytes.printable(sourceKey) + " from " + shape + " to " + to
            + ": " + shape.numElements() + " elements do not fit " + to.numElements());
      }
      shape = to;
    } else {
      int[] perm = transform.transpose();
      if (!Transforms.isPermutation(perm, shape.rank())) {
        throw new MigrationException("Cannot transpose " + Bytes.printable(sourceKey) + " " + shape + " by "
            + java.util.Arrays.toString(perm) + ": not a permutation of its " + shape.rank() + " dimensions");
      }
      if (!from.isFixedSize()) {
        throw new MigrationException("Cannot transpose " + Bytes.printable(sourceKey) + ": " + from.displayName()
            + " tensors have no fixed element size");
      }
      long[] d = new long[perm.length];
      for (int i = 0; i < perm.length; i++) {
        d[i] = shape.dim(perm[i]);
      }
      shape = TensorShape.of(d);
    }
    long size = dtype.isFixedSize() ? shape.numElements() * dtype.elementSize() : source.size();
    return new PlannedTensor(targetKey, Kind.TRANSFORM, dtype, shape, List.of(), size, sourceKey, source,
        List.of(), null, 0, transform, null);
  }

  /** The same tensor read from another checkpoint (a template) instead of the migration's source. */
  public PlannedTensor from(String prefix) {
    return new PlannedTensor(targetKey, kind, dtype, shape, slices, size, sourceKey, sourceEntry, parts, literal,
        literalCrc, transform, prefix);
  }

  /** Whether this entry owns bytes in a data file. */
  public boolean hasData() {
    return kind != Kind.SLICED;
  }

  /** The target key as text; binary slice keys are rendered printable. */
  public String targetName() {
    return name(targetKey);
  }

  public String sourceName() {
    return sourceKey == null ? "(generated)" : name(sourceKey);
  }

  private static String name(byte[] key) {
    return io.rebundle.codec.bundle.SliceKeys.isSliceKey(key) ? Bytes.printable(key)
        : new String(key, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The output entry once the bytes are placed. */
  public BundleEntry toEntry(int shard, long offset, int maskedCrc) {
    if (kind == Kind.SLICED) {
      return BundleEntry.sliced(dtype, shape, slices);
    }
    int code = kind == Kind.TRANSFORM || sourceEntry == null ? dtype.code() : sourceEntry.dtypeCode();
    return new BundleEntry(code, shape, shard, offset, size, maskedCrc, List.of());
  }
}
