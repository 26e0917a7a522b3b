package io.rebundle.jobs.batch;

import io.rebundle.codec.migrate.MigrationRequest;
import java.util.List;

/**
 * A manifest row ready to run: its position in the manifest ({@code index}, 0-based), the row, and
 * the migration requests its {@code convert} command line builds (one per output: two for {@code
 * to: tf1,tf2}), with what the spec hash covers besides the arguments: the mapping file's bytes
 * (null without {@code map}) and the template's location (null without one). Immutable.
 */
public record BatchRow(
    int index,
    ManifestRow row,
    List<MigrationRequest> requests,
    byte[] mappingFile,
    String template) {
  public BatchRow {
    requests = List.copyOf(requests);
    if (requests.isEmpty()) {
      throw new IllegalArgumentException("Invalid batch row " + row.where() + ": no migration");
    }
  }
}
