package io.rebundle.jobs.audit;

import java.util.Set;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownFilters;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.StructType;

/** Column pruning and filter pushdown for the {@code tfcheckpoint} scan. */
final class TfCheckpointScanBuilder
    implements ScanBuilder, SupportsPushDownRequiredColumns, SupportsPushDownFilters {
  private final SourceOptions options;
  private StructType required = TensorColumns.SCHEMA;
  private PushedFilters filters = PushedFilters.NONE;

  TfCheckpointScanBuilder(SourceOptions options) {
    this.options = options;
  }

  @Override
  public void pruneColumns(StructType requiredSchema) {
    this.required = requiredSchema;
  }

  @Override
  public Filter[] pushFilters(Filter[] all) {
    filters = PushedFilters.of(all);
    return all; // evaluated again on the rows: pushdown only skips work
  }

  @Override
  public Filter[] pushedFilters() {
    return filters.pushed().toArray(new Filter[0]);
  }

  @Override
  public Scan build() {
    return new TfCheckpointScan(options, required, filters);
  }

  /** Which reads the columns need. */
  static boolean needs(StructType schema, Set<String> columns) {
    for (String f : schema.fieldNames()) {
      if (columns.contains(f)) {
        return true;
      }
    }
    return false;
  }
}
