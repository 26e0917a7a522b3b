package io.rebundle.codec.table;

import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Builds one block (tensorbundle-format.md §2.2): prefix-compressed entries with a restart point
 * every {@code restartInterval} entries, then the restart array and its length. Not thread-safe.
 */
public final class BlockBuilder {
  private final int restartInterval;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private int[] restarts = new int[16];
  private int numRestarts;
  private int counter;
  private byte[] lastKey = new byte[0];
  private boolean finished;

  public BlockBuilder(int restartInterval) {
    if (restartInterval < 1) {
      throw new IllegalArgumentException("Invalid restart interval: " + restartInterval);
    }
    this.restartInterval = restartInterval;
    reset();
  }

  public void reset() {
    buffer.reset();
    numRestarts = 0;
    addRestart(0);
    counter = 0;
    lastKey = new byte[0];
    finished = false;
  }

  private void addRestart(int offset) {
    if (numRestarts == restarts.length) {
      restarts = Arrays.copyOf(restarts, restarts.length * 2);
    }
    restarts[numRestarts++] = offset;
  }

  public boolean isEmpty() {
    return buffer.size() == 0;
  }

  /** Size of the block if it were finished now, as LevelDB estimates it. */
  public long currentSizeEstimate() {
    return buffer.size() + 4L * numRestarts + 4;
  }

  public void add(byte[] key, byte[] value) {
    if (finished) {
      throw new IllegalStateException("Cannot add to a finished block");
    }
    int shared = 0;
    if (counter < restartInterval) {
      int max = Math.min(lastKey.length, key.length);
      while (shared < max && lastKey[shared] == key[shared]) {
        shared++;
      }
    } else {
      addRestart(buffer.size());
      counter = 0;
    }
    int nonShared = key.length - shared;
    Varints.putVarint64(buffer, shared);
    Varints.putVarint64(buffer, nonShared);
    Varints.putVarint64(buffer, value.length);
    buffer.write(key, shared, nonShared);
    buffer.write(value, 0, value.length);
    lastKey = key;
    counter++;
  }

  /** The finished block contents; the builder must be {@link #reset()} before reuse. */
  public byte[] finish() {
    for (int i = 0; i < numRestarts; i++) {
      Varints.putFixed32(buffer, restarts[i]);
    }
    Varints.putFixed32(buffer, numRestarts);
    finished = true;
    return buffer.toByteArray();
  }
}
