package io.rebundle.codec.io;

import java.io.Serializable;
import java.util.List;

/**
 * Storage behind every read and write. Implementations are serializable factories (they travel to
 * Spark executors) and thread-safe. Locations are strings in the implementation's own syntax: plain
 * paths for {@link LocalFileIO}, URIs for Hadoop.
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

  /** Deletes a file or an empty directory; returns false if nothing was there. */
  boolean delete(String location);

  void mkdirs(String directory);

  /** Joins a child name onto a directory location. */
  String join(String directory, String name);

  /** The directory part of a location, or "" if it has none. */
  String parent(String location);

  /** The last component of a location. */
  default String fileName(String location) {
    String parent = parent(location);
    String tail = parent.isEmpty() ? location : location.substring(parent.length());
    return tail.startsWith("/") ? tail.substring(1) : tail;
  }

  /** Whether a location is absolute in this storage's syntax. */
  boolean isAbsolute(String location);

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
        try (out) {
          long length = in.length();
          while (at < length) {
            int n = (int) Math.min(buffer.length, length - at);
            in.readFully(at, buffer, 0, n);
            out.write(buffer, 0, n);
            at += n;
          }
        }
        done = true;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
      } finally {
        if (!done) {
          try {
            delete(target);
          } catch (RuntimeException ignored) {
            // The failure being propagated matters more than a partial copy left in a staging directory.
          }
        }
      }
      return at;
    }
  }
}
