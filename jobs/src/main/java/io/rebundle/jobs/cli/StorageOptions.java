package io.rebundle.jobs.cli;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.io.HadoopFileIO;
import org.apache.hadoop.conf.Configuration;

/**
 * Picks the storage for locations: local paths use {@link LocalFileIO} (positioned reads on file
 * channels); any URI with a scheme other than {@code file:} goes through Hadoop's FileSystem.
 */
final class StorageOptions {
  private StorageOptions() {}

  static boolean isLocal(String location) {
    int colon = location.indexOf("://");
    return colon < 0 || location.startsWith("file:");
  }

  static FileIO forLocation(String location) {
    return isLocal(location) ? new LocalFileIO() : new HadoopFileIO(new Configuration());
  }

  /** One storage for all locations; Hadoop's if any of them needs it. */
  static FileIO forLocations(Configuration hadoopConf, String... locations) {
    for (String l : locations) {
      if (!isLocal(l)) {
        return new HadoopFileIO(hadoopConf);
      }
    }
    return new LocalFileIO();
  }
}
