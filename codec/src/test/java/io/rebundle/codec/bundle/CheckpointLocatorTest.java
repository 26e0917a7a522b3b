package io.rebundle.codec.bundle;

import static io.rebundle.codec.bundle.BundleFixtures.iota;
import static io.rebundle.codec.util.TestBytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.LegacyCheckpointException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.table.TableWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointLocatorTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String path(String relative) {
    return dir.resolve(relative).toString();
  }

  private void checkpoint(String prefix) {
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix)) {
      w.add("w", iota(3));
      w.finish();
    }
  }

  private void stateFile(Path directory, String text) throws IOException {
    Files.createDirectories(directory);
    Files.writeString(directory.resolve("checkpoint"), text);
  }

  /** A V1 checkpoint file: an SSTable whose header entry holds SavedTensorSlices (starts 0x0A). */
  private void v1Checkpoint(String file) throws IOException {
    try (PositionOutputStream out = io.newOutputFile(file).create()) {
      TableWriter t = new TableWriter(out, file);
      t.add(new byte[0], hex("0A 04 0A 02 0A 00"));
      t.add(hex("00 77 00 01 01 01 80 7f"), hex("12 00"));
      t.finish();
    }
  }

  @Test
  void resolvesAPrefix() {
    checkpoint(path("ckpt-1"));
    assertEquals(
        new CheckpointLocator.Resolved(path("ckpt-1"), List.of()),
        CheckpointLocator.resolve(io, path("ckpt-1")));
  }

  @Test
  void resolvesAnIndexFilePath() {
    checkpoint(path("ckpt-1"));
    assertEquals(path("ckpt-1"), CheckpointLocator.resolve(io, path("ckpt-1.index")).prefix());
  }

  @Test
  void resolvesASavedModelDirectory() {
    checkpoint(path("model/variables/variables"));
    assertEquals(
        path("model/variables/variables"), CheckpointLocator.resolve(io, path("model")).prefix());
    assertEquals(
        path("model/variables/variables"),
        CheckpointLocator.resolve(io, path("model") + "/").prefix());
  }

  @Test
  void resolvesAModelDirectoryThroughARelativeStateFile() throws IOException {
    checkpoint(path("train/ckpt-1"));
    checkpoint(path("train/ckpt-2"));
    stateFile(
        dir.resolve("train"),
        "model_checkpoint_path: \"ckpt-2\"\n"
            + "all_model_checkpoint_paths: \"ckpt-1\"\nall_model_checkpoint_paths: \"ckpt-2\"\n");
    CheckpointLocator.Resolved r = CheckpointLocator.resolve(io, path("train"));
    assertEquals(new CheckpointLocator.Resolved(path("train/ckpt-2"), List.of()), r);
    try (CheckpointReader reader = CheckpointReader.open(io, path("train"))) {
      assertEquals(path("train/ckpt-2"), reader.prefix());
      assertEquals(List.of(), reader.warnings());
    }
  }

  @Test
  void resolvesAnAbsolutePathInTheStateFile() throws IOException {
    checkpoint(path("elsewhere/ckpt-7"));
    stateFile(
        dir.resolve("train"), "model_checkpoint_path: \"" + path("elsewhere/ckpt-7") + "\"\n");
    assertEquals(
        new CheckpointLocator.Resolved(path("elsewhere/ckpt-7"), List.of()),
        CheckpointLocator.resolve(io, path("train")));
  }

  @Test
  void findsAMovedCheckpointBesideTheStateFileAndWarns() throws IOException {
    checkpoint(path("moved/ckpt-3"));
    String old = "/no/such/old/place/ckpt-3";
    stateFile(dir.resolve("moved"), "model_checkpoint_path: \"" + old + "\"\n");
    try (CheckpointReader reader = CheckpointReader.open(io, path("moved"))) {
      assertEquals(path("moved/ckpt-3"), reader.prefix());
      assertEquals(
          List.of(
              "The checkpoint state file "
                  + path("moved/checkpoint")
                  + " names "
                  + old
                  + ", which does not exist; using "
                  + path("moved/ckpt-3")
                  + " found beside the state file (the directory was probably moved)"),
          reader.warnings());
      assertEquals(iota(3), reader.read("w"));
    }
  }

  @Test
  void listsExistingCheckpointsWhenTheStateFileNamesAMissingOne() throws IOException {
    checkpoint(path("train/ckpt-1"));
    checkpoint(path("train/ckpt-2"));
    stateFile(dir.resolve("train"), "model_checkpoint_path: \"ckpt-9\"\n");
    CheckpointNotFoundException e =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("train")));
    assertEquals(
        "Cannot find checkpoint "
            + path("train/ckpt-9")
            + " named by "
            + path("train/checkpoint")
            + ": no "
            + path("train/ckpt-9")
            + ".index; checkpoints present: "
            + path("train/ckpt-1")
            + ", "
            + path("train/ckpt-2"),
        e.getMessage());
  }

  @Test
  void saysSoWhenADirectoryHasNoCheckpoints() throws IOException {
    Files.createDirectories(dir.resolve("empty"));
    CheckpointNotFoundException e =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("empty")));
    assertEquals(
        "Cannot find a checkpoint in directory "
            + path("empty")
            + ": no 'checkpoint' state file and no variables/variables.index",
        e.getMessage());
    checkpoint(path("empty/a-1"));
    e =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("empty")));
    assertEquals(
        "Cannot find a checkpoint in directory "
            + path("empty")
            + ": no 'checkpoint' state file and no variables/variables.index; checkpoints present: "
            + path("empty/a-1"),
        e.getMessage());
  }

  @Test
  void suggestsTheNumberedCheckpointForAPrefixMissingItsSuffix() {
    checkpoint(path("ckpt-1"));
    CheckpointNotFoundException e =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("ckpt")));
    assertEquals(
        "Cannot find checkpoint "
            + path("ckpt")
            + ": no "
            + path("ckpt")
            + ".index found; "
            + "did you mean ckpt-1? (a checkpoint suffix such as '-1' may be missing)",
        e.getMessage());
    CheckpointNotFoundException plain =
        assertThrows(
            CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("other")));
    assertEquals(
        "Cannot find checkpoint " + path("other") + ": no " + path("other") + ".index found",
        plain.getMessage());
  }

  @Test
  void recognisesALegacyV1Checkpoint() throws IOException {
    v1Checkpoint(path("model.ckpt"));
    LegacyCheckpointException e =
        assertThrows(
            LegacyCheckpointException.class,
            () -> CheckpointLocator.resolve(io, path("model.ckpt")));
    assertEquals(path("model.ckpt"), e.file());
    assertEquals(
        "Cannot read "
            + path("model.ckpt")
            + ": legacy V1 checkpoint (tf.train.Saver "
            + "write_version=V1); re-save it with a TensorFlow that writes V2 checkpoints",
        e.getMessage());
    assertThrows(
        LegacyCheckpointException.class, () -> CheckpointReader.open(io, path("model.ckpt")));
  }

  @Test
  void recognisesAShardedLegacyV1Checkpoint() throws IOException {
    v1Checkpoint(path("model.ckpt-00000-of-00002"));
    v1Checkpoint(path("model.ckpt-00001-of-00002"));
    LegacyCheckpointException e =
        assertThrows(
            LegacyCheckpointException.class,
            () -> CheckpointLocator.resolve(io, path("model.ckpt")));
    assertEquals(path("model.ckpt-00000-of-00002"), e.file());
  }

  @Test
  void recognisesAV1CheckpointNamedByAStateFile() throws IOException {
    v1Checkpoint(path("old/model.ckpt-100"));
    stateFile(dir.resolve("old"), "model_checkpoint_path: \"model.ckpt-100\"\n");
    assertThrows(LegacyCheckpointException.class, () -> CheckpointLocator.resolve(io, path("old")));
  }

  @Test
  void doesNotMistakeOtherFilesForV1Checkpoints() throws IOException {
    Files.writeString(dir.resolve("notes"), "not a table");
    assertThrows(
        CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("notes")));
    // A V2-style header (0x08) in a table at the prefix path is not V1 either.
    try (PositionOutputStream out = io.newOutputFile(path("v2like")).create()) {
      TableWriter t = new TableWriter(out, "v2like");
      t.add(new byte[0], hex("08 01 1A 02 08 01"));
      t.finish();
    }
    assertTrue(io.exists(path("v2like")));
    assertThrows(
        CheckpointNotFoundException.class, () -> CheckpointLocator.resolve(io, path("v2like")));
    assertTrue(!CheckpointLocator.isLegacyV1(io, path("v2like")));
    assertTrue(!CheckpointLocator.isLegacyV1(io, path("notes")));
  }

  @Test
  void ignoresTheIndexSuffixOnlyWhenTheIndexExists() {
    checkpoint(path("a.index"));
    // "a.index" is itself a prefix here: a.index.index exists, a.index (the file) does not.
    assertEquals(path("a.index"), CheckpointLocator.resolve(io, path("a.index")).prefix());
    assertEquals(List.of("a.index.data-00000-of-00001", "a.index.index"), BundleFixtures.list(dir));
  }
}
