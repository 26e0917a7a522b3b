package io.rebundle.codec.bundle;

import com.google.protobuf.TextFormat;
import io.rebundle.codec.Errors;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.proto.CheckpointState.Builder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The {@code checkpoint} state file of a model directory (tensorbundle-format.md §1.3): protobuf
 * text naming the latest checkpoint and the ones still kept. Paths are stored as written (relative
 * paths are relative to the directory holding the file).
 */
public record CheckpointState(String modelCheckpointPath, List<String> allModelCheckpointPaths) {
  /** Largest state file we parse; real ones are a few hundred bytes. */
  private static final int MAX_BYTES = 16 << 20;

  public CheckpointState {
    allModelCheckpointPaths = List.copyOf(allModelCheckpointPaths);
  }

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
    return new CheckpointState(b.getModelCheckpointPath(), b.getAllModelCheckpointPathsList());
  }

  public String toText() {
    return TextFormat.printer()
        .escapingNonAscii(false)
        .printToString(
            io.rebundle.codec.proto.CheckpointState.newBuilder()
                .setModelCheckpointPath(modelCheckpointPath)
                .addAllAllModelCheckpointPaths(allModelCheckpointPaths)
                .build());
  }

  /** Writes the state file atomically: a temporary file renamed over the old one. */
  public void write(FileIO io, String directory) {
    String target = io.join(directory, Naming.STATE_FILE);
    String temp = target + ".tmp" + Long.toUnsignedString(new java.util.Random().nextLong());
    try (PositionOutputStream out = io.newOutputFile(temp).create()) {
      out.write(toText().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + temp + ": " + e.getMessage(), e);
    }
    io.delete(target);
    io.rename(temp, target);
  }
}
