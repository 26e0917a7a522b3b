package io.rebundle.codec.commit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.RecordingFileIO;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommitterTest {
  private static final byte[] A = {1, 2, 3};
  private static final byte[] B = {4, 5};
  private static final byte[] S = {6, 7, 8, 9};
  private static final TensorSlice ALL = new TensorSlice(List.of(new TensorSlice.Extent(0, 4)));
  private static final String STAGING = ".rebundle-staging-ckpt-run1";

  @TempDir Path dir;

  private String prefix() {
    return dir.resolve("ckpt").toString();
  }

  private static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static BundleEntry entry(byte[] data, int shard, long offset) {
    return BundleEntry.of(
        DType.UINT8,
        TensorShape.of(data.length),
        shard,
        offset,
        data.length,
        Crc32c.mask(Crc32c.of(data)));
  }

  /**
   * Two attempt files as tasks leave them: shard 0 holds a, shard 1 holds b then the one slice of
   * s. A failed attempt of shard 0 lies beside them.
   */
  private List<StagedShard> stage(Committer c) throws IOException {
    Files.createDirectories(Path.of(c.stagingDirectory()));
    String f0 = c.attemptFile(0, "a");
    String f1 = c.attemptFile(1, "b");
    Files.write(Path.of(f0), A);
    Files.write(Path.of(f1), concat(B, S));
    Files.write(Path.of(c.attemptFile(0, "failed")), new byte[] {0});
    return List.of(
        new StagedShard(0, f0, List.of(new IndexRecord(Bytes.utf8("a"), entry(A, 0, 0))), 3),
        new StagedShard(
            1,
            f1,
            List.of(
                new IndexRecord(Bytes.utf8("b"), entry(B, 1, 0)),
                new IndexRecord(SliceKeys.encode("s", ALL), entry(S, 1, 2))),
            6));
  }

  private static byte[] concat(byte[] x, byte[] y) {
    byte[] out = new byte[x.length + y.length];
    System.arraycopy(x, 0, out, 0, x.length);
    System.arraycopy(y, 0, out, x.length, y.length);
    return out;
  }

  private static List<IndexRecord> metadata() {
    return List.of(
        new IndexRecord(
            Bytes.utf8("s"), BundleEntry.sliced(DType.UINT8, TensorShape.of(4), List.of(ALL))));
  }

  @Test
  void placesStagingAndAttemptFilesBesideTheDestination() {
    Committer c = new Committer(new LocalFileIO(), prefix(), "run1");
    assertEquals(prefix(), c.prefix());
    assertEquals(dir.resolve(STAGING).toString(), c.stagingDirectory());
    assertEquals(
        dir.resolve(STAGING + "/shard-00003-attempt-7-12").toString(), c.attemptFile(3, "7-12"));
    assertEquals(
        "./.rebundle-staging-ckpt-run1",
        new Committer(new LocalFileIO(), "ckpt", "run1").stagingDirectory());
  }

  @Test
  void renamesDataFilesThenWritesTheIndexLastThenTheStateFile() throws IOException {
    RecordingFileIO io = new RecordingFileIO(dir.toString());
    Committer c = new Committer(io, prefix(), "run1");
    List<StagedShard> results = stage(c);
    c.commit(results, metadata(), false, true);
    assertEquals(
        List.of(
            "create " + STAGING + "/index",
            "close " + STAGING + "/index",
            "create " + STAGING + "/journal.tmp",
            "close " + STAGING + "/journal.tmp",
            "replace " + STAGING + "/journal.tmp -> " + STAGING + "/journal",
            "rename " + STAGING + "/shard-00000-attempt-a -> ckpt.data-00000-of-00002",
            "rename " + STAGING + "/shard-00001-attempt-b -> ckpt.data-00001-of-00002",
            "rename " + STAGING + "/index -> ckpt.index",
            "create " + STAGING + "/checkpoint.tmp",
            "close " + STAGING + "/checkpoint.tmp",
            "replace " + STAGING + "/checkpoint.tmp -> checkpoint",
            "delete " + STAGING + "/journal",
            "delete " + STAGING + "/shard-00000-attempt-failed",
            "delete " + STAGING),
        io.log);
    assertEquals(
        List.of("checkpoint", "ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index"),
        list(dir));
    assertEquals(
        "model_checkpoint_path: \"ckpt\"\nall_model_checkpoint_paths: \"ckpt\"\n",
        Files.readString(dir.resolve("checkpoint")));
    assertEquals(List.of(), List.copyOf(io.openStreams));
  }

  @Test
  void committedCheckpointReadsBack() throws IOException {
    LocalFileIO io = new LocalFileIO();
    Committer c = new Committer(io, prefix(), "run1");
    c.commit(stage(c), metadata(), false, true);
    try (CheckpointReader r = CheckpointReader.open(io, dir.toString())) {
      assertEquals(prefix(), r.prefix());
      assertEquals(2, r.header().numShards());
      assertArrayEquals(A, r.read("a").data());
      assertArrayEquals(B, r.read("b").data());
      assertArrayEquals(S, r.read("s").data());
      List<String> keys = new ArrayList<>();
      r.records().forEach(rec -> keys.add(rec.name()));
      assertEquals(List.of("s[0,4]", "a", "b", "s"), keys);
    }
  }

  @Test
  void writesNoStateFileWhenNotAsked() throws IOException {
    Committer c = new Committer(new LocalFileIO(), prefix(), "run1");
    c.commit(stage(c), List.of(), false, false);
    assertEquals(
        List.of("ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index"), list(dir));
  }

  private void writeOld(int shards) {
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix(), shards, false)) {
      w.add("old", Tensor.of(DType.UINT8, TensorShape.of(1), new byte[] {42}));
      w.finish();
    }
  }

  @Test
  void refusesAnExistingDestinationWithoutOverwrite() throws IOException {
    writeOld(1);
    byte[] oldIndex = Files.readAllBytes(dir.resolve("ckpt.index"));
    LocalFileIO io = new LocalFileIO();
    Committer c = new Committer(io, prefix(), "run1");
    assertTrue(c.destinationExists());
    List<StagedShard> results = stage(c);
    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class, () -> c.commit(results, metadata(), false, true));
    assertEquals(
        "Cannot write checkpoint "
            + prefix()
            + ": it already exists (use --overwrite to replace it once the new one is complete)",
        e.getMessage());
    assertArrayEquals(oldIndex, Files.readAllBytes(dir.resolve("ckpt.index")));
    assertEquals(List.of(STAGING, "ckpt.data-00000-of-00001", "ckpt.index"), list(dir));
    assertEquals(
        List.of(
            "index",
            "shard-00000-attempt-a",
            "shard-00000-attempt-failed",
            "shard-00001-attempt-b"),
        list(dir.resolve(STAGING)));
    c.abort();
    assertEquals(List.of("ckpt.data-00000-of-00001", "ckpt.index"), list(dir));
  }

  @Test
  void dataFilesWithoutAnIndexAreDebrisNotACheckpoint() throws IOException {
    // What a write killed between its data renames and its index rename leaves.
    Files.write(dir.resolve("ckpt.data-00000-of-00003"), new byte[] {9});
    Files.write(dir.resolve("ckpt.data-00002-of-00003"), new byte[] {9});
    Files.write(dir.resolve("ckpt.data-00000-of-00001.tempstate123"), new byte[0]);
    Files.write(dir.resolve("ckpt-2.data-00000-of-00001"), new byte[0]);
    LocalFileIO io = new LocalFileIO();
    List<String> warnings = new ArrayList<>();
    Committer c = new Committer(io, prefix(), "run1").warnings(warnings::add);
    assertFalse(c.destinationExists());
    c.commit(stage(c), metadata(), false, false);
    assertEquals(
        List.of(
            "ckpt-2.data-00000-of-00001",
            "ckpt.data-00000-of-00001.tempstate123",
            "ckpt.data-00000-of-00002",
            "ckpt.data-00001-of-00002",
            "ckpt.index"),
        list(dir));
    assertEquals(
        List.of(
            "removing 2 data file(s) of "
                + prefix()
                + " that have no index (left by an interrupted write): "
                + "ckpt.data-00000-of-00003, ckpt.data-00002-of-00003"),
        warnings);
  }

  @Test
  void replacesAnExistingCheckpointWithOverwrite() throws IOException {
    writeOld(3);
    Files.write(dir.resolve("ckpt-2.index"), new byte[] {1});
    LocalFileIO io = new LocalFileIO();
    Committer c = new Committer(io, prefix(), "run1");
    c.commit(stage(c), metadata(), true, true);
    assertEquals(
        List.of(
            "checkpoint",
            "ckpt-2.index",
            "ckpt.data-00000-of-00002",
            "ckpt.data-00001-of-00002",
            "ckpt.index"),
        list(dir));
    try (CheckpointReader r = CheckpointReader.open(io, prefix())) {
      assertNull(r.findEntry("old"));
      assertArrayEquals(A, r.read("a").data());
    }
  }

  @Test
  void abortRemovesTheStagingDirectoryAndLeavesTheDestinationAlone() throws IOException {
    Committer c = new Committer(new LocalFileIO(), prefix(), "run1");
    stage(c);
    assertEquals(
        List.of("shard-00000-attempt-a", "shard-00000-attempt-failed", "shard-00001-attempt-b"),
        list(dir.resolve(STAGING)));
    c.abort();
    assertEquals(List.of(), list(dir));
    c.abort();
    assertEquals(List.of(), list(dir));
  }

  @Test
  void rejectsResultsOutOfShardOrder() throws IOException {
    Committer c = new Committer(new LocalFileIO(), prefix(), "run1");
    List<StagedShard> results = stage(c);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> c.commit(List.of(results.get(1), results.get(0)), List.of(), false, true));
    assertEquals("Invalid commit: result 0 is for shard 1", e.getMessage());
    assertFalse(Files.exists(dir.resolve("ckpt.index")));
  }
}
