package io.rebundle.codec.io;

import java.util.Locale;

/**
 * Location syntax, in one place, for every storage: plain paths ({@code /data/ckpt}, {@code
 * relative/ckpt}), {@code file:} URIs and {@code scheme://authority/path} URIs ({@code hdfs://},
 * {@code gs://}, {@code s3a://}). Pure string operations: nothing here touches storage. A location
 * keeps the caller's syntax: a parent or child of a scheme-less path has no scheme either.
 */
public final class Location {
  private Location() {}

  /**
   * The scheme in lower case ({@code "gs"}, {@code "s3a"}, {@code "file"}), or {@code ""} for a
   * plain path. A scheme is letters, digits, {@code + - .} starting with a letter, then {@code
   * ':'}.
   */
  public static String scheme(String location) {
    int colon = location.indexOf(':');
    if (colon <= 0) {
      return "";
    }
    if (!Character.isLetter(location.charAt(0))) {
      return "";
    }
    for (int i = 1; i < colon; i++) {
      char c = location.charAt(i);
      if (!Character.isLetterOrDigit(c) && c != '+' && c != '-' && c != '.') {
        return "";
      }
    }
    return location.substring(0, colon).toLowerCase(Locale.ROOT);
  }

  /** Whether a location is on the local file system: a plain path or a {@code file:} URI. */
  public static boolean isLocal(String location) {
    String scheme = scheme(location);
    return scheme.isEmpty() || scheme.equals("file");
  }

  /** Whether a location is absolute: it has a scheme, or it is a path starting with {@code /}. */
  public static boolean isAbsolute(String location) {
    return location.startsWith("/") || !scheme(location).isEmpty();
  }

  /** Joins a child name onto a directory location; an empty directory gives the name itself. */
  public static String join(String directory, String name) {
    if (directory.isEmpty()) {
      return name;
    }
    return directory.endsWith("/") ? directory + name : directory + "/" + name;
  }

  /**
   * The directory part of a location, or {@code ""} if it has none. The parent of {@code /a} is
   * {@code /}, of {@code gs://bucket/a} is {@code gs://bucket/}; a root ({@code /}, {@code
   * gs://bucket/}, {@code gs://bucket}) and a bare name have none. One trailing slash is ignored.
   */
  public static String parent(String location) {
    int pathStart = pathStart(location);
    String prefix = location.substring(0, pathStart);
    String path = location.substring(pathStart);
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    int slash = path.lastIndexOf('/');
    if (slash < 0 || path.equals("/")) {
      return "";
    }
    return slash == 0 ? prefix + "/" : prefix + path.substring(0, slash);
  }

  /** The last component of a location ({@code ""} for a root). */
  public static String fileName(String location) {
    int pathStart = pathStart(location);
    String path = location.substring(pathStart);
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    int slash = path.lastIndexOf('/');
    return slash < 0 ? path : path.substring(slash + 1);
  }

  /**
   * {@code location} itself if it is absolute, else {@code location} under {@code base}: how a
   * scheme-less name in a checkpoint state file or a mapping is found next to its checkpoint.
   */
  public static String resolve(String base, String location) {
    return isAbsolute(location) ? location : join(base, location);
  }

  /** Where the path begins: after {@code scheme://authority}, after {@code scheme:}, or at 0. */
  private static int pathStart(String location) {
    String scheme = scheme(location);
    if (scheme.isEmpty()) {
      return 0;
    }
    int afterColon = scheme.length() + 1;
    if (location.startsWith("//", afterColon)) {
      int slash = location.indexOf('/', afterColon + 2);
      return slash < 0 ? location.length() : slash;
    }
    return afterColon;
  }
}
