package io.rebundle.codec.bundle;

import io.rebundle.codec.proto.TensorShapeProto;
import java.util.Arrays;

/**
 * A tensor's dimensions, outermost first (tensorbundle-format.md §3.4). A scalar has no dimensions.
 * Immutable.
 */
public final class TensorShape implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** TensorFlow's limit on the number of dimensions. */
  public static final int MAX_RANK = 254;

  public static final TensorShape SCALAR = new TensorShape(new long[0]);

  private final long[] dims;
  private final long numElements;

  private TensorShape(long[] dims) {
    this.dims = dims;
    long n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, d);
    }
    this.numElements = n;
  }

  /**
   * A shape; throws {@link IllegalArgumentException} for negative sizes, overflow or rank > 254.
   */
  public static TensorShape of(long... dims) {
    String problem = problem(dims);
    if (problem != null) {
      throw new IllegalArgumentException(
          "Invalid tensor shape " + Arrays.toString(dims) + ": " + problem);
    }
    return new TensorShape(dims.clone());
  }

  /** Why the dims are not a valid shape, or null if they are. */
  static String problem(long[] dims) {
    if (dims.length > MAX_RANK) {
      return "rank " + dims.length + " exceeds " + MAX_RANK;
    }
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        return "negative dimension " + d;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return "element count overflows int64";
      }
    }
    return null;
  }

  public int rank() {
    return dims.length;
  }

  public long dim(int i) {
    return dims[i];
  }

  public long[] dims() {
    return dims.clone();
  }

  public long numElements() {
    return numElements;
  }

  public boolean isScalar() {
    return dims.length == 0;
  }

  public TensorShapeProto toProto() {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  /** A shape of {@code dims} (not copied), or null if they are invalid. */
  static TensorShape ofOrNull(long[] dims) {
    return problem(dims) == null ? new TensorShape(dims) : null;
  }

  /** Whether this shape's dims are the first {@code rank} of {@code d}. */
  boolean hasDims(long[] d, int rank) {
    return rank == dims.length && Arrays.equals(dims, 0, rank, d, 0, rank);
  }

  /**
   * The shapes an index reader made last, in 64 slots chosen by the dims' hash: the entries of an
   * index repeat a few shapes (a model's layers), and each repeat gets the same instance, whose
   * text is then made once. Not thread-safe; one per iteration.
   */
  static final class Recent {
    private final TensorShape[] slots = new TensorShape[64];

    /** The shape of the first {@code rank} of {@code dims} (not kept), or null if invalid. */
    TensorShape of(long[] dims, int rank) {
      int h = 1;
      for (int i = 0; i < rank; i++) {
        h = 31 * h + Long.hashCode(dims[i]);
      }
      int slot = (h ^ (h >>> 16)) & (slots.length - 1);
      TensorShape cached = slots[slot];
      if (cached != null && cached.hasDims(dims, rank)) {
        return cached;
      }
      TensorShape made = ofOrNull(Arrays.copyOf(dims, rank));
      if (made != null) {
        slots[slot] = made;
      }
      return made;
    }
  }

  /** Decodes a shape; returns null if it is invalid (the caller reports with its own context). */
  static TensorShape fromProtoOrNull(TensorShapeProto proto) {
    long[] d = new long[proto.getDimCount()];
    for (int i = 0; i < d.length; i++) {
      d[i] = proto.getDim(i).getSize();
    }
    return problem(d) == null ? new TensorShape(d) : null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorShape other && Arrays.equals(dims, other.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  /** numpy-style: {@code [2, 3]}, {@code []} for scalars. */
  @Override
  public String toString() {
    String t = text;
    if (t == null) {
      t = format();
      text = t;
    }
    return t;
  }

  /** The text of {@link #toString()}, kept once made: listings print each shape repeatedly. */
  private transient String text;

  private String format() {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(dims[i]);
    }
    return sb.append(']').toString();
  }
}
