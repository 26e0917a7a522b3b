package io.rebundle.jobs.audit;

import java.io.Serializable;

/** One row of the {@code findings} table. */
public record Finding(String checkpoint, String key, String kind, String severity, String message)
    implements Serializable {
  public static final String ERROR = "error";
  public static final String WARNING = "warning";
  public static final String INFO = "info";

  /** Every kind and its severity (README "Audit"). */
  public static String severityOf(String kind) {
    return switch (kind) {
      case "crc_mismatch",
          "missing_shard",
          "truncated",
          "unreadable",
          "v1_format",
          "dangling_state",
          "nan",
          "inf" ->
          ERROR;
      case "duplicate_checkpoint", "orphan_data_file" -> WARNING;
      case "all_zero", "duplicate_tensor" -> INFO;
      default -> throw new IllegalArgumentException("Invalid finding kind: " + kind);
    };
  }

  public static Finding of(String checkpoint, String key, String kind, String message) {
    return new Finding(checkpoint, key, kind, severityOf(kind), message);
  }

  /** 2 for error, 1 for warning, 0 for info. */
  public static int rank(String severity) {
    return switch (severity) {
      case ERROR -> 2;
      case WARNING -> 1;
      case INFO -> 0;
      default ->
          throw new IllegalArgumentException(
              "Invalid severity " + severity + ": use error, warning or info");
    };
  }
}
