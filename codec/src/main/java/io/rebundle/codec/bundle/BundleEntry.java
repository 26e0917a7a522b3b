package io.rebundle.codec.bundle;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.proto.BundleEntryProto;
import io.rebundle.codec.proto.TensorSliceProto;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata of one tensor (tensorbundle-format.md §3.3): dtype, shape, and where its bytes lie
 * (shard, offset, size, masked CRC32C). A non-empty {@code slices} list marks the full entry of a
 * sliced tensor, whose bytes live in separate slice entries. The dtype is kept as TensorFlow's
 * number so that unknown codes can be listed and reported rather than failing the whole index.
 */
public record BundleEntry(
    int dtypeCode,
    TensorShape shape,
    int shardId,
    long offset,
    long size,
    int crc32c,
    List<TensorSlice> slices)
    implements java.io.Serializable {

  public BundleEntry {
    if (shardId < 0 || offset < 0 || size < 0) {
      throw new IllegalArgumentException(
          "Invalid bundle entry: shard " + shardId + ", offset " + offset + ", size " + size);
    }
    slices = List.copyOf(slices);
  }

  public static BundleEntry of(
      DType dtype, TensorShape shape, int shardId, long offset, long size, int crc32c) {
    return new BundleEntry(dtype.code(), shape, shardId, offset, size, crc32c, List.of());
  }

  /** The full entry of a sliced tensor. */
  public static BundleEntry sliced(DType dtype, TensorShape shape, List<TensorSlice> slices) {
    return new BundleEntry(dtype.code(), shape, 0, 0, 0, 0, slices);
  }

  public DType dtype() {
    return DType.fromCode(dtypeCode);
  }

  public boolean isSliced() {
    return !slices.isEmpty();
  }

  public BundleEntry withLocation(int newShard, long newOffset) {
    return new BundleEntry(dtypeCode, shape, newShard, newOffset, size, crc32c, slices);
  }

  public BundleEntry withSlices(List<TensorSlice> newSlices) {
    return new BundleEntry(dtypeCode, shape, shardId, offset, size, crc32c, newSlices);
  }

  /** Serialized exactly as TensorFlow's C++ protobuf does (fields in order, zeros omitted). */
  public byte[] encode() {
    BundleEntryProto.Builder b =
        BundleEntryProto.newBuilder()
            .setDtype(dtypeCode)
            .setShape(shape.toProto())
            .setShardId(shardId)
            .setOffset(offset)
            .setSize(size)
            .setCrc32C(crc32c);
    for (TensorSlice s : slices) {
      b.addSlices(s.toProto());
    }
    return b.build().toByteArray();
  }

  /** Decodes the entry stored under {@code key}; bad bytes raise a corruption naming both. */
  public static BundleEntry decode(byte[] value, String indexFile, String key) {
    BundleEntry common = decodeCommon(value, null);
    return common != null ? common : decodeWithProtobuf(value, indexFile, key);
  }

  /**
   * As {@link #decode(byte[], String, String)} for a binary key, which is rendered for a message
   * only when the entry is bad; shapes come from {@code shapes} (may be null), so the entries of an
   * index share one instance (and its cached text) per shape they repeat.
   */
  static BundleEntry decode(byte[] value, String indexFile, byte[] key, TensorShape.Recent shapes) {
    BundleEntry common = decodeCommon(value, shapes);
    return common != null
        ? common
        : decodeWithProtobuf(value, indexFile, io.rebundle.codec.util.Bytes.printable(key));
  }

  /**
   * The entry of almost every index, read directly from its wire bytes: the scalar fields and a
   * shape of plain dims, each with the wire type its field declares. Anything else (slices, unknown
   * fields, a repeated shape, a malformed or negative value, an invalid shape) returns null, and
   * the protobuf parser decides, with its own messages. Where both accept, they agree: protobuf's
   * rules are followed (a repeated scalar field keeps its last value; an int32 is the low 32 bits
   * of a varint of up to ten bytes; a shape's unknown_rank is read and ignored, as {@link
   * TensorShape#fromProtoOrNull} ignores it). Named dims go to protobuf, which checks the name.
   */
  static BundleEntry decodeCommon(byte[] b, TensorShape.Recent shapes) {
    WireCursor c = new WireCursor(b, 0, b.length);
    int dtype = 0;
    int shard = 0;
    long offset = 0;
    long size = 0;
    int crc = 0;
    TensorShape shape = null;
    while (c.pos < c.end) {
      int tag = b[c.pos++];
      switch (tag) {
        case 0x08 -> dtype = (int) c.varint();
        case 0x12 -> {
          if (shape != null) {
            return null; // a second shape would merge into the first: protobuf's to decide
          }
          int len = c.length();
          if (len < 0) {
            return null;
          }
          shape = shape(new WireCursor(b, c.pos, c.pos + len), shapes);
          if (shape == null) {
            return null;
          }
          c.pos += len;
        }
        case 0x18 -> shard = (int) c.varint();
        case 0x20 -> offset = c.varint();
        case 0x28 -> size = c.varint();
        case 0x35 -> {
          if (c.end - c.pos < 4) {
            return null;
          }
          crc =
              (b[c.pos] & 0xFF)
                  | (b[c.pos + 1] & 0xFF) << 8
                  | (b[c.pos + 2] & 0xFF) << 16
                  | (b[c.pos + 3] & 0xFF) << 24;
          c.pos += 4;
        }
        default -> {
          return null;
        }
      }
      if (c.bad) {
        return null;
      }
    }
    if (shard < 0 || offset < 0 || size < 0) {
      return null;
    }
    if (shape == null) {
      shape = TensorShape.SCALAR;
    }
    return new BundleEntry(dtype, shape, shard, offset, size, crc, List.of());
  }

  /** A TensorShapeProto of dims only (and unknown_rank); null if anything else or invalid. */
  private static TensorShape shape(WireCursor c, TensorShape.Recent shapes) {
    long[] dims = new long[4];
    int rank = 0;
    while (c.pos < c.end) {
      int tag = c.bytes[c.pos++];
      if (tag == 0x12) {
        int len = c.length();
        if (len < 0) {
          return null;
        }
        WireCursor d = new WireCursor(c.bytes, c.pos, c.pos + len);
        long dimSize = 0;
        while (d.pos < d.end) {
          int dimTag = d.bytes[d.pos++];
          if (dimTag == 0x08) {
            dimSize = d.varint();
          } else {
            // A dim's name (which proto3 requires to be UTF-8) or any other field.
            return null;
          }
          if (d.bad) {
            return null;
          }
        }
        if (rank == dims.length) {
          if (rank > TensorShape.MAX_RANK) {
            return null;
          }
          dims = java.util.Arrays.copyOf(dims, rank * 2);
        }
        dims[rank++] = dimSize;
        c.pos += len;
      } else if (tag == 0x18) {
        c.varint();
      } else {
        return null;
      }
      if (c.bad) {
        return null;
      }
    }
    return shapes != null
        ? shapes.of(dims, rank)
        : TensorShape.ofOrNull(java.util.Arrays.copyOf(dims, rank));
  }

  /** Reads varints within {@code [pos, end)} of a byte array; {@code bad} once one is malformed. */
  private static final class WireCursor {
    final byte[] bytes;
    int pos;
    final int end;
    boolean bad;

    WireCursor(byte[] bytes, int pos, int end) {
      this.bytes = bytes;
      this.pos = pos;
      this.end = end;
    }

    /** A varint of up to ten bytes; bits past the 64th are dropped, as protobuf drops them. */
    long varint() {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          bad = true;
          return 0;
        }
        byte x = bytes[pos++];
        result |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return result;
        }
      }
      bad = true;
      return 0;
    }

    /** A length prefix that fits in what remains, or -1. */
    int length() {
      long n = varint();
      return bad || n < 0 || n > end - pos ? -1 : (int) n;
    }
  }

  static BundleEntry decodeWithProtobuf(byte[] value, String indexFile, String key) {
    BundleEntryProto p;
    try {
      p = BundleEntryProto.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptCheckpointException(
          "Cannot read "
              + indexFile
              + ": entry for key "
              + key
              + " not parseable: "
              + e.getMessage());
    }
    TensorShape shape = TensorShape.fromProtoOrNull(p.getShape());
    if (shape == null) {
      throw new CorruptCheckpointException(
          "Cannot read "
              + indexFile
              + ": invalid tensor shape for key "
              + key
              + ": "
              + p.getShape().getDimList().stream().map(d -> Long.toString(d.getSize())).toList());
    }
    if (p.getShardId() < 0 || p.getOffset() < 0 || p.getSize() < 0) {
      throw new CorruptCheckpointException(
          String.format(
              "Cannot read %s: entry for key %s has negative location: shard %d, offset %d, size %d",
              indexFile, key, p.getShardId(), p.getOffset(), p.getSize()));
    }
    List<TensorSlice> slices = new ArrayList<>(p.getSlicesCount());
    for (TensorSliceProto s : p.getSlicesList()) {
      TensorSlice slice;
      try {
        slice = TensorSlice.fromProto(s);
      } catch (IllegalArgumentException e) {
        throw new CorruptCheckpointException(
            "Cannot read "
                + indexFile
                + ": entry for key "
                + key
                + " has an invalid slice: "
                + e.getMessage());
      }
      String problem = slice.problemWith(shape);
      if (problem != null) {
        throw new CorruptCheckpointException(
            "Cannot read " + indexFile + ": entry for key " + key + ": " + problem);
      }
      slices.add(slice);
    }
    return new BundleEntry(
        p.getDtype(), shape, p.getShardId(), p.getOffset(), p.getSize(), p.getCrc32C(), slices);
  }

  /** The dtype's display name, or {@code dtype<N>} for codes this version does not know. */
  public String dtypeName() {
    return DType.isKnown(dtypeCode)
        ? DType.fromCode(dtypeCode).displayName()
        : "dtype<" + dtypeCode + ">";
  }
}
