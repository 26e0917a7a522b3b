package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.util.Bytes;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One entry of the output index and where its bytes come from: one record per variant, so a variant
 * never carries fields of another. Serializable: plans travel to executors.
 *
 * <ul>
 *   <li>{@link Copy}: the stored bytes of a source entry, copied unchanged with their CRC verified.
 *   <li>{@link Literal}: bytes the planner made (save_counter, the object graph).
 *   <li>{@link MergedSlices}: a full tensor assembled from the stored slices of a partitioned one.
 *   <li>{@link SlicedEntry}: the full entry of a sliced tensor; it has no bytes of its own.
 *   <li>{@link Transformed}: a source tensor whose bytes change on the way (cast, transpose,
 *       reshape).
 * </ul>
 *
 * <p>Variants read from a checkpoint ({@link FromSource}) name it by {@code sourcePrefix}; null
 * means the migration's own source, anything else another checkpoint (a template's value).
 */
public sealed interface PlannedTensor extends Serializable
    permits PlannedTensor.FromSource, PlannedTensor.Literal {

  /** The variant as a name, for reports and counting. */
  enum Kind {
    COPY,
    LITERAL,
    MERGE_SLICES,
    SLICED,
    TRANSFORM
  }

  byte[] targetKey();

  TensorShape shape();

  /** Bytes this entry owns in a data file (0 for {@link SlicedEntry}). */
  long size();

  Kind kind();

  /** The output dtype's display name (a copied unknown dtype keeps its code: {@code dtype<N>}). */
  String dtypeName();

  /** The output entry's dtype code. */
  int dtypeCode();

  /** Whether this entry owns bytes in a data file. */
  default boolean hasData() {
    return true;
  }

  /** The target key as text; binary slice keys are rendered printable. */
  default String targetName() {
    return name(targetKey());
  }

  /** The source key as text, or {@code (generated)}. */
  String sourceName();

  /** The output entry once the bytes are placed. */
  BundleEntry toEntry(int shard, long offset, int maskedCrc);

  /** A variant whose bytes (or metadata) come from a stored entry of a checkpoint. */
  sealed interface FromSource extends PlannedTensor
      permits Copy, MergedSlices, SlicedEntry, Transformed {
    byte[] sourceKey();

    /** The stored source entry (for merges and sliced entries: the full entry). */
    BundleEntry sourceEntry();

    /** The checkpoint holding the source entry; null for the migration's source. */
    String sourcePrefix();

    @Override
    default String sourceName() {
      return name(sourceKey());
    }
  }

  /** One stored slice of a tensor to merge. */
  record SlicePart(TensorSlice slice, byte[] sourceKey, BundleEntry entry)
      implements Serializable {}

  /** The stored bytes of {@code sourceEntry}, unchanged under a (possibly) new key. */
  record Copy(byte[] targetKey, byte[] sourceKey, BundleEntry sourceEntry, String sourcePrefix)
      implements FromSource {
    /**
     * The same copy read from another checkpoint (a template) instead of the migration's source.
     */
    public Copy from(String prefix) {
      return new Copy(targetKey, sourceKey, sourceEntry, prefix);
    }

    @Override
    public TensorShape shape() {
      return sourceEntry.shape();
    }

    @Override
    public long size() {
      return sourceEntry.size();
    }

    @Override
    public Kind kind() {
      return Kind.COPY;
    }

    @Override
    public String dtypeName() {
      return sourceEntry.dtypeName();
    }

    @Override
    public int dtypeCode() {
      return sourceEntry.dtypeCode();
    }

    @Override
    public BundleEntry toEntry(int shard, long offset, int maskedCrc) {
      return new BundleEntry(
          sourceEntry.dtypeCode(),
          sourceEntry.shape(),
          shard,
          offset,
          sourceEntry.size(),
          maskedCrc,
          List.of());
    }
  }

  /** Bytes made by the planner, with their masked CRC32C. */
  record Literal(byte[] targetKey, DType dtype, TensorShape shape, byte[] bytes, int maskedCrc)
      implements PlannedTensor {
    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public Kind kind() {
      return Kind.LITERAL;
    }

    @Override
    public String dtypeName() {
      return dtype.displayName();
    }

    @Override
    public int dtypeCode() {
      return dtype.code();
    }

    @Override
    public String sourceName() {
      return "(generated)";
    }

    @Override
    public BundleEntry toEntry(int shard, long offset, int crc) {
      return new BundleEntry(dtype.code(), shape, shard, offset, bytes.length, crc, List.of());
    }
  }

  /** A full tensor assembled from {@code parts}, the stored slices of {@code sourceEntry}. */
  record MergedSlices(
      byte[] targetKey,
      byte[] sourceKey,
      BundleEntry sourceEntry,
      List<SlicePart> parts,
      String sourcePrefix)
      implements FromSource {
    public MergedSlices {
      parts = List.copyOf(parts);
    }

    public DType dtype() {
      return sourceEntry.dtype();
    }

    @Override
    public TensorShape shape() {
      return sourceEntry.shape();
    }

    @Override
    public long size() {
      return sourceEntry.shape().numElements() * sourceEntry.dtype().elementSize();
    }

    @Override
    public Kind kind() {
      return Kind.MERGE_SLICES;
    }

    @Override
    public String dtypeName() {
      return sourceEntry.dtypeName();
    }

    @Override
    public int dtypeCode() {
      return sourceEntry.dtypeCode();
    }

    @Override
    public BundleEntry toEntry(int shard, long offset, int maskedCrc) {
      return new BundleEntry(
          sourceEntry.dtypeCode(), shape(), shard, offset, size(), maskedCrc, List.of());
    }
  }

  /**
   * The full entry of a sliced tensor, written as metadata only: its slices are separate copies.
   */
  record SlicedEntry(byte[] targetKey, byte[] sourceKey, BundleEntry sourceEntry)
      implements FromSource {
    @Override
    public String sourcePrefix() {
      return null;
    }

    @Override
    public TensorShape shape() {
      return sourceEntry.shape();
    }

    @Override
    public long size() {
      return 0;
    }

    @Override
    public boolean hasData() {
      return false;
    }

    @Override
    public Kind kind() {
      return Kind.SLICED;
    }

    @Override
    public String dtypeName() {
      return sourceEntry.dtypeName();
    }

    @Override
    public int dtypeCode() {
      return sourceEntry.dtypeCode();
    }

    @Override
    public BundleEntry toEntry(int shard, long offset, int maskedCrc) {
      return BundleEntry.sliced(sourceEntry.dtype(), sourceEntry.shape(), sourceEntry.slices());
    }
  }

  /**
   * {@code sourceEntry} changed by {@code transform} into {@code dtype} {@code shape}, {@code size}
   * bytes.
   */
  record Transformed(
      byte[] targetKey,
      byte[] sourceKey,
      BundleEntry sourceEntry,
      MappingRules.Transform transform,
      DType dtype,
      TensorShape shape,
      long size,
      String sourcePrefix)
      implements FromSource {
    @Override
    public Kind kind() {
      return Kind.TRANSFORM;
    }

    @Override
    public String dtypeName() {
      return dtype.displayName();
    }

    @Override
    public int dtypeCode() {
      return dtype.code();
    }

    @Override
    public BundleEntry toEntry(int shard, long offset, int maskedCrc) {
      return new BundleEntry(dtype.code(), shape, shard, offset, size, maskedCrc, List.of());
    }
  }

  static Copy copy(byte[] targetKey, byte[] sourceKey, BundleEntry source) {
    return new Copy(targetKey, sourceKey, source, null);
  }

  static Literal literal(
      byte[] targetKey, DType dtype, TensorShape shape, byte[] bytes, int maskedCrc) {
    return new Literal(targetKey, dtype, shape, bytes, maskedCrc);
  }

  static SlicedEntry sliced(byte[] targetKey, byte[] sourceKey, BundleEntry full) {
    return new SlicedEntry(targetKey, sourceKey, full);
  }

  static MergedSlices merge(
      byte[] targetKey, byte[] sourceKey, BundleEntry full, List<SlicePart> parts) {
    return new MergedSlices(targetKey, sourceKey, full, parts, null);
  }

  /**
   * A copy whose bytes change on the way: a dtype cast, a transpose or a reshape. Refuses
   * transforms that cannot apply to the source ({@link MigrationException}).
   */
  static Transformed transform(
      byte[] targetKey, byte[] sourceKey, BundleEntry source, MappingRules.Transform transform) {
    DType from = source.dtype();
    TensorShape shape = source.shape();
    DType dtype = from;
    if (transform.cast() != null) {
      if (!from.isFloating()) {
        throw new MigrationException(
            "Cannot cast "
                + Bytes.printable(sourceKey)
                + " ("
                + from.displayName()
                + ") to "
                + transform.cast().displayName()
                + ": only floating-point tensors can be cast");
      }
      dtype = transform.cast();
    } else if (transform.reshape() != null) {
      TensorShape to;
      try {
        to = TensorShape.of(transform.reshape());
      } catch (IllegalArgumentException e) {
        throw new MigrationException(
            "Cannot reshape " + Bytes.printable(sourceKey) + ": " + e.getMessage());
      }
      if (to.numElements() != shape.numElements()) {
        throw new MigrationException(
            "Cannot reshape "
                + Bytes.printable(sourceKey)
                + " from "
                + shape
                + " to "
                + to
                + ": "
                + shape.numElements()
                + " elements do not fit "
                + to.numElements());
      }
      shape = to;
    } else {
      int[] perm = transform.transpose();
      if (!isPermutation(perm, shape.rank())) {
        throw new MigrationException(
            "Cannot transpose "
                + Bytes.printable(sourceKey)
                + " "
                + shape
                + " by "
                + Arrays.toString(perm)
                + ": not a permutation of its "
                + shape.rank()
                + " dimensions");
      }
      if (!from.isFixedSize()) {
        throw new MigrationException(
            "Cannot transpose "
                + Bytes.printable(sourceKey)
                + ": "
                + from.displayName()
                + " tensors have no fixed element size");
      }
      long[] d = new long[perm.length];
      for (int i = 0; i < perm.length; i++) {
        d[i] = shape.dim(perm[i]);
      }
      shape = TensorShape.of(d);
    }
    long size = dtype.isFixedSize() ? shape.numElements() * dtype.elementSize() : source.size();
    return new Transformed(targetKey, sourceKey, source, transform, dtype, shape, size, null);
  }

  /** Whether {@code perm} is a permutation of {@code 0..rank-1}. */
  static boolean isPermutation(int[] perm, int rank) {
    if (perm == null || perm.length != rank) {
      return false;
    }
    boolean[] seen = new boolean[rank];
    for (int p : perm) {
      if (p < 0 || p >= rank || seen[p]) {
        return false;
      }
      seen[p] = true;
    }
    return true;
  }

  private static String name(byte[] key) {
    return SliceKeys.isSliceKey(key)
        ? Bytes.printable(key)
        : new String(key, StandardCharsets.UTF_8);
  }
}
