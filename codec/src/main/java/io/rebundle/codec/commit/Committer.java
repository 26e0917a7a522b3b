package io.rebundle.codec.commit;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import java.util.ArrayList;
import java.util.List;

/**
 * Publishes a checkpoint whose data files are complete in a {@link StagingArea}: the one commit
 * protocol of every writer (migrations and {@link io.rebundle.codec.bundle.CheckpointWriter}).
 *
 * <ol>
 *   <li>The sorted index is written into the staging area.
 *   <li>An existing destination (when overwriting) loses its index first, then its data files: from
 *       there on the old checkpoint is gone, never half-replaced.
 *   <li>The staged data files are renamed to their final names, in shard order.
 *   <li>The staged index is renamed into place: the commit point. Until it appears readers see no
 *       checkpoint.
 *   <li>Optionally the {@code checkpoint} state file is written, then the staging area removed.
 * </ol>
 *
 * {@link #abort} removes the staging area. Extension points for crash safety (stale staging, a safe
 * overwrite) are {@link #destinationExists} and the order above.
 */
public final class Committer {
  private final FileIO io;
  private final StagingArea staging;

  public Committer(FileIO io, StagingArea staging) {
    this.io = io;
    this.staging = staging;
  }

  /** A committer for {@code prefix} with the staging area of run {@code runId}. */
  public Committer(FileIO io, String prefix, String runId) {
    this(io, StagingArea.of(io, prefix, runId));
  }

  public String prefix() {
    return staging.prefix();
  }

  public StagingArea staging() {
    return staging;
  }

  public String stagingDirectory() {
    return staging.directory();
  }

  /** Where task attempt {@code attempt} writes shard {@code shard}: unique per attempt. */
  public String attemptFile(int shard, String attempt) {
    return staging.attemptFile(shard, attempt);
  }

  /** Whether anything of a checkpoint exists at the destination prefix. */
  public boolean destinationExists() {
    return destinationExists(io, staging.prefix());
  }

  /** Whether anything of a checkpoint (its index or any data file) exists at {@code prefix}. */
  public static boolean destinationExists(FileIO io, String prefix) {
    return io.exists(Naming.indexFile(prefix)) || !existingDataFiles(io, prefix).isEmpty();
  }

  private static List<String> existingDataFiles(FileIO io, String prefix) {
    String parent = io.parent(prefix);
    String base = io.fileName(prefix) + ".data-";
    List<String> found = new ArrayList<>();
    for (String name : io.list(parent.isEmpty() ? "." : parent)) {
      if (name.startsWith(base) && name.matches(".*\\.data-\\d{5,}-of-\\d{5,}")) {
        found.add(io.join(parent, name));
      }
    }
    return found;
  }

  /**
   * Commits: {@code shards} holds exactly one staged file per output shard, in shard order; {@code
   * metadataOnly} are index entries without bytes (full entries of sliced tensors).
   */
  public void commit(
      List<StagedShard> shards,
      List<IndexRecord> metadataOnly,
      boolean overwrite,
      boolean writeStateFile) {
    int n = shards.size();
    List<IndexRecord> all = new ArrayList<>(metadataOnly);
    for (int i = 0; i < n; i++) {
      if (shards.get(i).shard() != i) {
        throw new IllegalStateException(
            "Invalid commit: result " + i + " is for shard " + shards.get(i).shard());
      }
      all.addAll(shards.get(i).entries());
    }
    String prefix = staging.prefix();
    String stagedIndex = staging.indexFile();
    IndexWriter.write(io.newOutputFile(stagedIndex), BundleHeader.of(n), all);
    if (destinationExists()) {
      if (!overwrite) {
        throw Errors.destinationExists(prefix);
      }
      // Index first: from here on the old checkpoint is gone, never half-replaced.
      io.delete(Naming.indexFile(prefix));
      for (String old : existingDataFiles(io, prefix)) {
        io.delete(old);
      }
    }
    for (int i = 0; i < n; i++) {
      io.rename(shards.get(i).file(), Naming.dataFile(prefix, i, n));
    }
    io.rename(stagedIndex, Naming.indexFile(prefix));
    if (writeStateFile) {
      String parent = io.parent(prefix);
      CheckpointState.of(io.fileName(prefix)).write(io, parent.isEmpty() ? "." : parent);
    }
    abort();
  }

  /**
   * Removes the staging directory and everything in it (attempt files of failed or extra attempts).
   */
  public void abort() {
    staging.remove(io);
  }
}
