package io.rebundle.codec.commit;

import io.rebundle.codec.Errors;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.AtomicWrite;
import io.rebundle.codec.io.FileIO;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Publishes a checkpoint whose data files are complete in a {@link StagingArea}: the one commit
 * protocol of every writer (migrations and {@link io.rebundle.codec.bundle.CheckpointWriter}),
 * specified in docs/commit-protocol.md. In short:
 *
 * <ol>
 *   <li>The sorted index is written into the staging area.
 *   <li>The journal is written: the new shard count, the destination's previous files (its index,
 *       then its data files) and the state file update owed.
 *   <li>The previous files move into the staging area's {@code moved/}, index first.
 *   <li>The staged data files are renamed to their final names, in shard order.
 *   <li>The staged index is renamed into place: the commit point.
 *   <li>The state file is updated (never clobbered), then the staging area, with the previous
 *       files, removed.
 * </ol>
 *
 * A failure before the commit point rolls back (the previous checkpoint is restored); a kill leaves
 * the journal, and the next run's {@link Recovery} rolls back or forward. While a commit may still
 * be undone, a SIGINT or SIGTERM waits for it ({@link ActiveStaging}).
 */
public final class Committer {
  private final FileIO io;
  private final StagingArea staging;
  private final ReentrantLock lock = new ReentrantLock();
  private Consumer<String> warnings = w -> {};
  private boolean finished;
  private boolean keepStaging;
  private boolean committed;

  public Committer(FileIO io, StagingArea staging) {
    this.io = io;
    this.staging = staging;
  }

  /** A committer for {@code prefix} with the staging area of run {@code runId}. */
  public Committer(FileIO io, String prefix, String runId) {
    this(io, StagingArea.of(io, prefix, runId));
  }

