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
    CheckpointState state = CheckpointState.read(io, dir.resolve("checkpoint").toString());
    assertEquals(
        new CheckpointState(
            "ckpt-2",
            List.of("ckpt-1", "ckpt-2"),
            List.of(1700000000.5, 1700000100.25),
            1699999999.0),
        state);
    // Written back, nothing of it is lost.
    state.write(io, dir.toString());
    assertEquals(state, CheckpointState.read(io, dir.resolve("checkpoint").toString()));
    assertEquals(List.of("checkpoint"), BundleFixtures.list(dir));
  }

  private static final java.util.function.Predicate<String> NONE_SAME = p -> false;

  @Test
  void addingACheckpointKeepsTheLatestPathsAndTimestamps() {
    CheckpointState tf =
        new CheckpointState(
            "model.ckpt-1000",
            List.of("model.ckpt-500", "model.ckpt-1000"),
            List.of(10.0, 20.0),
            5.0);
    CheckpointState added = tf.withCheckpoint("ckpt-tf2", false, 30.0, p -> p.equals("ckpt-tf2"));
    assertEquals(
        new CheckpointState(
            "model.ckpt-1000",
            List.of("model.ckpt-500", "model.ckpt-1000", "ckpt-tf2"),
            List.of(10.0, 20.0, 30.0),
            5.0),
        added);
    // Recording it again changes nothing (a rerun, an overwrite).
    assertEquals(added, added.withCheckpoint("ckpt-tf2", false, 40.0, p -> p.equals("ckpt-tf2")));
  }

  @Test
  void settingTheLatestMovesItLastAsTensorFlowKeepsIt() {
    CheckpointState tf = new CheckpointState("b", List.of("a", "b"), List.of(10.0, 20.0), 0);
    assertEquals(
        new CheckpointState("c", List.of("a", "b", "c"), List.of(10.0, 20.0, 30.0), 0),
        tf.withCheckpoint("c", true, 30.0, NONE_SAME));
    // An existing entry, spelt absolutely in the file, keeps its spelling and becomes the latest.
    CheckpointState abs =
        new CheckpointState("/m/b", List.of("/m/a", "/m/b"), List.of(10.0, 20.0), 0);
    assertEquals(
        new CheckpointState("/m/a", List.of("/m/b", "/m/a"), List.of(20.0, 30.0), 0),
        abs.withCheckpoint("a", true, 30.0, p -> p.equals("/m/a")));
  }

  @Test
  void neverInventsTimestampsThatDoNotLineUp() {
    CheckpointState old = new CheckpointState("a", List.of("a"));
    assertEquals(
        new CheckpointState("a", List.of("a", "b")),
        old.withCheckpoint("b", false, 30.0, NONE_SAME));
  }

  @Test
  void recordUpdatesTheFileBesideACheckpointOrCreatesIt() throws IOException {
    String prefix = dir.resolve("ckpt-tf2").toString();
    String temp = dir.resolve("checkpoint.tmp-test").toString();
    List<String> warnings = new java.util.ArrayList<>();
    CheckpointState.record(io, prefix, false, temp, warnings::add);
    assertEquals(
        CheckpointState.of("ckpt-tf2"),
        CheckpointState.read(io, dir.resolve("checkpoint").toString()));
    new CheckpointState("model.ckpt-9", List.of("model.ckpt-9"), List.of(9.0), 0)
        .write(io, dir.toString());
    CheckpointState.record(io, prefix, false, temp, warnings::add);
    CheckpointState now = CheckpointState.read(io, dir.resolve("checkpoint").toString());
    assertEquals("model.ckpt-9", now.modelCheckpointPath());
    assertEquals(List.of("model.ckpt-9", "ckpt-tf2"), now.allModelCheckpointPaths());
    assertEquals(2, now.allModelCheckpointTimestamps().size());
    // A state file that cannot be read is left exactly as it is.
    Files.writeString(dir.resolve("checkpoint"), "model_checkpoint_path: {\n");
    CheckpointState.record(io, prefix, true, temp, warnings::add);
    assertEquals("model_checkpoint_path: {\n", Files.readString(dir.resolve("checkpoint")));
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(
        warnings
            .get(0)
            .startsWith("left the state file " + dir.resolve("checkpoint") + " as it is"),
        warnings.get(0));
    assertEquals(List.of("checkpoint"), BundleFixtures.list(dir));
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
