package io.rebundle.codec.graph;

/**
 * Escaping of one object-path component (tensorbundle-format.md §6.2): {@code .} becomes {@code
 * ..}, then {@code /} becomes {@code .S}, so {@code scoped/c} is stored as {@code scoped.Sc}.
 */
public final class KeyEscaping {
  private KeyEscaping() {}

  public static final String ATTRIBUTES = ".ATTRIBUTES";
  public static final String OPTIMIZER_SLOT = ".OPTIMIZER_SLOT";
  public static final String VARIABLE_VALUE = "VARIABLE_VALUE";

  public static String escape(String name) {
    return name.replace(".", "..").replace("/", ".S");
  }

  /** Reverses {@link #escape}, left to right; a dangling or unknown escape is kept as is. */
  public static String unescape(String escaped) {
    StringBuilder sb = new StringBuilder(escaped.length());
    for (int i = 0; i < escaped.length(); i++) {
      char c = escaped.charAt(i);
      if (c == '.' && i + 1 < escaped.length()) {
        char n = escaped.charAt(i + 1);
        if (n == '.') {
          sb.append('.');
          i++;
          continue;
        }
        if (n == 'S') {
          sb.append('/');
          i++;
          continue;
        }
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /** {@code <path>/.ATTRIBUTES/<name>}, the name escaped twice as TensorFlow does. */
  public static String attributeKey(String objectPath, String tensorName) {
    String attr = escape(escape(tensorName));
    return objectPath.isEmpty()
        ? "/" + ATTRIBUTES + "/" + attr
        : objectPath + "/" + ATTRIBUTES + "/" + attr;
  }

  /** The object path part of an attribute key, or null if the key has no {@code .ATTRIBUTES/}. */
  public static String objectPathOf(String checkpointKey) {
    int i = checkpointKey.indexOf("/" + ATTRIBUTES + "/");
    if (i < 0) {
      return checkpointKey.startsWith(ATTRIBUTES + "/") ? "" : null;
    }
    return checkpointKey.substring(0, i);
  }
}
