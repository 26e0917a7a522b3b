package io.rebundle.jobs.spark;

import io.rebundle.jobs.cli.Progress;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reports a copy's progress to a {@link Progress} renderer (a terminal line, or log lines when
 * stderr is not a terminal): bytes and tensors done of the total, rate, ETA, tasks finished. Fed by
 * two accumulators that tasks add to as they write; running tasks report through executor
 * heartbeats, finished tasks through their end event.
 */
public final class ProgressListener extends SparkListener {
  private final PrintWriter err;
  private final long totalBytes;
  private final long totalTensors;
  private final int totalTasks;
  private final long bytesId;
  private final long tensorsId;
  private final Map<Long, long[]> running = new ConcurrentHashMap<>();
  private volatile long doneBytes;
  private volatile long doneTensors;
  private volatile int doneTasks;
  private final Progress progress;
  private long lastPrint;

  public ProgressListener(
      PrintWriter err,
      long totalBytes,
      long totalTensors,
      int totalTasks,
      LongAccumulator bytes,
      LongAccumulator tensors) {
    this.err = err;
    this.totalBytes = totalBytes;
    this.totalTensors = totalTensors;
    this.totalTasks = totalTasks;
    this.bytesId = bytes.id();
    this.tensorsId = tensors.id();
    this.progress = Progress.create(err, "convert", totalBytes, false);
  }

  private long[] values(scala.collection.Iterable<AccumulableInfo> infos) {
    long[] v = new long[2];
    for (AccumulableInfo info : CollectionConverters.asJava(infos)) {
      Object update = info.update().isDefined() ? info.update().get() : null;
      if (update instanceof Long l) {
        if (info.id() == bytesId) {
          v[0] = l;
        } else if (info.id() == tensorsId) {
          v[1] = l;
        }
      }
    }
    return v;
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t :
        CollectionConverters.asJava(update.accumUpdates())) {
      running.put((Long) t._1(), values(t._4()));
    }
    maybePrint(false);
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
    running.remove(end.taskInfo().taskId());
    if (end.taskInfo().successful()) {
      long[] v = values(end.taskInfo().accumulables());
      doneBytes += v[0];
      doneTensors += v[1];
      doneTasks++;
    }
    maybePrint(doneTasks == totalTasks);
  }

  private synchronized void maybePrint(boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastPrint < 200_000_000L) {
      return;
    }
    lastPrint = now;
    long bytes = doneBytes;
    long tensors = doneTensors;
    for (long[] v : running.values()) {
      bytes += v[0];
      tensors += v[1];
    }
    progress.update(
        bytes,
        String.format(
            "%d of %d tensors, tasks %d/%d", tensors, totalTensors, doneTasks, totalTasks));
  }

  /**
   * The job succeeded with {@code bytes} and {@code tensors} done (the driver's accumulator values,
   * complete once the job has returned): the last line says so even when the listener bus has not
   * yet delivered every task's end event.
   */
  public synchronized void succeeded(long bytes, long tensors) {
    running.clear();
    doneBytes = bytes;
    doneTensors = tensors;
    doneTasks = totalTasks;
    maybePrint(true);
  }

  public synchronized void finish() {
    progress.finish();
  }
}
