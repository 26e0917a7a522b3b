package io.rebundle.jobs.audit;

import java.util.List;
import java.util.Set;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The fixed schema of the {@code tfcheckpoint} data source and of the audit's {@code tensors} table
 * (README "Audit"), and which columns need what to be read.
 */
public final class TensorColumns {
  private TensorColumns() {}

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            field("checkpoint", DataTypes.StringType, false),
            field("format", DataTypes.StringType, false),
            field("key", DataTypes.StringType, false),
            field("full_name", DataTypes.StringType, true),
            field("object_path", DataTypes.StringType, true),
            field("dtype", DataTypes.StringType, false),
            field("shape", DataTypes.createArrayType(DataTypes.LongType, false), false),
            field("elements", DataTypes.LongType, false),
            field("bytes", DataTypes.LongType, false),
            field("shard", DataTypes.IntegerType, true),
            field("offset", DataTypes.LongType, true),
            field("crc32c", DataTypes.LongType, true),
            field("crc_ok", DataTypes.BooleanType, true),
            field("nan_count", DataTypes.LongType, true),
            field("posinf_count", DataTypes.LongType, true),
            field("neginf_count", DataTypes.LongType, true),
            field("zero_count", DataTypes.LongType, true),
            field("negative_count", DataTypes.LongType, true),
            field("positive_count", DataTypes.LongType, true),
            field("min", DataTypes.DoubleType, true),
            field("max", DataTypes.DoubleType, true),
            field("mean", DataTypes.DoubleType, true),
            field("std", DataTypes.DoubleType, true),
            field("l2_norm", DataTypes.DoubleType, true),
            field("abs_max", DataTypes.DoubleType, true),
            field("fingerprint", DataTypes.StringType, true),
            field("is_optimizer_slot", DataTypes.BooleanType, false),
            field("problem_kind", DataTypes.StringType, true),
            field("problem", DataTypes.StringType, true),
          });

  /** Columns computed from the tensor's bytes: asking for any of them makes the scan read data. */
  public static final Set<String> DATA =
      Set.of(
          "crc_ok",
          "nan_count",
          "posinf_count",
          "neginf_count",
          "zero_count",
          "negative_count",
          "positive_count",
          "min",
          "max",
          "mean",
          "std",
          "l2_norm",
          "abs_max",
          "fingerprint",
          "problem_kind",
          "problem");

  /** Columns of the statistics (the rest of {@link #DATA} needs only CRC and fingerprint). */
  public static final Set<String> STATS =
      Set.of(
          "nan_count",
          "posinf_count",
          "neginf_count",
          "zero_count",
          "negative_count",
          "positive_count",
          "min",
          "max",
          "mean",
          "std",
          "l2_norm",
          "abs_max");

  /** Columns that come from a TF2 checkpoint's object graph (a small string tensor in the data). */
  public static final Set<String> GRAPH = Set.of("full_name", "object_path");

  public static final List<String> NAMES = List.of(SCHEMA.fieldNames());

  public static int index(String name) {
    return SCHEMA.fieldIndex(name);
  }

  private static StructField field(
      String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
    return new StructField(name, type, nullable, org.apache.spark.sql.types.Metadata.empty());
  }
}
