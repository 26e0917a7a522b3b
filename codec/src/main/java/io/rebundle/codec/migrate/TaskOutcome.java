package io.rebundle.codec.migrate;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.commit.StagedShard;
import java.io.Serializable;

/**
 * What one {@link MigrationTask} ended with. Either its output file is complete in the staging area
 * ({@link Done}), or the input is bad in a way no retry can fix ({@link InputProblem}: corrupt or
 * unsupported bytes found while streaming). Tasks return input problems instead of throwing them,
 * so an engine retries only what may succeed on a second try (storage failures, lost executors),
 * and the driver turns the problem into the error the user sees, after removing the staged output.
 */
public sealed interface TaskOutcome extends Serializable {
  /** The output shard the task was for. */
  int shard();

  /** The task's file is staged: its entries (offset, size, CRC), bytes and time taken. */
  record Done(StagedShard staged, long nanos) implements TaskOutcome {
    @Override
    public int shard() {
      return staged.shard();
    }

    public long bytes() {
      return staged.bytes();
    }
  }

  /**
   * The input is corrupt ({@code unsupported} false) or something Rebundle refuses to read ({@code
   * unsupported} true); {@code message} is the one line the user sees (file, key, offset).
   */
  record InputProblem(int shard, boolean unsupported, String message) implements TaskOutcome {
    /** The problem as the exception callers raise (exit code 3). */
    public RebundleException toException() {
      return unsupported
          ? new UnsupportedCheckpointException(message)
          : new CorruptCheckpointException(message);
    }

    /** The outcome for {@code e}, found by a task writing {@code shard}. */
    public static InputProblem of(int shard, RebundleException e) {
      return new InputProblem(shard, e instanceof UnsupportedCheckpointException, e.getMessage());
    }
  }
}
