package io.rebundle.codec.migrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.exec.SafetensorsShardExecutor;
import io.rebundle.codec.exec.Transforms;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.safetensors.SafetensorsDType;
import io.rebundle.codec.safetensors.SafetensorsHeader;
import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import io.rebundle.codec.safetensors.SafetensorsLayout;
import io.rebundle.codec.safetensors.SafetensorsReader;
import io.rebundle.codec.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsImportTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  private static byte[] floats(int n, float first) {
    ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(first + i);
    }
    return b.array();
  }

  /** One file of {@code tensors} (name to dtype, shape, bytes), by the production writer. */
  private record T(SafetensorsDType dtype, long[] shape, byte[] data) {}

  private String write(Path target, Map<String, T> tensors) {
    List<TensorSpec> specs = new ArrayList<>();
    tensors.forEach((k, t) -> specs.add(new TensorSpec(k, t.dtype(), TensorShape.of(t.shape()))));
    write(target, SafetensorsHeader.layout(Map.of("format", "pt"), specs), tensors);
    return target.toString();
  }

  private void write(Path target, SafetensorsHeader h, Map<String, T> tensors) {
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target.toString(), h)) {
      for (var e : h.entries()) {
        byte[] b = tensors.get(e.name()).data();
        w.write(b, 0, b.length);
      }
      w.commit();
    }
  }

  @Test
  void theIndexListsEveryTensorInKeyOrderWithItsFileAndDataOffset() throws IOException {
    Path model = dir.resolve("hf");
    Files.createDirectories(model);
    Map<String, T> tensors = new LinkedHashMap<>();
    tensors.put("z.weight", new T(SafetensorsDType.F32, new long[] {2, 2}, floats(4, 1)));
    tensors.put("a.bias", new T(SafetensorsDType.F32, new long[] {2}, floats(2, 5)));
    tensors.put("m.ids", new T(SafetensorsDType.I64, new long[] {1}, new byte[8]));
    List<TensorSpec> specs = new ArrayList<>();
    tensors.forEach((k, t) -> specs.add(new TensorSpec(k, t.dtype(), TensorShape.of(t.shape()))));
    SafetensorsLayout layout = SafetensorsLayout.sharded(Map.of("format", "pt"), specs, 16);
    assertEquals(2, layout.files().size());
    for (SafetensorsLayout.PlannedFile f : layout.files()) {
      write(model.resolve(f.name()), f.header(), tensors);
    }
    Files.write(model.resolve("model.safetensors.index.json"), layout.index().encode());

    SourceIndex index;
    try (SafetensorsReader r = SafetensorsReader.open(io, model.toString())) {
      index = SafetensorsImport.index(r);
    }

    assertEquals(model.toString(), index.prefix());
    assertEquals(2, index.numShards());
    assertNull(index.graph());
    assertEquals(CheckpointFormat.TF1, index.format());
    List<String> keys = new ArrayList<>();
    for (IndexRecord rec : index.records()) {
      keys.add(rec.name());
    }
    assertEquals(List.of("a.bias", "m.ids", "z.weight"), keys);
    // Each entry's shard id is the file holding the tensor, its offset the tensor's data offset.
    for (IndexRecord rec : index.records()) {
      BundleEntry e = rec.entry();
      SafetensorsHeader h = layout.files().get(e.shardId()).header();
      assertEquals(h.entry(rec.name()).begin(), e.offset(), rec.name());
      assertEquals(h.entry(rec.name()).size(), e.size(), rec.name());
      assertEquals(0, e.crc32c(), rec.name());
    }
    assertEquals(DType.INT64, index.records().get(1).entry().dtype());
  }

  @Test
  void aTensorIsStreamedInRangesOfATinyBufferThroughTransposeAndCastWithCrcsComputed() {
    Map<String, T> tensors = new LinkedHashMap<>();
    tensors.put("k", new T(SafetensorsDType.F32, new long[] {5, 7}, floats(35, 0)));
    tensors.put("h", new T(SafetensorsDType.F32, new long[] {9}, floats(9, 1)));
    tensors.put("b", new T(SafetensorsDType.BOOL, new long[] {3}, new byte[] {1, 0, 1}));
    tensors.put("plain", new T(SafetensorsDType.I32, new long[] {13}, floats(13, 2)));
    String st = write(dir.resolve("m.safetensors"), tensors);
    MappingRules rules =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(
                new MappingRules.Transform(Pattern.compile("k"), null, new int[] {1, 0}, null),
                new MappingRules.Transform(Pattern.compile("h"), DType.HALF, null, null)),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    String out = dir.resolve("out/model").toString();
    MigrationRequest request =
        new MigrationRequest(
            st,
            out,
            MigrationSpec.to(CheckpointFormat.TF1),
            rules,
            0,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            false,
            null,
            null,
            null,
            null);
    PreparedMigration m = PreparedMigration.prepare(io, request);
    List<TaskOutcome> outcomes = new ArrayList<>();
    for (MigrationTask task : m.tasks()) {
      MigrationTask.ImportShard t = (MigrationTask.ImportShard) task;
      // 16 bytes: every tensor takes several reads (the transpose's gather buffer must hold an
      // element, so this is about the smallest that works for 8-byte types).
      outcomes.add(
          new TaskOutcome.Done(
              SafetensorsShardExecutor.run(
                  io,
                  t.sourceLocation(),
                  t.planned(),
                  t.staging().attemptFile(t.shard(), "tiny"),
                  t.shard(),
                  16,
                  ProgressSink.NONE),
              0));
    }
    m.commit(outcomes);

    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      // read() checks every CRC32C the import computed.
      assertArrayEquals(tensors.get("plain").data(), r.read("plain").data());
      assertEquals(DType.INT32, r.read("plain").dtype());
      assertArrayEquals(new byte[] {1, 0, 1}, r.read("b").data());
      assertEquals(DType.BOOL, r.read("b").dtype());
      byte[] kernel = r.read("k").data();
      assertEquals(TensorShape.of(7, 5), r.read("k").shape());
      ByteBuffer kb = ByteBuffer.wrap(kernel).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 7; i++) {
        for (int j = 0; j < 5; j++) {
          assertEquals(j * 7 + i, kb.getFloat(), "k[" + i + "][" + j + "]");
        }
      }
      ByteBuffer hb = ByteBuffer.wrap(r.read("h").data()).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(DType.HALF, r.read("h").dtype());
      for (int i = 0; i < 9; i++) {
        assertEquals(Transforms.floatToHalf(1 + i), hb.getShort(), "h[" + i + "]");
      }
    }
  }

  @Test
  void aFileRewrittenBetweenPlanAndTaskIsRefusedAndNothingIsPublished() {
    Map<String, T> before = new LinkedHashMap<>();
    before.put("a", new T(SafetensorsDType.F32, new long[] {2}, floats(2, 0)));
    before.put("b", new T(SafetensorsDType.F32, new long[] {3}, floats(3, 0)));
    Path file = dir.resolve("m.safetensors");
    String st = write(file, before);
    String out = dir.resolve("out").toString();
    PreparedMigration m =
        PreparedMigration.prepare(
            io, MigrationRequest.of(st, out, MigrationSpec.to(CheckpointFormat.TF1)));
    Map<String, T> after = new LinkedHashMap<>();
    after.put("a", new T(SafetensorsDType.F32, new long[] {3}, floats(3, 0)));
    after.put("b", new T(SafetensorsDType.F32, new long[] {2}, floats(2, 0)));
    try {
      Files.delete(file);
    } catch (IOException ex) {
      throw new AssertionError(ex);
    }
    write(file, after);

    List<TaskOutcome> outcomes = LocalMigration.runTasks(io, m.tasks(), ProgressSink.NONE, 1);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> m.commit(outcomes));

    assertEquals(
        "Cannot read tensor a in "
            + st
            + ": the header now gives float32 [3] at data_offsets [0, 12] of file 0, the plan "
            + "float32 [2] at [0, 8] of file 0 (did the file change during the conversion?)",
        e.getMessage());
    assertFalse(Files.exists(Path.of(out + ".index")));
    try (var listing = Files.list(dir)) {
      assertTrue(listing.noneMatch(p -> p.getFileName().toString().startsWith(".rebundle-")));
    } catch (IOException ex) {
      throw new AssertionError(ex);
    }
  }

  @Test
  void aTensorNamedEmptyIsRefusedUnlessARuleRenamesIt() throws IOException {
    // The reference format allows any string as a name, the empty one included; write it raw.
    String json =
        "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    byte[] j = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + j.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(j.length).put(j).putFloat(1).putFloat(2);
    Path file = dir.resolve("e.safetensors");
    Files.write(file, b.array());
    String out = dir.resolve("out").toString();

    io.rebundle.codec.UnsupportedCheckpointException e =
        assertThrows(
            io.rebundle.codec.UnsupportedCheckpointException.class,
            () ->
                PreparedMigration.prepare(
                    io,
                    MigrationRequest.of(
                        file.toString(), out, MigrationSpec.to(CheckpointFormat.TF1))));
    assertEquals(
        "Cannot import the tensor named '' from "
            + file
            + ": a TensorFlow checkpoint keeps its header under the empty key (rename the tensor "
            + "with a mapping rule, or exclude it)",
        e.getMessage());
    assertFalse(Files.exists(Path.of(out + ".index")));

    MappingRules rename =
        new MappingRules(
            List.of(),
            List.of(new MappingRules.Rename(Pattern.compile(""), "unnamed")),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    LocalMigration.run(
        io,
        new MigrationRequest(
            file.toString(),
            out,
            MigrationSpec.to(CheckpointFormat.TF1),
            rename,
            0,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            false,
            null,
            null,
            null,
            null),
        ProgressSink.NONE,
        1);
    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      assertEquals(
          1.0f,
          ByteBuffer.wrap(r.read("unnamed").data()).order(ByteOrder.LITTLE_ENDIAN).getFloat());
      assertEquals(
          2.0f, ByteBuffer.wrap(r.read("a").data()).order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }
  }

  @Test
  void aModelDirectoryDestinationNamesTheCheckpointAfterTheFile() {
    assertEquals("model", SafetensorsImport.checkpointName(io, "/x/y/model.safetensors"));
    assertEquals("hf-bert", SafetensorsImport.checkpointName(io, "/x/hf-bert"));
    assertEquals(".safetensors", SafetensorsImport.checkpointName(io, "/x/.safetensors"));
    assertEquals("a.b", SafetensorsImport.checkpointName(io, "/x/a.b.safetensors"));
  }
}
