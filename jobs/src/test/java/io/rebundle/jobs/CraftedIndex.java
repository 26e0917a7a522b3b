package io.rebundle.jobs;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.table.Block;
import io.rebundle.codec.table.BlockBuilder;
import io.rebundle.codec.table.BlockHandle;
import io.rebundle.codec.table.Footer;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds checksum-valid but malformed indexes, as a buggy writer or a hostile file would: entries
 * in any order (duplicates too), any bundle header, arbitrary restart points. Every block carries a
 * correct CRC, so only the structure is wrong. Made at test time; nothing is committed.
 */
public final class CraftedIndex {
  private final List<byte[][]> entries = new ArrayList<>();
  private Integer restartOverride;

  public static CraftedIndex withHeader(int numShards) {
    return new CraftedIndex().add(new byte[0], BundleHeader.of(numShards).encode());
  }

  public CraftedIndex add(byte[] key, byte[] value) {
    entries.add(new byte[][] {key, value});
    return this;
  }

  public CraftedIndex add(String key, BundleEntry entry) {
    return add(key.getBytes(StandardCharsets.UTF_8), entry.encode());
  }

  /**
   * Replaces the first restart point of the data block with {@code value} (e.g. a negative one).
   */
  public CraftedIndex restartPoint(int value) {
    this.restartOverride = value;
    return this;
  }

  public byte[] bytes() {
    BlockBuilder data = new BlockBuilder(16);
    for (byte[][] e : entries) {
      data.add(e[0], e[1]);
    }
    byte[] contents = data.finish();
    if (restartOverride != null) {
      int numRestarts = Varints.getFixed32(contents, contents.length - 4);
      Varints.putFixed32(contents, contents.length - 4 * (numRestarts + 1), restartOverride);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BlockHandle dataHandle = writeBlock(out, contents);
    BlockHandle meta = writeBlock(out, new BlockBuilder(16).finish());
    BlockBuilder index = new BlockBuilder(1);
    index.add(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, dataHandle.encode());
    BlockHandle indexHandle = writeBlock(out, index.finish());
    out.writeBytes(new Footer(meta, indexHandle).encode());
    return out.toByteArray();
  }

  private static BlockHandle writeBlock(ByteArrayOutputStream out, byte[] contents) {
    BlockHandle h = new BlockHandle(out.size(), contents.length);
    byte[] trailer = new byte[Block.TRAILER_SIZE];
    trailer[0] = Block.NO_COMPRESSION;
    byte[] covered = new byte[contents.length + 1];
    System.arraycopy(contents, 0, covered, 0, contents.length);
    Varints.putFixed32(trailer, 1, Crc32c.mask(Crc32c.of(covered)));
    out.writeBytes(contents);
    out.writeBytes(trailer);
    return h;
  }

  /** Writes {@code prefix.index} and, if given, {@code prefix.data-00000-of-NNNNN}. */
  public Path write(Path prefix, int numShards, byte[] data) {
    try {
      Files.write(Path.of(prefix + ".index"), bytes());
      if (data != null) {
        Files.write(Path.of(prefix + String.format(".data-00000-of-%05d", numShards)), data);
      }
      return prefix;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A float32 scalar entry at {@code offset} of shard 0 whose CRC matches {@code value}. */
  public static BundleEntry floatScalar(long offset, byte[] value) {
    return BundleEntry.of(
        DType.FLOAT, TensorShape.SCALAR, 0, offset, 4, Crc32c.mask(Crc32c.of(value)));
  }

  /** A string scalar holding {@code value}, with its entry at offset 0 of shard 0. */
  public static StringTensors.Encoded stringScalar(byte[] value) {
    return StringTensors.encode(List.of(value));
  }
}
