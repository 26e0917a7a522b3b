package io.rebundle.codec.io;

import java.io.Serializable;
import java.util.List;

/**
 * Storage behind every read and write. Implementations are serializable factories (they travel to
 * Spark executors) and thread-safe. Locations are strings ({@link Location} parses them): plain
 * paths for {@link LocalFileIO}, URIs for Hadoop. Whole-file writers that fail call {@link
 * PositionOutputStream#abort()} so an object store never publishes a partial file.
 */
public interface FileIO extends Serializable {
  InputFile newInputFile(String location);

  OutputFile newOutputFile(String location);

  boolean exists(String location);

  boolean isDirectory(String location);

  /** Names (not full locations) of the entries of a directory, sorted; empty if it is not one. */
  List<String> list(String directory);

  /** Renames a file; fails if {@code target} exists. */
  void rename(String source, String target);

  /**
   * Renames {@code source} to {@code target}, replacing {@code target} if it exists. Where {@link
   * #renameIsAtomic} holds this is one atomic step (readers see the old file or the new one, never
   * neither); this default, for storage without such a rename, deletes then renames.
   */
  default void replace(String source, String target) {
    delete(target);
    rename(source, target);
  }

  /** Deletes a file or an empty directory; returns false if nothing was there. */
  boolean delete(String location);

  void mkdirs(String directory);

  /** {@link Location#join}; storage may override it for its own syntax. */
  default String join(String directory, String name) {
    return Location.join(directory, name);
  }

  /** {@link Location#parent}. */
  default String parent(String location) {
    return Location.parent(location);
  }

  /** {@link Location#fileName}. */
  default String fileName(String location) {
    return Location.fileName(location);
  }

  /** {@link Location#isAbsolute}. */
  default boolean isAbsolute(String location) {
    return Location.isAbsolute(location);
  }

  /**
   * Whether {@link #rename} under {@code location} is atomic: the target appears whole or not at
   * all, at once (local disks, HDFS). Object stores (S3A, GCS) have no rename: it is a copy and a
   * delete, and a crash between them leaves both or half. Commit protocols that publish by rename
   * must upload under final names instead where this is false. Conservative default: false.
   */
  default boolean renameIsAtomic(String location) {
    return false;
  }

  /**
   * Whether each positioned read under {@code location} costs a request to a server (object stores,
   * HDFS), so callers should announce and order their reads ({@link CoalescingRangeReader}). False
   * for local disks, where a read is a system call on the page cache.
   */
  default boolean readsAreRequests(String location) {
    return true;
  }

  /**
   * Aborts uploads under {@code directory} that were started and never completed (S3 multipart
   * uploads left by a crashed writer; they are invisible but stored, and billed), and returns how
   * many it aborted. Storage whose writes need no such cleanup returns 0.
   */
  default int abortPendingUploads(String directory) {
    return 0;
  }

  /**
   * Copies the whole file {@code source} to {@code target}, which must not exist, and returns the
   * bytes copied. No checksums are checked: callers that need them read the file. This default
   * streams the bytes through this JVM in 4 MiB positioned reads; implementations override it with
   * what their storage does faster (a kernel copy on a local disk). On failure a partial target is
   * deleted.
   */
  default long copy(String source, String target) {
    byte[] buffer = new byte[4 << 20];
    try (RangeReader in = newInputFile(source).open()) {
      PositionOutputStream out = newOutputFile(target).create();
      boolean done = false;
      long at = 0;
      try {
        long length = in.length();
        while (at < length) {
          int n = (int) Math.min(buffer.length, length - at);
          in.readFully(at, buffer, 0, n);
          out.write(buffer, 0, n);
          at += n;
        }
        out.close();
        done = true;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(
            "Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
      } finally {
        if (!done) {
          discard(out, target);
        }
      }
      return at;
    }
  }

  /**
   * Gets rid of a file whose writing failed: aborts the stream where the storage can (nothing
   * becomes visible), else closes it and deletes what it wrote. Never throws: the failure being
   * propagated matters more.
   */
  default void discard(PositionOutputStream out, String location) {
    try {
      if (out.abort()) {
        return;
      }
    } catch (RuntimeException ignored) {
      // Fall through to close and delete.
    }
    try {
      out.close();
    } catch (java.io.IOException | RuntimeException ignored) {
      // Deleting is what matters.
    }
    try {
      delete(location);
    } catch (RuntimeException ignored) {
      // A partial file left in a staging directory is removed with the directory.
    }
  }
}
