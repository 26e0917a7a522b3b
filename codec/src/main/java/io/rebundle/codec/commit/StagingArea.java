package io.rebundle.codec.commit;

import io.rebundle.codec.io.AtomicWrite;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.Location;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.io.StorageFileNotFoundException;
import java.io.Serializable;

/**
 * The staging directory of one write of a checkpoint, and the names of everything in it. Every file
 * of an unfinished output lives here, beside the destination (so the final renames stay on one file
 * system); nothing else formats these names.
 *
 * <pre>
 *   &lt;parent&gt;/.rebundle-staging-&lt;name&gt;-&lt;runId&gt;/
 *       owner                            the lease: run, host, pid (written first)
 *       shard-00003-attempt-&lt;attempt&gt;     one per task attempt (a retried task never reuses a name)
 *       index                            the staged index, renamed last
 *       journal                          what the commit does to the destination (written before it starts)
 *       moved/                           the destination's previous files while they are replaced
 *       checkpoint.tmp                   the new state file before it replaces the old one
 * </pre>
 *
 * The protocol that uses these names is in docs/commit-protocol.md.
 *
 * <p>Serializable: tasks on other machines receive it to name their attempt files. Holds only names
 * ('/'-separated, as every {@link FileIO} here uses); nothing is created until {@link #create}.
 */