  /** Where this committer reports what it cleans up (debris at the destination). */
  public Committer warnings(Consumer<String> sink) {
    this.warnings = sink;
    return this;
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

  /**
   * Creates the staging area with this process's lease, and registers it so that a signal removes
   * it and its lease is renewed while the run lasts.
   */
  public void createStaging() {
    staging.create(io);
    if (staging.isDirect()) {
      // Tasks write final names from now on: the journal must already say which (for recovery).
      writeJournal(
          new CommitJournal(
              staging.finalShards(), List.of(), List.of(), StateFileUpdate.NONE, true));
    }
    ActiveStaging.register(this);
    Failpoints.reached("staged");
  }

  FileIO io() {
    return io;
  }

  /** Whether a checkpoint exists at the destination prefix. */
  public boolean destinationExists() {
    return destinationExists(io, staging.prefix());
  }

  /**
   * Whether a checkpoint exists at {@code prefix}: its index does. Data files under final names
   * with no index are not a checkpoint (no reader opens them) but debris of a killed write, which
   * the next commit removes.
   */
  public static boolean destinationExists(FileIO io, String prefix) {
    return io.exists(Naming.indexFile(prefix));
  }

  /**
   * Whether a commit of {@code numShards} data files to {@code prefix} should write them under
   * their final names ({@link StagingArea#direct}): where a rename is a copy (object stores) and no
   * existing data file has one of those names, so the previous checkpoint, if any, stays readable
   * until the new index replaces its index in one upload.
   */
  public static boolean writesDirectly(FileIO io, String prefix, int numShards) {
    if (numShards < 1 || io.renameIsAtomic(prefix)) {
      return false;
    }
    for (String name : existingDataFiles(io, prefix)) {
      if (name.endsWith(String.format("-of-%05d", numShards))) {
        return false;
      }
    }
    return true;
  }

  private void writeJournal(CommitJournal journal) {
    AtomicWrite.write(io, staging.journalFile(), staging.journalFile() + ".tmp", journal.toBytes());
  }

  /** The final-named data files at {@code prefix}, of any shard count. */
  static List<String> existingDataFiles(FileIO io, String prefix) {
    String parent = Recovery.parentDir(io, prefix);
    String base = io.fileName(prefix) + ".data-";
    List<String> found = new ArrayList<>();
    for (String name : io.list(parent)) {
      if (name.startsWith(base)
          && name.length() - base.length() <= 40
          && name.substring(base.length()).matches("\\d{5,}-of-\\d{5,}")) {
        found.add(name);
      }
    }
    return found;
  }

  /** {@link #commit(List, List, boolean, StateFileUpdate)}, adding to the state file if asked. */
  public void commit(
      List<StagedShard> shards,
      List<IndexRecord> metadataOnly,
      boolean overwrite,
      boolean writeStateFile) {
    commit(shards, metadataOnly, overwrite, StateFileUpdate.of(writeStateFile, false));
  }

  /**
   * Commits: {@code shards} holds exactly one staged file per output shard, in shard order; {@code
   * metadataOnly} are index entries without bytes (full entries of sliced tensors). On failure
   * before the commit point the destination is as it was and the failure is rethrown; the staging
   * area is then left for {@link #abort}.
   */
  public void commit(
      List<StagedShard> shards,
      List<IndexRecord> metadataOnly,
      boolean overwrite,
      StateFileUpdate stateFile) {
    int n = shards.size();
    List<IndexRecord> all = new ArrayList<>(metadataOnly);
    for (int i = 0; i < n; i++) {
      if (shards.get(i).shard() != i) {
        throw new IllegalStateException(
            "Invalid commit: result " + i + " is for shard " + shards.get(i).shard());
      }
      all.addAll(shards.get(i).entries());
    }
    lock.lock();
    try {
      if (finished) {
        throw new IllegalStateException("Invalid commit: " + staging + " was already finished");
      }
      commitLocked(shards, all, overwrite, stateFile);
      finished = true;
    } finally {
      lock.unlock();
    }
    ActiveStaging.unregister(this);
  }

  private void commitLocked(
      List<StagedShard> shards,
      List<IndexRecord> all,
      boolean overwrite,
      StateFileUpdate stateFile) {
    if (staging.isDirect()) {
      commitDirect(shards, all, overwrite, stateFile);
      return;
    }
    int n = shards.size();
    String prefix = staging.prefix();
    String dir = Recovery.parentDir(io, prefix);
    IndexWriter.write(io.newOutputFile(staging.indexFile()), BundleHeader.of(n), all);
    Failpoints.reached("index-staged");
    String indexName = io.fileName(Naming.indexFile(prefix));
    boolean hasIndex = io.exists(Naming.indexFile(prefix));
    if (hasIndex && !overwrite) {
      throw Errors.destinationExists(prefix);
    }
    List<String> data = existingDataFiles(io, prefix);
    if (!hasIndex && !data.isEmpty()) {
      warnings.accept(
          "removing "
              + data.size()
              + " data file(s) of "
              + prefix
              + " that have no index (left by an interrupted write): "
              + String.join(", ", data));
    }
    List<String> newNames = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      newNames.add(io.fileName(Naming.dataFile(prefix, i, n)));
    }
    // In place: no previous file has a new file's name and the index can be replaced atomically,
    // so the previous checkpoint stays readable up to the one rename that replaces its index.
    // Otherwise the previous files move aside first (docs/commit-protocol.md, "Overwriting").
    boolean inPlace = io.renameIsAtomic(prefix) && data.stream().noneMatch(newNames::contains);
    List<String> moved = new ArrayList<>();
    List<String> superseded = new ArrayList<>();
    if (inPlace) {
      superseded.addAll(data);
    } else {
      if (hasIndex) {
        moved.add(indexName);
      }
      moved.addAll(data);
    }
    CommitJournal journal = new CommitJournal(n, moved, superseded, stateFile, false);
    writeJournal(journal);
    Failpoints.reached("journal-written");
    try {
      if (!moved.isEmpty()) {
        io.mkdirs(staging.movedDirectory());
      }
      for (int i = 0; i < moved.size(); i++) {
        String name = moved.get(i);
        io.rename(io.join(dir, name), io.join(staging.movedDirectory(), name));
        if (i == 0) {
          Failpoints.reached("old-index-moved");
        }
      }
      Failpoints.reached("old-moved");
      for (int i = 0; i < n; i++) {
        io.rename(shards.get(i).file(), Naming.dataFile(prefix, i, n));
        if (i == 0) {
          Failpoints.reached("first-data-renamed");
        }
      }
      Failpoints.reached("data-renamed");
      if (inPlace && hasIndex) {
        io.replace(staging.indexFile(), Naming.indexFile(prefix));
      } else {
        io.rename(staging.indexFile(), Naming.indexFile(prefix));
      }
    } catch (RuntimeException e) {
      undo(journal, e);
      throw e;
    }
    Failpoints.reached("index-renamed");
    committed = true;
    finishAfterCommitPoint(journal, superseded, stateFile, !(inPlace && hasIndex));
  }

