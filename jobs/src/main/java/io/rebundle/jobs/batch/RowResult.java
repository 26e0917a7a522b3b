package io.rebundle.jobs.batch;

import java.util.List;

/**
 * What happened to one row: {@code status}; {@code reason} (why it was skipped or not run) or
 * {@code error} (the one line the user would see from {@code convert}) with its {@code errorKind}
 * ({@code corrupt}, {@code usage}, {@code storage}, {@code internal}); data bytes and tensors
 * written; wall seconds from preparation to commit; and the output prefixes. Immutable.
 */
public record RowResult(
    BatchRow row,
    Status status,
    String reason,
    String error,
    String errorKind,
    long bytes,
    long tensors,
    double seconds,
    List<String> outputs) {
  public RowResult {
    outputs = List.copyOf(outputs);
  }

  /** A row's outcome. */
  public enum Status {
    /** Converted in this run (and its success record written). */
    CONVERTED("converted"),
    /** Already done: its success record matches its source, spec and output. */
    SKIPPED("skipped"),
    /** Failed: nothing of this run is left at its dst. */
    FAILED("failed"),
    /** Not attempted: the run stopped first ({@code --max-failures}). */
    NOT_RUN("not_run");

    private final String label;

    Status(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  static RowResult converted(
      BatchRow row, long bytes, long tensors, double seconds, List<String> outputs) {
    return new RowResult(row, Status.CONVERTED, null, null, null, bytes, tensors, seconds, outputs);
  }

  static RowResult skipped(BatchRow row, String reason, double seconds, List<String> outputs) {
    return new RowResult(row, Status.SKIPPED, reason, null, null, 0, 0, seconds, outputs);
  }

  static RowResult failed(BatchRow row, String error, String kind, double seconds) {
    return new RowResult(row, Status.FAILED, null, error, kind, 0, 0, seconds, List.of());
  }

  static RowResult notRun(BatchRow row, String reason) {
    return new RowResult(row, Status.NOT_RUN, reason, null, null, 0, 0, 0, List.of());
  }
}
