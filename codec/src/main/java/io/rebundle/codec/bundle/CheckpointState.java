package io.rebundle.codec.bundle;

import com.google.protobuf.TextFormat;
import io.rebundle.codec.Errors;
import io.rebundle.codec.io.AtomicWrite;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.proto.CheckpointState.Builder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The {@code checkpoint} state file of a model directory (tensorbundle-format.md §1.3): protobuf
 * text naming the latest checkpoint, the ones still kept and when each was written. Paths are
 * stored as written (relative paths are relative to the directory holding the file). Timestamps are
 * seconds since the epoch; TensorFlow's savers keep one per kept path, older writers none (an empty
 * list), and this class never invents a list that does not line up with the paths.
 *
 * <p>Rebundle <em>updates</em> a state file as TensorFlow's {@code update_checkpoint_state} does
 * ({@link #withCheckpoint}): what the file says about existing checkpoints is kept, and a new one
 * is added (docs/commit-protocol.md, "The state file").
 */
public record CheckpointState(
    String modelCheckpointPath,
    List<String> allModelCheckpointPaths,
    List<Double> allModelCheckpointTimestamps,
    double lastPreservedTimestamp) {
  /** Largest state file we parse; real ones are a few hundred bytes. */
  private static final int MAX_BYTES = 16 << 20;

  /** The prefix of the temporary file a state file is written to before its rename. */
  public static final String TEMP_PREFIX = Naming.STATE_FILE + ".tmp";

  public CheckpointState {
    allModelCheckpointPaths = List.copyOf(allModelCheckpointPaths);
    allModelCheckpointTimestamps = List.copyOf(allModelCheckpointTimestamps);
  }

  /** A state without timestamps (as older TensorFlow writers leave it). */
  public CheckpointState(String modelCheckpointPath, List<String> allModelCheckpointPaths) {
    this(modelCheckpointPath, allModelCheckpointPaths, List.of(), 0);
  }

  /** A new state file naming one checkpoint, {@code latest}. */
  public static CheckpointState of(String latest) {
    return new CheckpointState(latest, List.of(latest));
  }

  public static CheckpointState read(FileIO fileIO, String stateFile) {
    byte[] bytes;
    try (RangeReader r = fileIO.newInputFile(stateFile).open()) {
      if (r.length() > MAX_BYTES) {
        throw Errors.malformedStateFile(
            stateFile, r.length() + " bytes is too large for a state file");
      }
      bytes = r.readFully(0, (int) r.length());
    }
    Builder b = io.rebundle.codec.proto.CheckpointState.newBuilder();
    try {
      TextFormat.merge(new String(bytes, StandardCharsets.UTF_8), b);
    } catch (TextFormat.ParseException e) {
      throw Errors.malformedStateFile(stateFile, e.getMessage());
    }
    if (b.getModelCheckpointPath().isEmpty()) {
      throw Errors.malformedStateFile(
          stateFile, "invalid checkpoint state, no model_checkpoint_path");
    }
    // No file system accepts a NUL byte in a path; such a state file was not written by TensorFlow.
    if (b.getModelCheckpointPath().indexOf('\0') >= 0
        || b.getAllModelCheckpointPathsList().stream().anyMatch(path -> path.indexOf('\0') >= 0)) {
      throw Errors.malformedStateFile(stateFile, "a checkpoint path contains a NUL byte");
    }
    return new CheckpointState(
        b.getModelCheckpointPath(),
        b.getAllModelCheckpointPathsList(),
        b.getAllModelCheckpointTimestampsList(),
        b.getLastPreservedTimestamp());
  }

  /**
   * This state with checkpoint {@code path} recorded, as TensorFlow's {@code
   * update_checkpoint_state} records a save, except that the latest checkpoint moves only when
   * {@code setLatest}:
   *
   * <ul>
   *   <li>A path already listed ({@code sameCheckpoint} decides, so an absolute and a relative
   *       spelling of one checkpoint are one) keeps its place and timestamp; with {@code setLatest}
   *       it moves to the end, stamped {@code nowSeconds}, and becomes the latest.
   *   <li>A new path is appended, stamped {@code nowSeconds} when the timestamps line up with the
   *       paths; the latest stays unless {@code setLatest}.
   *   <li>Every other path, timestamp and {@code last_preserved_timestamp} is kept as it was.
   * </ul>
   */
  public CheckpointState withCheckpoint(
      String path, boolean setLatest, double nowSeconds, Predicate<String> sameCheckpoint) {
    List<String> paths = new ArrayList<>(allModelCheckpointPaths);
    boolean stamped = allModelCheckpointTimestamps.size() == paths.size();
    List<Double> stamps = new ArrayList<>(allModelCheckpointTimestamps);
    int at = -1;
    for (int i = 0; i < paths.size(); i++) {
      if (sameCheckpoint.test(paths.get(i))) {
        at = i;
        break;
      }
    }
    String latest = modelCheckpointPath;
    if (at >= 0 && !setLatest) {
      return this;
    }
    String entry = at >= 0 ? paths.get(at) : path;
    if (at >= 0) {
      paths.remove(at);
      if (stamped) {
        stamps.remove(at);
      }
    }
    paths.add(entry);
    if (stamped) {
      stamps.add(nowSeconds);
    }
    if (setLatest || sameCheckpoint.test(latest)) {
      latest = entry;
    }
    return new CheckpointState(latest, paths, stamps, lastPreservedTimestamp);
  }

  public String toText() {
    return TextFormat.printer()
        .escapingNonAscii(false)
        .printToString(
            io.rebundle.codec.proto.CheckpointState.newBuilder()
                .setModelCheckpointPath(modelCheckpointPath)
                .addAllAllModelCheckpointPaths(allModelCheckpointPaths)
                .addAllAllModelCheckpointTimestamps(allModelCheckpointTimestamps)
                .setLastPreservedTimestamp(lastPreservedTimestamp)
                .build());
  }

  /**
   * Records checkpoint {@code prefix} in the state file of its directory: reads it, adds the
   * checkpoint ({@link #withCheckpoint}; latest only if {@code setLatest}) and writes it back
   * atomically through {@code temp}; creates it, naming the checkpoint as the latest, if there is
   * none. A state file that cannot be read is left as it is, with a warning, rather than replaced.
   */
  public static void record(
      FileIO io,
      String prefix,
      boolean setLatest,
      String temp,
      java.util.function.Consumer<String> warnings) {
    String parent = io.parent(prefix);
    String dir = parent.isEmpty() ? "." : parent;
    String name = io.fileName(prefix);
    String file = io.join(dir, Naming.STATE_FILE);
    CheckpointState next;
    if (io.exists(file)) {
      CheckpointState old;
      try {
        old = read(io, file);
      } catch (io.rebundle.codec.CorruptCheckpointException e) {
        warnings.accept(
            "left the state file " + file + " as it is, it cannot be read: " + e.getMessage());
        return;
      }
      next =
          old.withCheckpoint(
              name,
              setLatest,
              System.currentTimeMillis() / 1000.0,
              path -> path.equals(name) || path.equals(prefix) || path.equals(io.join(dir, name)));
      if (next.equals(old)) {
        return;
      }
    } else {
      next = of(name);
    }
    next.write(io, dir, temp);
  }

  /**
   * Writes the state file into {@code directory} atomically, through a temporary file {@code
   * checkpoint.tmp<random>} beside it (as TensorFlow's own atomic writes name theirs).
   */
  public void write(FileIO io, String directory) {
    String temp =
        io.join(
            directory,
            TEMP_PREFIX
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()));
    write(io, directory, temp);
  }

  /**
   * Writes the state file into {@code directory} atomically ({@link AtomicWrite}), through {@code
   * temp} (on the same file system) where renames are atomic.
   */
  public void write(FileIO io, String directory, String temp) {
    AtomicWrite.write(
        io, io.join(directory, Naming.STATE_FILE), temp, toText().getBytes(StandardCharsets.UTF_8));
  }
}
