package io.rebundle.jobs.spark;

import io.rebundle.codec.exec.ProgressSink;
import org.apache.spark.util.LongAccumulator;

/**
 * Task progress into two Spark accumulators (bytes, tensors), which executors report with their
 * heartbeats and the {@link ProgressListener} renders on the driver. Serializable with the task.
 */
public final class AccumulatorProgress implements ProgressSink {
  private static final long serialVersionUID = 1L;
  private final LongAccumulator bytes;
  private final LongAccumulator tensors;

  public AccumulatorProgress(LongAccumulator bytes, LongAccumulator tensors) {
    this.bytes = bytes;
    this.tensors = tensors;
  }

  @Override
  public void bytes(long n) {
    bytes.add(n);
  }

  @Override
  public void tensors(long n) {
    tensors.add(n);
  }
}
