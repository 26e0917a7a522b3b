package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Storage was asked to read, stat, copy or link a file that does not exist. Thrown by every {@link
 * FileIO}; it says nothing about checkpoints: a reader that finds one of its data files missing
 * turns this into a corruption naming the checkpoint. Exit code 4 when it reaches the user.
 */
public final class StorageFileNotFoundException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  private final String location;

  public StorageFileNotFoundException(String location, IOException cause) {
    super(
        "Cannot find " + location + ": no such file",
        cause == null ? new java.io.FileNotFoundException(location) : cause);
    this.location = location;
  }

  public String location() {
    return location;
  }
}
