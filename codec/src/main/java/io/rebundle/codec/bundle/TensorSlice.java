package io.rebundle.codec.bundle;

import io.rebundle.codec.proto.TensorSliceProto;
import java.util.ArrayList;
import java.util.List;

/**
 * A rectangular part of a tensor (tensorbundle-format.md §3.5): one extent per dimension, each a
 * start and a length, or "full" (length -1, start 0). Text form as TensorFlow prints it: extents
 * joined by {@code :}, each {@code start,length} or {@code -}, e.g. {@code 0,2:-}.
 */
public record TensorSlice(List<Extent> extents) implements java.io.Serializable {
  public TensorSlice {
    extents = List.copyOf(extents);
  }

  /** One dimension of a slice. */
  public record Extent(long start, long length) implements java.io.Serializable {
    public static final Extent FULL = new Extent(0, -1);

    public Extent {
      if (length == -1 ? start != 0 : (start < 0 || length < 0)) {
        throw new IllegalArgumentException(
            "Invalid slice extent: start " + start + ", length " + length);
      }
    }

    public boolean isFull() {
      return length == -1;
    }

    long resolvedStart() {
      return start;
    }

    long resolvedLength(long dim) {
      return isFull() ? dim : length;
    }

    @Override
    public String toString() {
      return isFull() ? "-" : start + "," + length;
    }
  }

  public int rank() {
    return extents.size();
  }

  public Extent extent(int i) {
    return extents.get(i);
  }

  /** The whole tensor of the given rank. */
  public static TensorSlice full(int rank) {
    List<Extent> e = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      e.add(Extent.FULL);
    }
    return new TensorSlice(e);
  }

  /** Parses the text form; throws {@link IllegalArgumentException} on bad syntax. */
  public static TensorSlice parse(String text) {
    List<Extent> e = new ArrayList<>();
    for (String part : text.split(":", -1)) {
      if (part.isEmpty()) {
        continue;
      }
      if (part.equals("-")) {
        e.add(Extent.FULL);
        continue;
      }
      String[] sl = part.split(",", -1);
      if (sl.length != 2) {
        throw new IllegalArgumentException("Invalid slice: " + text);
      }
      try {
        long start = Long.parseLong(sl[0].trim());
        long length = Long.parseLong(sl[1].trim());
        if (length == -1 && start == 0) {
          e.add(Extent.FULL);
        } else if (start < 0 || length <= 0) {
          throw new IllegalArgumentException("Invalid slice: " + text + " (extent " + part + ")");
        } else {
          e.add(new Extent(start, length));
        }
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("Invalid slice: " + text, ex);
      }
    }
    return new TensorSlice(e);
  }

  /** Whether the slice covers all of {@code shape}. */
  public boolean coversAll(TensorShape shape) {
    for (int i = 0; i < extents.size(); i++) {
      Extent x = extents.get(i);
      if (!x.isFull() && !(x.start() == 0 && x.length() == shape.dim(i))) {
        return false;
      }
    }
    return true;
  }

  /** Why the slice does not fit {@code shape}, or null if it does. */
  public String problemWith(TensorShape shape) {
    if (extents.size() != shape.rank()) {
      return "slice " + this + " has rank " + extents.size() + ", tensor has rank " + shape.rank();
    }
    for (int i = 0; i < extents.size(); i++) {
      Extent x = extents.get(i);
      if (!x.isFull() && (x.start() > shape.dim(i) || x.length() > shape.dim(i) - x.start())) {
        return "extent in dimension " + i + " out of bounds: " + x + " of " + shape.dim(i);
      }
    }
    return null;
  }

  /** The shape of the part this slice selects from a tensor of {@code full} shape. */
  public TensorShape sliceShape(TensorShape full) {
    long[] d = new long[extents.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = extents.get(i).resolvedLength(full.dim(i));
    }
    return TensorShape.of(d);
  }

  public long start(int dim) {
    return extents.get(dim).resolvedStart();
  }

  public long length(int dim, TensorShape full) {
    return extents.get(dim).resolvedLength(full.dim(dim));
  }

  public TensorSliceProto toProto() {
    TensorSliceProto.Builder b = TensorSliceProto.newBuilder();
    for (Extent x : extents) {
      TensorSliceProto.Extent.Builder e = TensorSliceProto.Extent.newBuilder();
      if (!x.isFull()) {
        e.setStart(x.start()).setLength(x.length());
      }
      b.addExtent(e);
    }
    return b.build();
  }

  /** Decodes a slice; throws {@link IllegalArgumentException} for impossible extents. */
  public static TensorSlice fromProto(TensorSliceProto proto) {
    List<Extent> e = new ArrayList<>();
    for (TensorSliceProto.Extent x : proto.getExtentList()) {
      if (x.getHasLengthCase() == TensorSliceProto.Extent.HasLengthCase.LENGTH
          && x.getLength() != -1) {
        e.add(new Extent(x.getStart(), x.getLength()));
      } else {
        if (x.getStart() != 0) {
          throw new IllegalArgumentException(
              "Invalid slice extent: full dimension with start " + x.getStart());
        }
        e.add(Extent.FULL);
      }
    }
    return new TensorSlice(e);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < extents.size(); i++) {
      if (i > 0) {
        sb.append(':');
      }
      sb.append(extents.get(i));
    }
    return sb.toString();
  }
}