  /**
   * The commit of data files already under their final names ({@link StagingArea#direct}): the
   * index is written into the area, then uploaded over the final index in one write, the commit
   * point; a failure before it deletes the new data files, which no index names.
   */
  private void commitDirect(
      List<StagedShard> shards,
      List<IndexRecord> all,
      boolean overwrite,
      StateFileUpdate stateFile) {
    int n = shards.size();
    String prefix = staging.prefix();
    if (n != staging.finalShards()) {
      throw new IllegalStateException(
          "Invalid commit: " + n + " shards staged for " + staging.finalShards());
    }
    for (int i = 0; i < n; i++) {
      String expected = io.fileName(Naming.dataFile(prefix, i, n));
      if (!io.fileName(shards.get(i).file()).equals(expected)) {
        throw new IllegalStateException(
            "Invalid commit: shard " + i + " was written to " + shards.get(i).file());
      }
    }
    IndexWriter.write(io.newOutputFile(staging.indexFile()), BundleHeader.of(n), all);
    Failpoints.reached("index-staged");
    boolean hasIndex = io.exists(Naming.indexFile(prefix));
    if (hasIndex && !overwrite) {
      throw Errors.destinationExists(prefix);
    }
    List<String> newNames = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      newNames.add(io.fileName(Naming.dataFile(prefix, i, n)));
    }
    List<String> superseded = new ArrayList<>(existingDataFiles(io, prefix));
    superseded.removeAll(newNames);
    CommitJournal journal = new CommitJournal(n, List.of(), superseded, stateFile, true);
    writeJournal(journal);
    Failpoints.reached("journal-written");
    try {
      copyFile(io, staging.indexFile(), Naming.indexFile(prefix));
    } catch (RuntimeException e) {
      undo(journal, e);
      throw e;
    }
    Failpoints.reached("index-renamed");
    committed = true;
    finishAfterCommitPoint(journal, superseded, stateFile, !hasIndex);
  }

  /** Copies a small file over {@code target} in one write (one upload on object stores). */
  private static void copyFile(FileIO io, String source, String target) {
    byte[] buffer = new byte[1 << 20];
    try (io.rebundle.codec.io.RangeReader in = io.newInputFile(source).open()) {
      io.rebundle.codec.io.PositionOutputStream out = io.newOutputFile(target).createOrOverwrite();
      boolean done = false;
      try {
        long length = in.length();
        for (long at = 0; at < length; ) {
          int k = (int) Math.min(buffer.length, length - at);
          in.readFully(at, buffer, 0, k);
          out.write(buffer, 0, k);
          at += k;
        }
        out.close();
        done = true;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("Cannot write " + target + ": " + e.getMessage(), e);
      } finally {
        if (!done && !out.abort()) {
          try {
            out.close();
          } catch (java.io.IOException | RuntimeException ignored) {
            // The failure being propagated matters more.
          }
        }
      }
    }
  }

  /**
   * After the commit point: superseded files, the state file, the staging area. {@code undoable}:
   * whether the commit point can be taken back (the index was renamed or created, not replaced).
   */
  private void finishAfterCommitPoint(
      CommitJournal journal, List<String> superseded, StateFileUpdate stateFile, boolean undoable) {
    String prefix = staging.prefix();
    String dir = Recovery.parentDir(io, prefix);
    try {
      // Past the commit point a transient storage error is retried before it counts.
      for (String name : superseded) {
        retried(() -> io.delete(io.join(dir, name)));
      }
      retried(() -> updateStateFile(io, staging, stateFile, warnings));
    } catch (RuntimeException e) {
      if (undoable) {
        // The state file is part of the commit: a run that fails leaves the destination as it was.
        try {
          if (journal.direct()) {
            io.delete(Naming.indexFile(prefix));
          } else {
            io.rename(Naming.indexFile(prefix), staging.indexFile());
          }
          committed = false;
        } catch (RuntimeException back) {
          e.addSuppressed(back);
          keepStaging = true;
          throw e;
        }
        undo(journal, e);
        throw e;
      }
      // Committed for good; the next run's recovery finishes what is left (it rolls forward).
      keepStaging = true;
      warnings.accept(
          "committed "
              + prefix
              + " but could not finish ("
              + e.getMessage()
              + "); the next run against it does");
      return;
    }
    Failpoints.reached("state-file-written");
    try {
      staging.remove(io);
    } catch (RuntimeException e) {
      // Committed: what is left is removed by the next run's recovery (it rolls forward).
      keepStaging = true;
      warnings.accept(
          "could not remove " + staging + " (" + e.getMessage() + "); the next run removes it");
    }
  }

  /** Runs {@code step}, up to three times while it throws. */
  private static void retried(Runnable step) {
    for (int attempt = 1; ; attempt++) {
      try {
        step.run();
        return;
      } catch (RuntimeException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  /** Rolls back after {@code failure}; if that fails too, the journal stays for recovery. */
  private void undo(CommitJournal journal, RuntimeException failure) {
    try {
      Recovery.rollBack(io, staging, journal);
    } catch (RuntimeException undo) {
      failure.addSuppressed(undo);
      keepStaging = true;
      warnings.accept(
          "could not restore "
              + staging.prefix()
              + " after a failed commit ("
              + undo.getMessage()
              + "); its previous files are kept in "
              + staging.movedDirectory()
              + " and the next run against it restores them");
    }
  }

  /** Records the staged checkpoint in the state file beside it, as {@code update} says. */
  static void updateStateFile(
      FileIO io, StagingArea staging, StateFileUpdate update, Consumer<String> warnings) {
    if (update != StateFileUpdate.NONE) {
      CheckpointState.record(
          io,
          staging.prefix(),
          update == StateFileUpdate.ADD_AS_LATEST,
          staging.stateFileTemp(),
          warnings);
    }
  }

  /**
   * Removes the staging directory and everything in it (attempt files of failed or extra attempts),
   * unless a failed commit left the destination's previous files in it for recovery.
   */
  public void abort() {
    lock.lock();
    try {
      finished = true;
      removeUncommitted();
      if (!keepStaging) {
        staging.remove(io);
      }
    } finally {
      lock.unlock();
      ActiveStaging.unregister(this);
    }
  }

  /**
   * On a signal: waits up to {@code seconds} for a commit in progress to finish or roll back, then
   * removes the staging area unless the commit finished. Never throws.
   */
  void abortOnSignal(long seconds) {
    try {
      if (!lock.tryLock(seconds, TimeUnit.SECONDS)) {
        return; // a commit still running: recovery handles what it leaves
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try {
      if (!finished) {
        finished = true;
        removeUncommitted();
        if (!keepStaging) {
          staging.remove(io);
        }
      }
    } catch (RuntimeException ignored) {
      // The JVM is exiting; the next run's recovery removes what is left.
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writing final names directly, the data files written so far are the uncommitted output: they go
   * with the staging area, and uploads still pending under their names are aborted.
   */
  private void removeUncommitted() {
    if (!staging.isDirect() || committed || keepStaging) {
      return;
    }
    for (int i = 0; i < staging.finalShards(); i++) {
      String f = Naming.dataFile(staging.prefix(), i, staging.finalShards());
      io.delete(f);
      try {
        io.abortPendingUploads(f);
      } catch (RuntimeException ignored) {
        // Best effort: incomplete uploads are invisible, and the bucket's lifecycle rule ends them.
      }
    }
  }

  /** Renews the lease of the staging area (called by {@link ActiveStaging}). */
  void renewLease() {
    if (!lock.tryLock()) {
      return; // committing or aborting: the lease is about to go
    }
    try {
      StagingOwner owner = finished ? null : staging.readOwner(io);
      if (owner != null) {
        staging.writeOwner(io, owner.renewed(System.currentTimeMillis()));
      }
    } finally {
      lock.unlock();
    }
  }
}
