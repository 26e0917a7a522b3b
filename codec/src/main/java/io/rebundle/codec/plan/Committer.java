package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Publishes a checkpoint written by several tasks (design.md "commit"). Tasks write their shard to
 * attempt files in a staging directory beside the destination; the committer renames the chosen
 * attempt files to their final names, then writes the sorted index last (it is the commit marker),
 * then the {@code checkpoint} state file. Until the index appears, readers see no checkpoint; an
 * existing destination is replaced only once the new one is complete in staging. {@link #abort}
 * removes the staging directory.
 */
public final class Committer {
  private final FileIO io;
  private final String prefix;
  private final String staging;

  public Committer(FileIO io, String prefix, String runId) {
    this.io = io;
    this.prefix = prefix;
    String parent = io.parent(prefix);
    this.staging = io.join(parent.isEmpty() ? "." : parent, ".rebundle-staging-" + io.fileName(prefix) + "-" + runId);
  }

  public String prefix() {
    return prefix;
  }

  public String stagingDirectory() {
    return staging;
  }

  /** Where task attempt {@code attempt} writes shard {@code shard}: unique per attempt. */
  public String attemptFile(int shard, String attempt) {
    return io.join(staging, String.format("shard-%05d-attempt-%s", shard, attempt));
  }

  /** Whether anything of a checkpoint exists at the destination prefix. */
  public boolean destinationExists() {
    return io.exists(Naming.indexFile(prefix)) || !existingDataFiles().isEmpty();
  }

  private List<String> existingDataFiles() {
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
   * Commits: {@code results} holds exactly one result per shard, in shard order; {@code metadataOnly}
   * are index entries without bytes (full entries of sliced tensors).
   */
  public void commit(List<ShardExecutor.Result> results, List<IndexRecord> metadataOnly, boolean overwrite,
      boolean writeStateFile) {
    int n = results.size();
    List<IndexRecord> all = new ArrayList<>(metadataOnly);
    for (int i = 0; i < n; i++) {
      if (results.get(i).shard() != i) {
        throw new IllegalStateException("Invalid commit: result " + i + " is for shard " + results.get(i).shard());
      }
      all.addAll(results.get(i).entries());
    }
    String stagedIndex = io.join(staging, "index");
    IndexWriter.write(io.newOutputFile(stagedIndex), BundleHeader.of(n), all);
    if (destinationExists()) {
      if (!overwrite) {
        throw new UncheckedIOException("Cannot write checkpoint " + prefix + ": it already exists (use --overwrite)",
            new java.io.IOException("exists"));
      }
      // Index first: from here on the old checkpoint is gone, never half-replaced.
      io.delete(Naming.indexFile(prefix));
      for (String old : existingDataFiles()) {
        io.delete(old);
      }
    }
    for (int i = 0; i < n; i++) {
      io.rename(results.get(i).file(), Naming.dataFile(prefix, i, n));
    }
    io.rename(stagedIndex, Naming.indexFile(prefix));
    if (writeStateFile) {
      String parent = io.parent(prefix);
      CheckpointState.of(io.fileName(prefix)).write(io, parent.isEmpty() ? "." : parent);
    }
    abort();
  }

  /** Removes the staging directory and everything in it (attempt files of failed or extra attempts). */
  public void abort() {
    for (String name : io.list(staging)) {
      io.delete(io.join(staging, name));
    }
    io.delete(staging);
  }
}
