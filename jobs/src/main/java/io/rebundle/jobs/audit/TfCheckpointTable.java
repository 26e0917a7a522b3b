package io.rebundle.jobs.audit;

import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** The V2 table of the {@code tfcheckpoint} source: batch reads only. */
final class TfCheckpointTable implements SupportsRead {
  private final SourceOptions options;

  TfCheckpointTable(SourceOptions options) {
    this.options = options;
  }

  @Override
  public String name() {
    return TfCheckpointSource.SHORT_NAME + " " + String.join(",", options.paths());
  }

  @Override
  public StructType schema() {
    return TensorColumns.SCHEMA;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.BATCH_READ);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap scanOptions) {
    java.util.Map<String, String> merged = new java.util.HashMap<>(options.options());
    merged.putAll(scanOptions.asCaseSensitiveMap());
    return new TfCheckpointScanBuilder(SourceOptions.parse(merged));
  }
}
