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
}
