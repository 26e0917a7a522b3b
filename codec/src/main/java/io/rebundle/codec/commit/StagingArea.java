package io.rebundle.codec.commit;

import io.rebundle.codec.io.FileIO;
import java.io.Serializable;

/**
 * The staging directory of one write of a checkpoint, and the names of everything in it. Every file
 * of an unfinished output lives here, beside the destination (so the final renames stay on one file
 * system); nothing else formats these names.
 *
 * <pre>
 *   &lt;parent&gt;/.rebundle-staging-&lt;name&gt;-&lt;runId&gt;/
 *       shard-00003-attempt-&lt;attempt&gt;     one per task attempt (a retried task never reuses a name)
 *       index                            the staged index, renamed last
 * </pre>
 *
 * Serializable: tasks on other machines receive it to name their attempt files. Holds only names
 * ('/'-separated, as every {@link FileIO} here uses); nothing is created until {@link #create}.
 */
public final class StagingArea implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Prefix of every staging directory's name, for tools that look for stale ones. */
  public static final String DIRECTORY_PREFIX = ".rebundle-staging-";

  private final String prefix;
  private final String runId;
  private final String directory;

  private StagingArea(String prefix, String runId, String directory) {
    this.prefix = prefix;
    this.runId = runId;
    this.directory =
        directory.endsWith("/") ? directory.substring(0, directory.length() - 1) : directory;
  }

  /** The staging area of the write of {@code prefix} identified by {@code runId}. */
  public static StagingArea of(FileIO io, String prefix, String runId) {
    if (runId == null || runId.isEmpty() || runId.contains("/")) {
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
    return new StagingArea(prefix, runId, absoluteDirectory);
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
    return directory + "/" + String.format("shard-%05d-attempt-%s", shard, attempt);
  }

  /** Where the index is written before it is renamed into place (the commit point). */
  public String indexFile() {
    return directory + "/index";
  }

  /** Creates the directory. */
  public void create(FileIO io) {
    io.mkdirs(directory);
  }

  /** Removes the directory and everything in it; a missing directory is fine. */
  public void remove(FileIO io) {
    for (String name : io.list(directory)) {
      io.delete(io.join(directory, name));
    }
    io.delete(directory);
  }

  @Override
  public String toString() {
    return directory;
  }
}
