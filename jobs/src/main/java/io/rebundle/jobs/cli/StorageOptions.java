package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;

/** Picks the storage for a location: local paths and {@code file:} URIs here. */
final class StorageOptions {
  private StorageOptions() {}

  static FileIO forLocation(String location) {
    int colon = location.indexOf("://");
    if (colon > 0 && !location.startsWith("file:")) {
      throw new UsageException("Unsupported location " + location
          + ": only local paths are supported by this command so far");
    }
    return new LocalFileIO();
  }
}
