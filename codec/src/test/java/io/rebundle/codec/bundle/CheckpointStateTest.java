package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStateTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  @Test
  void printsTheTextTensorFlowWrites() {
    assertEquals(
        "model_checkpoint_path: \"ckpt-1\"\nall_model_checkpoint_paths: \"ckpt-1\"\n",
        CheckpointState.of("ckpt-1").toText());
  }

  @Test
  void writesAndReadsBack() throws IOException {
    CheckpointState state = new CheckpointState("ckpt-3", List.of("ckpt-1", "ckpt-2", "ckpt-3"));
    state.write(io, dir.toString());
    assertEquals(
        "model_checkpoint_path: \"ckpt-3\"\nall_model_checkpoint_paths: \"ckpt-1\"\n"
            + "all_model_checkpoint_paths: \"ckpt-2\"\nall_model_checkpoint_paths: \"ckpt-3\"\n",
        Files.readString(dir.resolve("checkpoint")));
    assertEquals(state, CheckpointState.read(io, dir.resolve("checkpoint").toString()));
    // Writing again replaces the file and leaves no temporary file behind.
    CheckpointState.of("ckpt-4").write(io, dir.toString());
    assertEquals(
        CheckpointState.of("ckpt-4"),
        CheckpointState.read(io, dir.resolve("checkpoint").toString()));
    assertEquals(List.of("checkpoint"), BundleFixtures.list(dir));
  }

  @Test
  void readsTensorFlowStateWithTimestamps() throws IOException {
    Files.writeString(
        dir.resolve("checkpoint"),
        "model_checkpoint_path: \"ckpt-2\"\n"
            + "all_model_checkpoint_paths: \"ckpt-1\"\nall_model_checkpoint_paths: \"ckpt-2\"\n"
            + "all_model_checkpoint_timestamps: 1700000000.5\nall_model_checkpoint_timestamps: 1700000100.25\n"
            + "last_preserved_timestamp: 1699999999.0\n");
    assertEquals(
        new CheckpointState("ckpt-2", List.of("ckpt-1", "ckpt-2")),
        CheckpointState.read(io, dir.resolve("checkpoint").toString()));
  }

  @Test
  void keepsNonAsciiPaths() throws IOException {
    CheckpointState state = CheckpointState.of("/data/mod\u00e8le/ckpt-1");
    state.write(io, dir.toString());
    assertEquals(state, CheckpointState.read(io, dir.resolve("checkpoint").toString()));
  }

  @Test
  void rejectsStateWithoutModelCheckpointPath() throws IOException {
    Files.writeString(dir.resolve("checkpoint"), "all_model_checkpoint_paths: \"ckpt-1\"\n");
    String file = dir.resolve("checkpoint").toString();
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> CheckpointState.read(io, file));
    assertEquals(
        "Cannot read checkpoint state "
            + file
            + ": invalid checkpoint state, no model_checkpoint_path",
        e.getMessage());
  }

  @Test
  void rejectsUnparsableState() throws IOException {
    Files.writeString(dir.resolve("checkpoint"), "model_checkpoint_path: ckpt-1 {\n");
    String file = dir.resolve("checkpoint").toString();
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> CheckpointState.read(io, file));
    assertTrue(
        e.getMessage().startsWith("Cannot read checkpoint state " + file + ": "), e.getMessage());
  }
}
