package io.rebundle.codec.exec;

import java.io.Serializable;

/**
 * Receives progress while a task moves bytes: called after each chunk of at most {@link
 * WholeFileExecutor#COPY_CHUNK} bytes (of a whole-file copy, of a tensor copied in the kernel or
 * streamed, of a cast or a slice merge) and for whatever of a finished tensor the chunks did not
 * cover, so the reports of a task sum to its bytes; from the thread running the task.
 * Implementations must be cheap and thread-safe when several tasks share one (the in-process runner
 * does).
 */
public interface ProgressSink extends Serializable {
  /** A sink that ignores everything. */
  ProgressSink NONE =
      new ProgressSink() {
        private static final long serialVersionUID = 1L;

        @Override
        public void bytes(long n) {}

        @Override
        public void tensors(long n) {}
      };

  /** {@code n} more bytes were written (or linked, or verified in place of a write). */
  void bytes(long n);

  /** {@code n} more tensors are complete. */
  void tensors(long n);
}
