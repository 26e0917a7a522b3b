package io.rebundle.jobs.audit;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.jobs.discover.CheckpointDiscovery;
import io.rebundle.jobs.io.HadoopFileIO;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/** The planned scan: byte-range partitions of checkpoints, read by {@link TensorScanner}. */
final class TfCheckpointScan implements Scan, Batch {
  private final SourceOptions options;
  private final StructType required;
  private final PushedFilters filters;
  private InputPartition[] partitions;
  private FileIO io;
  private ScanOptions scanOptions;

  TfCheckpointScan(SourceOptions options, StructType required, PushedFilters filters) {
    this.options = options;
    this.required = required;
    this.filters = filters;
  }

  @Override
  public StructType readSchema() {
    return required;
  }

  @Override
  public String description() {
    return TfCheckpointSource.SHORT_NAME
        + " ["
        + String.join(", ", options.paths())
        + "] pushed "
        + filters.pushed();
  }

  @Override
  public Batch toBatch() {
    return this;
  }

  /** One task's checkpoints. */
  record TensorPartition(List<CheckpointWork> works) implements InputPartition {}

  /**
   * Plans partitions (and runs the byte-range tasks of huge tensors); shared with the V1 relation.
   */
  static Planned planFor(
      SparkSession spark, SourceOptions options, StructType required, PushedFilters filters) {
    if (options.paths().isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot read " + TfCheckpointSource.SHORT_NAME + ": no path given");
    }
    Configuration conf = options.hadoopConf(spark);
    FileIO io = new HadoopFileIO(conf);
    ScanOptions so = scanOptions(spark, options, required, filters);
    CheckpointDiscovery.Result found =
        CheckpointDiscovery.discover(conf, options.paths(), options.discovery(spark));
    TensorScanPlanner.Plan plan =
        TensorScanPlanner.plan(
            JavaSparkContext.fromSparkContext(spark.sparkContext()),
            io,
            found,
            so,
            filters::acceptsCheckpoint);
    return new Planned(io, so, plan);
  }

  record Planned(FileIO io, ScanOptions options, TensorScanPlanner.Plan plan) {}

  /** What the asked-for columns need read, and the session's or the options' partition sizes. */
  static ScanOptions scanOptions(
      SparkSession spark, SourceOptions options, StructType required, PushedFilters filters) {
    boolean data = TfCheckpointScanBuilder.needs(required, TensorColumns.DATA);
    return new ScanOptions(
        data,
        TfCheckpointScanBuilder.needs(required, TensorColumns.STATS),
        TfCheckpointScanBuilder.needs(required, TensorColumns.GRAPH),
        filters.keys(),
        filters.keyPrefixes(),
        filters.dtypes(),
        options.ignoreCorruptFiles(spark),
        roundToChunk(
            options.bytes(
                spark,
                "maxPartitionBytes",
                "spark.sql.files.maxPartitionBytes",
                ScanOptions.DEFAULT_SPLIT)),
        options.bytes(
            spark,
            "openCostInBytes",
            "spark.sql.files.openCostInBytes",
            ScanOptions.DEFAULT_OPEN_COST));
  }

  static int[] columns(StructType required) {
    int[] columns = new int[required.size()];
    for (int i = 0; i < columns.length; i++) {
      columns[i] = TensorColumns.index(required.fields()[i].name());
    }
    return columns;
  }

  /** A scanner row as a Catalyst row of the asked-for columns. */
  static InternalRow project(Object[] row, int[] columns) {
    Object[] values = new Object[columns.length];
    for (int i = 0; i < columns.length; i++) {
      values[i] = toCatalyst(row[columns[i]]);
    }
    return new GenericInternalRow(values);
  }

  private static long roundToChunk(long bytes) {
    long c = TensorDigest.CHUNK;
    return Math.max(c, bytes / c * c);
  }

  @Override
  public InputPartition[] planInputPartitions() {
    if (partitions == null) {
      Planned p = planFor(SparkSession.active(), options, required, filters);
      io = p.io();
      scanOptions = p.options();
      List<InputPartition> out = new ArrayList<>();
      for (List<CheckpointWork> w : p.plan().partitions()) {
        out.add(new TensorPartition(w));
      }
      partitions = out.toArray(new InputPartition[0]);
    }
    return partitions;
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    planInputPartitions();
    return new ReaderFactory(io, scanOptions, columns(required));
  }

  /** Makes the readers on the executors. */
  record ReaderFactory(FileIO io, ScanOptions options, int[] columns)
      implements PartitionReaderFactory {
    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      Iterator<Object[]> rows = rows(io, options, ((TensorPartition) partition).works());
      return new PartitionReader<>() {
        private Object[] current;

        @Override
        public boolean next() {
          if (!rows.hasNext()) {
            return false;
          }
          current = rows.next();
          return true;
        }

        @Override
        public InternalRow get() {
          return project(current, columns);
        }

        @Override
        public void close() {
          if (rows instanceof AutoCloseable c) {
            try {
              c.close();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        }
      };
    }
  }

  static Object toCatalyst(Object v) {
    if (v instanceof String s) {
      return UTF8String.fromString(s);
    }
    if (v instanceof long[] a) {
      return UnsafeArrayData.fromPrimitiveArray(a);
    }
    return v;
  }

  /** The rows of a partition's checkpoints, one scanner at a time, sharing one buffer. */
  static Iterator<Object[]> rows(FileIO io, ScanOptions options, List<CheckpointWork> works) {
    byte[] buffer = options.readData() ? new byte[CheckpointReader.BUFFER_SIZE] : new byte[0];
    return new ChainedRows(io, options, works, buffer);
  }

  private static final class ChainedRows
      implements Iterator<Object[]>, AutoCloseable, Serializable {
    private final transient FileIO io;
    private final transient ScanOptions options;
    private final transient Iterator<CheckpointWork> works;
    private final transient byte[] buffer;
    private transient TensorScanner current;

    ChainedRows(FileIO io, ScanOptions options, List<CheckpointWork> works, byte[] buffer) {
      this.io = io;
      this.options = options;
      this.works = works.iterator();
      this.buffer = buffer;
    }

    @Override
    public boolean hasNext() {
      while (current == null || !current.hasNext()) {
        if (current != null) {
          current.close();
          current = null;
        }
        if (!works.hasNext()) {
          return false;
        }
        current = new TensorScanner(io, works.next(), options, buffer);
      }
      return true;
    }

    @Override
    public Object[] next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      return current.next();
    }

    @Override
    public void close() {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }
}
