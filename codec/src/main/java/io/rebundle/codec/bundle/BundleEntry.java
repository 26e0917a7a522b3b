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
