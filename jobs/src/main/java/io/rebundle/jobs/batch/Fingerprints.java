package io.rebundle.jobs.batch;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.table.TableReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Content fingerprints that decide whether a batch row is already done, from metadata only: a
 * checkpoint's fingerprint covers its {@code .index} bytes and the names and lengths of its data
 * files (never their bytes: a changed tensor changes its CRC32C in the index, and a truncated or
 * replaced data file changes its length). SHA-256, written {@code sha256:<hex>}. Stateless and
 * thread-safe.
 */
public final class Fingerprints {
  /** Chunk of an index read into the digest at a time. */
  static final int CHUNK = 1 << 20;

  private Fingerprints() {}

  /**
   * The fingerprint of the checkpoint at {@code prefix} (resolved, not a directory): its prefix's
   * file name, its index bytes, and each data file named by the index's {@code num_shards} with its
   * length (-1 if missing). Reads the index once (streamed twice above {@value #IN_MEMORY_INDEX}
   * bytes).
   */
  public static String checkpoint(FileIO io, String prefix) {
    MessageDigest d = sha256();
    update(d, "rebundle-checkpoint-fingerprint-v1\n" + io.fileName(prefix) + "\n");
    String indexFile = Naming.indexFile(prefix);
    InputFile index = io.newInputFile(indexFile);
    int numShards;
    try (RangeReader r = index.open()) {
      long length = r.length();
      update(d, length + "\n");
      if (length <= IN_MEMORY_INDEX) {
        // One read: the digest and the header come from the same bytes (a rerun reads thousands).
        byte[] bytes = r.readFully(0, (int) length);
        d.update(bytes);
        numShards = header(new BytesReader(indexFile, bytes), indexFile).numShards();
      } else {
        byte[] buffer = new byte[CHUNK];
        for (long at = 0; at < length; ) {
          int n = (int) Math.min(buffer.length, length - at);
          r.readFully(at, buffer, 0, n);
          d.update(buffer, 0, n);
          at += n;
        }
        numShards = header(r, indexFile).numShards();
      }
    }
    for (int shard = 0; shard < numShards; shard++) {
      String file = Naming.dataFile(prefix, shard, numShards);
      InputFile f = io.newInputFile(file);
      long length = f.exists() ? f.length() : -1;
      update(d, "\n" + io.fileName(file) + "\t" + length);
    }
    return "sha256:" + HexFormat.of().formatHex(d.digest());
  }

  /**
   * Indexes up to this size are read into memory once; larger ones are streamed, then their header
   * read.
   */
  static final long IN_MEMORY_INDEX = 64L << 20;

  /** The bundle header: the index's first entry, whose key is empty. */
  private static BundleHeader header(RangeReader index, String indexFile) {
    TableReader.EntryIterator it = new TableReader(index).iterator();
    if (!it.next() || it.key().length != 0) {
      throw new CorruptCheckpointException(
          "Cannot read "
              + indexFile
              + ": no bundle header (the first entry must "
              + "have the empty key)");
    }
    return BundleHeader.decode(it.value(), indexFile);
  }

  /** Positioned reads of bytes in memory. */
  private record BytesReader(String location, byte[] bytes) implements RangeReader {
    @Override
    public long length() {
      return bytes.length;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) {
      RangeReader.checkRange(location, position, length, bytes.length);
      System.arraycopy(bytes, (int) position, buffer, offset, length);
    }

    @Override
    public void close() {}
  }

  /**
   * The hash of what one row asks for: its {@code convert} arguments (in the manifest's canonical
   * order), which output of the row this is ({@code target}), and the content of what those
   * arguments name besides the source (the mapping file's bytes, the template's fingerprint), so
   * that editing a mapping file or a template redoes the rows that use it.
   */
  public static String spec(
      List<String> convertArgs, String target, byte[] mappingFile, String templateFingerprint) {
    MessageDigest d = sha256();
    update(d, "rebundle-spec-v1\n");
    for (String a : convertArgs) {
      update(d, a.length() + ":" + a + "\n");
    }
    update(d, "target:" + target + "\n");
    if (mappingFile != null) {
      update(d, "map:" + mappingFile.length + "\n");
      d.update(mappingFile);
    }
    if (templateFingerprint != null) {
      update(d, "template:" + templateFingerprint + "\n");
    }
    return "sha256:" + HexFormat.of().formatHex(d.digest());
  }

  private static void update(MessageDigest d, String s) {
    d.update(s.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
