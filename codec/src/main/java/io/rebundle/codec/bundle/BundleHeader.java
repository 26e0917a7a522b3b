package io.rebundle.codec.bundle;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.proto.BundleHeaderProto;
import io.rebundle.codec.proto.VersionDef;
import java.util.List;

/**
 * The value of the index's empty key (tensorbundle-format.md §3.1): number of data files, byte
 * order of the tensor data, format version.
 */
public record BundleHeader(
    int numShards, boolean bigEndian, int producer, int minConsumer, List<Integer> badConsumers) {
  /** Format version TensorFlow writes and reads (kTensorBundleVersion). */
  public static final int VERSION = 1;

  public BundleHeader {
    if (numShards < 0) {
      throw new IllegalArgumentException("Invalid number of shards: " + numShards);
    }
    badConsumers = List.copyOf(badConsumers);
  }

  /** What TensorFlow writes: little-endian, producer 1, min_consumer 0. */
  public static BundleHeader of(int numShards) {
    return new BundleHeader(numShards, false, VERSION, 0, List.of());
  }

  public byte[] encode() {
    BundleHeaderProto.Builder b =
        BundleHeaderProto.newBuilder()
            .setNumShards(numShards)
            .setVersion(
                VersionDef.newBuilder()
                    .setProducer(producer)
                    .setMinConsumer(minConsumer)
                    .addAllBadConsumers(badConsumers));
    if (bigEndian) {
      b.setEndianness(BundleHeaderProto.Endianness.BIG);
    }
    return b.build().toByteArray();
  }

  /**
   * Decodes and checks a header the way TensorFlow does (§3.2): unparsable bytes are corruption,
   * versions this reader cannot consume are unsupported.
   */
  public static BundleHeader decode(byte[] value, String indexFile) {
    BundleHeader plain = decodePlain(value);
    return plain != null ? plain : decodeWithProtobuf(value, indexFile);
  }

  /**
   * The common header read by hand, without protobuf (whose first use, for a small {@code inspect},
   * cost more than the rest of the command: its runtime, the descriptors of the format's messages
   * and java.util.logging): num_shards, endianness and a version of producer and min_consumer, each
   * at most once, as plain varints below 2^31, that pass every check of {@link #decode}. Anything
   * else (other or repeated fields, bad_consumers, values out of range, malformed bytes) returns
   * null, and protobuf decides, with its messages.
   */
  static BundleHeader decodePlain(byte[] b) {
    Cursor top = new Cursor(b, 0, b.length);
    long numShards = 0;
    long endianness = 0;
    long producer = 0;
    long minConsumer = 0;
    int seen = 0;
    while (top.at < top.end) {
      int tag = b[top.at++];
      if (tag == 0x08 && (seen & 1) == 0) { // 1: num_shards, varint
        seen |= 1;
        numShards = top.varint();
      } else if (tag == 0x10 && (seen & 2) == 0) { // 2: endianness, varint
        seen |= 2;
        endianness = top.varint();
      } else if (tag == 0x1a && (seen & 4) == 0) { // 3: version, a VersionDef
        seen |= 4;
        long length = top.varint();
        if (length < 0 || length > top.end - top.at) {
          return null;
        }
        Cursor version = new Cursor(b, top.at, top.at + (int) length);
        int versionSeen = 0;
        while (version.at < version.end) {
          int t = b[version.at++];
          if (t == 0x08 && (versionSeen & 1) == 0) { // 1: producer
            versionSeen |= 1;
            producer = version.varint();
          } else if (t == 0x10 && (versionSeen & 2) == 0) { // 2: min_consumer
            versionSeen |= 2;
            minConsumer = version.varint();
          } else {
            return null; // 3: bad_consumers, or anything else
          }
          if (producer < 0 || minConsumer < 0) {
            return null;
          }
        }
        top.at = version.end;
      } else {
        return null;
      }
      if (numShards < 0 || endianness < 0) {
        return null;
      }
    }
    if (endianness > 1 || minConsumer > VERSION) {
      return null;
    }
    return new BundleHeader(
        (int) numShards, endianness == 1, (int) producer, (int) minConsumer, List.of());
  }

  /** A position in {@code [at, end)} of a message's bytes. */
  private static final class Cursor {
    private final byte[] b;
    private int at;
    private final int end;

    Cursor(byte[] b, int at, int end) {
      this.b = b;
      this.at = at;
      this.end = end;
    }

    /**
     * The varint at {@code at}, moving past it, if it is at most five bytes and below 2^31 (a
     * non-negative int32); -1 otherwise (a negative int32 takes ten bytes), or if it runs past the
     * end.
     */
    long varint() {
      long v = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        if (at >= end) {
          return -1;
        }
        int x = b[at++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v <= Integer.MAX_VALUE ? v : -1;
        }
      }
      return -1;
    }
  }

  /** As {@link #decode}, by protobuf alone. */
  static BundleHeader decodeWithProtobuf(byte[] value, String indexFile) {
    BundleHeaderProto p;
    try {
      p = BundleHeaderProto.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptCheckpointException(
          "Cannot read "
              + indexFile
              + ": unable to parse the bundle header (the entry under the empty key): "
              + e.getMessage());
    }
    if (p.getNumShards() < 0) {
      throw new CorruptCheckpointException(
          "Cannot read " + indexFile + ": invalid num_shards " + p.getNumShards() + " in header");
    }
    VersionDef v = p.getVersion();
    if (v.getProducer() < 0) {
      throw new UnsupportedCheckpointException(
          "Cannot read "
              + indexFile
              + ": checkpoint producer version "
              + v.getProducer()
              + " below min producer 0");
    }
    if (v.getMinConsumer() > VERSION) {
      throw new UnsupportedCheckpointException(
          "Cannot read "
              + indexFile
              + ": checkpoint min consumer version "
              + v.getMinConsumer()
              + " above current version "
              + VERSION
              + "; it was written by a newer TensorFlow");
    }
    if (v.getBadConsumersList().contains(VERSION)) {
      throw new UnsupportedCheckpointException(
          "Cannot read " + indexFile + ": checkpoint disallows consumer version " + VERSION);
    }
    if (p.getEndiannessValue() > 1) {
      throw new UnsupportedCheckpointException(
          "Cannot read " + indexFile + ": unknown endianness " + p.getEndiannessValue());
    }
    return new BundleHeader(
        p.getNumShards(),
        p.getEndianness() == BundleHeaderProto.Endianness.BIG,
        v.getProducer(),
        v.getMinConsumer(),
        v.getBadConsumersList());
  }
}
