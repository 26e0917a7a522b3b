package io.rebundle.jobs.audit;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.jobs.discover.DiscoveredCheckpoint;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the audit learns about one checkpoint from its index alone (read on an executor): the
 * format, the shard count, the step, the index fingerprint the incremental mode compares, and the
 * checkpoint-level findings (unreadable index, missing data files), in verify's wording.
 */
public record CheckpointFacts(
    String prefix,
    String format,
    int numShards,
    Long step,
    String indexFingerprint,
    List<Finding> findings)
    implements Serializable {

  /**
   * Largest index the fingerprint reads whole; bigger ones are fingerprinted by length and footer.
   */
  private static final long MAX_FINGERPRINT_READ = 64L << 20;

  static CheckpointFacts of(FileIO io, DiscoveredCheckpoint c) {
    String prefix = c.prefix();
    List<Finding> findings = new ArrayList<>();
    String fingerprint = indexFingerprint(io, c);
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      int n = r.header().numShards();
      for (int s = 0; s < n; s++) {
        String name = io.fileName(Naming.dataFile(prefix, s, n));
        if (!c.dataFiles().containsKey(name)) {
          // verify's finding: the file, then its message.
          findings.add(
              Finding.of(
                  prefix,
                  null,
                  "missing_shard",
                  Naming.dataFile(prefix, s, n)
                      + ": data file (shard "
                      + s
                      + " of "
                      + n
                      + ") is missing"));
        }
      }
      boolean tf2 = r.isObjectBased();
      return new CheckpointFacts(
          prefix, tf2 ? "tf2" : "tf1", n, step(r, tf2), fingerprint, findings);
    } catch (RebundleException | UncheckedIOException e) {
      findings.add(
          Finding.of(prefix, null, "unreadable", Naming.indexFile(prefix) + ": " + e.getMessage()));
      return new CheckpointFacts(prefix, null, 0, null, fingerprint, findings);
    }
  }

  /** global_step (TF1, Estimator) or save_counter (TF2), when present as an integer scalar. */
  private static Long step(CheckpointReader r, boolean tf2) {
    for (String key :
        tf2
            ? new String[] {
              "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
              "global_step/.ATTRIBUTES/VARIABLE_VALUE",
              "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"
            }
            : new String[] {"global_step"}) {
      BundleEntry e = r.findEntry(key);
      if (e == null || e.isSliced() || !e.shape().isScalar() || !DType.isKnown(e.dtypeCode())) {
        continue;
      }
      try {
        Tensor t = r.read(key, e);
        ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        return switch (e.dtype()) {
          case INT64 -> b.getLong(0);
          case INT32 -> (long) b.getInt(0);
          default -> null;
        };
      } catch (RebundleException | UncheckedIOException ex) {
        return null; // the tensor's own row reports why
      }
    }
    return null;
  }

  /**
   * MurmurHash-based fingerprint of the index bytes and the data files' names and lengths: equal
   * when nothing about the checkpoint changed in a way the incremental mode must notice.
   */
  static String indexFingerprint(FileIO io, DiscoveredCheckpoint c) {
    if (!c.hasIndex()) {
      return null;
    }
    StringBuilder files = new StringBuilder();
    for (Map.Entry<String, Long> f : c.dataFiles().entrySet()) {
      files.append(f.getKey()).append('=').append(f.getValue()).append(';');
    }
    try (RangeReader r = io.newInputFile(Naming.indexFile(c.prefix())).open()) {
      long len = r.length();
      byte[] bytes;
      if (len <= MAX_FINGERPRINT_READ) {
        bytes = r.readFully(0, (int) len);
      } else {
        bytes = r.readFully(len - 4096, 4096);
      }
      return TensorDigest.ofBytes(DType.UINT8, TensorShape.of(bytes.length), false, bytes)
              .fingerprintHex()
          + "/"
          + len
          + "/"
          + TensorDigest.checkpointFingerprint(List.of(files.toString()), List.of(""));
    } catch (RebundleException | UncheckedIOException e) {
      return null;
    }
  }
}