public final class StagingArea implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Prefix of every staging directory's name, for tools that look for stale ones. */
  public static final String DIRECTORY_PREFIX = ".rebundle-staging-";

  private final String prefix;
  private final String runId;
  private final String directory;
  private final int directShards;

  private StagingArea(String prefix, String runId, String directory) {
    this(prefix, runId, directory, 0);
  }

  private StagingArea(String prefix, String runId, String directory, int directShards) {
    this.directShards = directShards;
    this.prefix = prefix;
    this.runId = runId;
    this.directory =
        directory.endsWith("/") ? directory.substring(0, directory.length() - 1) : directory;
  }

  /** The staging area of the write of {@code prefix} identified by {@code runId}. */
  public static StagingArea of(FileIO io, String prefix, String runId) {
    if (runId == null || runId.isEmpty() || runId.contains("/") || runId.contains("-")) {
      throw new IllegalArgumentException("Invalid run id: " + runId);
    }
    String parent = io.parent(prefix);
    String dir =
        io.join(
            parent.isEmpty() ? "." : parent, DIRECTORY_PREFIX + io.fileName(prefix) + "-" + runId);
    return new StagingArea(prefix, runId, dir);
  }

  /** A fresh run id: 8 hex digits. */
  public static String newRunId() {
    return java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * This area with its directory made absolute as {@code absoluteDirectory} (for executors
   * elsewhere).
   */
  public StagingArea at(String absoluteDirectory) {
    return new StagingArea(prefix, runId, absoluteDirectory, directShards);
  }

  /** The destination prefix this area stages. */
  public String prefix() {
    return prefix;
  }

  public String runId() {
    return runId;
  }

  public String directory() {
    return directory;
  }

  /**
   * Where attempt {@code attempt} of the task writing shard {@code shard} writes: unique per
   * attempt.
   */
  public String attemptFile(int shard, String attempt) {
    if (shard < 0) {
      throw new IllegalArgumentException("Invalid shard: " + shard);
    }
    if (directShards > 0) {
      return finalDataFile(shard);
    }
    return directory + "/" + String.format("shard-%05d-attempt-%s", shard, attempt);
  }

  /**
   * This area for a commit that writes its {@code numShards} data files under their final names
   * (object stores, where a rename is a copy: docs/commit-protocol.md, "Object stores"): {@link
   * #attemptFile} then names the final file, and only the lease, journal and index live here.
   */
  public StagingArea direct(int numShards) {
    if (numShards < 1) {
      throw new IllegalArgumentException("Invalid number of shards: " + numShards);
    }
    return new StagingArea(prefix, runId, directory, numShards);
  }

  /** The number of data files written under their final names, 0 unless {@link #direct}. */
  public int finalShards() {
    return directShards;
  }

  /** Whether data files are written under their final names ({@link #direct}). */
  public boolean isDirect() {
    return directShards > 0;
  }

  /** The final name of data file {@code shard}, beside this area (so absolute if it is). */
  String finalDataFile(int shard) {
    String parent = Location.parent(directory);
    String name = Location.fileName(prefix);
    return io.rebundle.codec.bundle.Naming.dataFile(
        parent.isEmpty() ? name : parent + "/" + name, shard, directShards);
  }

  /** Where the index is written before it is renamed into place (the commit point). */
  public String indexFile() {
    return directory + "/index";
  }

  /** The lease file: who owns this area ({@link StagingOwner}). */
  public String ownerFile() {
    return directory + "/" + StagingOwner.FILE;
  }

  /** The commit journal ({@link CommitJournal}). */
  String journalFile() {
    return directory + "/" + CommitJournal.FILE;
  }

  /** Where the destination's previous files wait while a commit replaces them. */
  String movedDirectory() {
    return directory + "/moved";
  }

  /** Where the new state file is written before it replaces the old one. */
  String stateFileTemp() {
    return directory + "/checkpoint.tmp";
  }

  /** Creates the directory and writes this process's lease into it, first. */
  public void create(FileIO io) {
    io.mkdirs(directory);
    writeOwner(io, StagingOwner.current(runId));
  }

  void writeOwner(FileIO io, StagingOwner owner) {
    AtomicWrite.write(io, ownerFile(), ownerFile() + ".tmp", owner.toBytes());
  }

  /** The lease of this area, or null if it has none that can be read. */
  StagingOwner readOwner(FileIO io) {
    String file = ownerFile();
    if (!io.exists(file)) {
      return null;
    }
    try (RangeReader r = io.newInputFile(file).open()) {
      if (r.length() > StagingOwner.MAX_BYTES) {
        return null;
      }
      return StagingOwner.parse(r.readFully(0, (int) r.length()));
    } catch (StorageFileNotFoundException e) {
      return null;
    }
  }

  /**
   * Removes the directory and everything in it; a missing directory is fine. Files that appear
   * while it runs (a task still writing when a signal stops the run) are removed by a second pass.
   */
  public void remove(FileIO io) {
    RuntimeException last = null;
    for (int pass = 0; pass < 3; pass++) {
      try {
        removeTree(io, directory, 0);
        return;
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last;
  }

  private static void removeTree(FileIO io, String dir, int depth) {
    if (depth == 0) {
      // The journal goes first: an area without one is only leftovers (see Recovery).
      String journal = dir + "/" + CommitJournal.FILE;
      io.delete(journal);
    }
    for (String name : io.list(dir)) {
      String child = io.join(dir, name);
      if (depth == 0 && io.isDirectory(child)) {
        removeTree(io, child, depth + 1); // moved/ is the one subdirectory
      } else {
        io.delete(child);
      }
    }
    io.delete(dir);
  }

  /**
   * The staging areas of writes of {@code prefix} that exist beside it, of any run: what {@link
   * Recovery} examines. Areas of other prefixes ({@code ckpt-2} beside {@code ckpt}) are not
   * included: a run id never contains {@code -}.
   */
  public static java.util.List<StagingArea> find(FileIO io, String prefix) {
    String parent = io.parent(prefix);
    String dir = parent.isEmpty() ? "." : parent;
    String mark = DIRECTORY_PREFIX + io.fileName(prefix) + "-";
    java.util.List<StagingArea> found = new java.util.ArrayList<>();
    for (String name : io.list(dir)) {
      String run = name.startsWith(mark) ? name.substring(mark.length()) : "";
      if (!run.isEmpty() && !run.contains("-")) {
        found.add(of(io, prefix, run));
      }
    }
    return found;
  }

  @Override
  public String toString() {
    return directory;
  }
}
