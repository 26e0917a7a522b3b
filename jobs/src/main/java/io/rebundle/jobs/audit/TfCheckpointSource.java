package io.rebundle.jobs.audit;

import io.rebundle.codec.bundle.Naming;
import io.rebundle.jobs.io.HadoopFileIO;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.mapreduce.Job;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.execution.datasources.FileFormat;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The {@code tfcheckpoint} data source: one row per tensor of every checkpoint under the given
 * paths, with the fixed schema {@link TensorColumns#SCHEMA}. {@code
 * spark.read.format("tfcheckpoint")} goes through DataSource V2 ({@link TfCheckpointTable}) and its
 * planner (discovery, byte-range partitions). SQL over a path (<code>
 * SELECT ... FROM tfcheckpoint.`hdfs://.../models`</code>) goes through Spark's SQL-on-files rule,
 * which accepts only {@link FileFormat}s: so this class is one too. On that path Spark lists the
 * files itself and hands each to {@link #buildReader}; every {@code .index} file yields its
 * checkpoint's rows (with the same scanner, pruning and pushdown; one task per checkpoint, no
 * byte-range splitting) and every other file yields none. It is never a sink.
 */
public final class TfCheckpointSource implements TableProvider, DataSourceRegister, FileFormat {
  public static final String SHORT_NAME = "tfcheckpoint";

  @Override
  public String shortName() {
    return SHORT_NAME;
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return TensorColumns.SCHEMA;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return new TfCheckpointTable(SourceOptions.parse(properties));
  }

  @Override
  public Option<StructType> inferSchema(
      SparkSession sparkSession,
      scala.collection.immutable.Map<String, String> options,
      scala.collection.immutable.Seq<FileStatus> files) {
    return Option.apply(TensorColumns.SCHEMA);
  }

  @Override
  public OutputWriterFactory prepareWrite(
      SparkSession sparkSession,
      Job job,
      scala.collection.immutable.Map<String, String> options,
      StructType dataSchema) {
    throw new UnsupportedOperationException(
        "Cannot write with " + SHORT_NAME + ": it is a read-only source");
  }

  @Override
  public boolean isSplitable(
      SparkSession spark,
      scala.collection.immutable.Map<String, String> options,
      org.apache.hadoop.fs.Path path) {
    return false;
  }

  @Override
  public scala.Function1<PartitionedFile, scala.collection.Iterator<InternalRow>> buildReader(
      SparkSession spark,
      StructType dataSchema,
      StructType partitionSchema,
      StructType requiredSchema,
      scala.collection.immutable.Seq<Filter> filters,
      scala.collection.immutable.Map<String, String> options,
      Configuration hadoopConf) {
    SourceOptions so = SourceOptions.parse(CollectionConverters.asJava(options));
    PushedFilters pushed =
        PushedFilters.of(CollectionConverters.asJava(filters).toArray(new Filter[0]));
    ScanOptions scan = TfCheckpointScan.scanOptions(spark, so, requiredSchema, pushed);
    int[] columns = TfCheckpointScan.columns(requiredSchema);
    return new FileReader(new HadoopFileIO(new Configuration(hadoopConf)), scan, pushed, columns);
  }

  /** Reads one listed file: the rows of its checkpoint if it is an index, nothing otherwise. */
  private static final class FileReader
      extends scala.runtime.AbstractFunction1<
          PartitionedFile, scala.collection.Iterator<InternalRow>>
      implements java.io.Serializable {
    private final HadoopFileIO io;
    private final ScanOptions options;
    private final PushedFilters filters;
    private final int[] columns;

    FileReader(HadoopFileIO io, ScanOptions options, PushedFilters filters, int[] columns) {
      this.io = io;
      this.options = options;
      this.filters = filters;
      this.columns = columns;
    }

    @Override
    public scala.collection.Iterator<InternalRow> apply(PartitionedFile file) {
      String location = file.toPath().toString();
      if (!location.endsWith(Naming.INDEX_SUFFIX)) {
        return scala.collection.Iterator.empty();
      }
      String prefix = location.substring(0, location.length() - Naming.INDEX_SUFFIX.length());
      if (!filters.acceptsCheckpoint(prefix)) {
        return scala.collection.Iterator.empty();
      }
      java.util.Iterator<Object[]> rows =
          TfCheckpointScan.rows(io, options, List.of(CheckpointWork.whole(prefix)));
      java.util.Iterator<InternalRow> out =
          new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
              return rows.hasNext();
            }

            @Override
            public InternalRow next() {
              return TfCheckpointScan.project(rows.next(), columns);
            }
          };
      return CollectionConverters.asScala(out);
    }
  }

  @Override
  public String toString() {
    return SHORT_NAME;
  }
}
