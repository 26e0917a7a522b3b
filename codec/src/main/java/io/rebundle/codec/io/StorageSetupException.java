package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Storage that cannot be used as configured: no connector on the classpath for a scheme, no
 * credentials, a refused login. A storage error (exit 4), never a bug: its message is one line
 * naming the location, the scheme and the fix.
 */
public final class StorageSetupException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  private final String location;
  private final String scheme;

  public StorageSetupException(String location, String reason, String fix, Throwable cause) {
    super(
        "Cannot access " + location + ": " + reason + "; " + fix,
        cause instanceof IOException io
            ? io
            : new IOException(cause == null ? reason : cause.toString(), cause));
    this.location = location;
    this.scheme = Location.scheme(location);
  }

  public String location() {
    return location;
  }

  /** The scheme of {@link #location()}, lower case, or "" for a plain path. */
  public String scheme() {
    return scheme;
  }
}
