package io.rebundle.codec.commit;

/**
 * What a commit does to the {@code checkpoint} state file beside the destination: nothing, record
 * the new checkpoint (keeping the latest as it is, unless there is no state file yet), or record it
 * as the latest ({@code --set-latest}). See {@link
 * io.rebundle.codec.bundle.CheckpointState#withCheckpoint}.
 */
public enum StateFileUpdate {
  NONE,
  ADD,
  ADD_AS_LATEST;

  /** {@code write} false: {@link #NONE}; else {@link #ADD_AS_LATEST} or {@link #ADD}. */
  public static StateFileUpdate of(boolean write, boolean setLatest) {
    return !write ? NONE : setLatest ? ADD_AS_LATEST : ADD;
  }
}
