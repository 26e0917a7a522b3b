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
