package io.rebundle.codec.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import io.rebundle.codec.source.TensorSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  /**
   * Writes {@code specs} with deterministic bytes through the streaming writer, in small pieces.
   */
  private Map<String, byte[]> write(String target, SafetensorsHeader header, int piece) {
    Map<String, byte[]> data = new LinkedHashMap<>();
    Random random = new Random(7);
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target, header)) {
      for (SafetensorsEntry e : header.entries()) {
        byte[] b = new byte[(int) e.size()];
        random.nextBytes(b);
        if (e.dtype() == SafetensorsDType.BOOL) {
          for (int i = 0; i < b.length; i++) {
            b[i] &= 1;
          }
        }
        data.put(e.name(), b);
        assertEquals(e.name(), b.length == 0 ? e.name() : w.next().name());
        for (int at = 0; at < b.length; at += piece) {
          w.write(b, at, Math.min(piece, b.length - at));
        }
      }
      assertNull(w.next());
      w.commit();
    }
    return data;
  }

  @Test
  void matchesTheReferenceWritersBytesForOneFloatTensor() throws IOException {
    // The reference implementation's own serialization test: "attn.0", F32 [1, 2, 3] = 0..5, no
    // metadata.
    SafetensorsHeader h =
        SafetensorsHeader.layout(
            null, List.of(new TensorSpec("attn.0", SafetensorsDType.F32, TensorShape.of(1, 2, 3))));
    String target = dir.resolve("a.safetensors").toString();
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target, h)) {
      java.nio.ByteBuffer b =
          java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 6; i++) {
        b.putFloat(i);
      }
      b.flip();
      w.write(b);
      w.commit();
    }
    byte[] file = Files.readAllBytes(Path.of(target));
    assertEquals(64, file[0]);
    assertEquals(
        "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}",
        new String(file, 8, 64, StandardCharsets.UTF_8));
    assertEquals(8 + 64 + 24, file.length);
    assertArrayEquals(
        new byte[] {0, 0, 0, 0, 0, 0, (byte) 128, 63}, java.util.Arrays.copyOfRange(file, 72, 80));
  }

  @Test
  void padsTheHeaderWithSpacesToEightBytes() {
    byte[] h = new SafetensorsHeader(Map.of("framework", "pt"), List.of()).encode();
    // The reference writer's empty-file-with-metadata case: 35 bytes of JSON and 5 spaces.
    assertEquals(40, h[0]);
    assertEquals(
        "{\"__metadata__\":{\"framework\":\"pt\"}}     ",
        new String(h, 8, 40, StandardCharsets.UTF_8));
  }

  @Test
  void writesEveryDtypeInTheReferenceWritersOrderAndReadsItBack() throws IOException {
    List<TensorSpec> specs = new ArrayList<>();
    for (SafetensorsDType t : SafetensorsDType.values()) {
      specs.add(new TensorSpec("t_" + t.name().toLowerCase(), t, TensorShape.of(3, 2)));
    }
    specs.add(new TensorSpec("a_f32", SafetensorsDType.F32, TensorShape.of(2, 5)));
    specs.add(new TensorSpec("z_scalar", SafetensorsDType.F32, TensorShape.SCALAR));
    specs.add(new TensorSpec("empty", SafetensorsDType.I64, TensorShape.of(0, 4)));
    Map<String, String> meta = SafetensorsWriter.defaultMetadata("/src/ckpt", "1.2.3");
    SafetensorsHeader header = SafetensorsHeader.layout(meta, specs);
    String target = dir.resolve("all.safetensors").toString();
    Map<String, byte[]> data = write(target, header, 5);
    byte[] file = Files.readAllBytes(Path.of(target));

    IndependentSafetensors.Parsed p = IndependentSafetensors.parse(file);
    assertEquals(
        Map.of("format", "pt", "source", "/src/ckpt", "tool", "rebundle 1.2.3"), p.metadata());
    assertTrue(p.headerText().startsWith("{\"__metadata__\":{\"format\":\"pt\""), p.headerText());
    List<String> names = p.tensors().stream().map(IndependentSafetensors.T::name).toList();
    assertEquals(
        List.of(
            "t_u64",
            "empty",
            "t_i64",
            "t_f64",
            "a_f32",
            "t_f32",
            "z_scalar",
            "t_u32",
            "t_i32",
            "t_bf16",
            "t_f16",
            "t_u16",
            "t_i16",
            "t_f8_e4m3",
            "t_f8_e5m2",
            "t_i8",
            "t_u8",
            "t_bool"),
        names);
    for (IndependentSafetensors.T t : p.tensors()) {
      SafetensorsDType dtype = SafetensorsDType.valueOf(t.dtype());
      assertEquals(0, (8 + file[0] + t.begin()) % dtype.elementSize(), t.name() + " is aligned");
      assertArrayEquals(data.get(t.name()), t.bytes(), t.name());
    }
    assertEquals(List.of(3L, 2L), p.tensors().get(names.indexOf("t_bf16")).shape());
    assertEquals(List.of(), p.tensors().get(names.indexOf("z_scalar")).shape());

    try (SafetensorsReader r = SafetensorsReader.open(io, target)) {
      assertEquals(1, r.numFiles());
      assertEquals(meta, r.metadata());
      TensorSource.SourceTensor bf16 = r.find("t_bf16");
      assertEquals(DType.BFLOAT16, bf16.dtype());
      assertEquals(DType.FLOAT8_E4M3FN, r.find("t_f8_e4m3").dtype());
      assertEquals(DType.BOOL, r.find("t_bool").dtype());
      for (TensorSource.SourceTensor t : r.tensors()) {
        byte[] b = new byte[(int) t.size()];
        r.readRange(t, 0, b, 0, b.length);
        assertArrayEquals(data.get(t.name()), b, t.name());
      }
    }
  }

  @Test
  void mapsTensorFlowDtypesAndRefusesThoseWithoutACounterpart() {
    assertEquals(SafetensorsDType.F16, SafetensorsDType.fromTf("w", DType.HALF));
    assertEquals(SafetensorsDType.F8_E5M2, SafetensorsDType.fromTf("w", DType.FLOAT8_E5M2));
    UnsupportedCheckpointException e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () -> SafetensorsDType.fromTf("vocab/words", DType.STRING));
    assertEquals(
        "Cannot write tensor vocab/words to safetensors: dtype string has no safetensors counterpart "
            + "(exclude it with a mapping rule)",
        e.getMessage());
    assertThrows(
        UnsupportedCheckpointException.class, () -> SafetensorsDType.fromTf("c", DType.COMPLEX64));
    assertThrows(
        UnsupportedCheckpointException.class, () -> SafetensorsDType.fromTf("q", DType.QINT8));
  }

  @Test
  void nothingAppearsAtTheTargetUntilCommitAndAnAbortLeavesNothing() throws IOException {
    SafetensorsHeader h =
        SafetensorsHeader.layout(
            null, List.of(new TensorSpec("w", SafetensorsDType.F32, TensorShape.of(4))));
    Path target = dir.resolve("w.safetensors");
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target.toString(), h)) {
      w.write(new byte[8], 0, 8);
      assertFalse(Files.exists(target));
      IllegalStateException missing = assertThrows(IllegalStateException.class, w::commit);
      assertEquals(
          "Cannot commit " + target + ": tensor w has 8 of its 16 bytes", missing.getMessage());
      IllegalStateException tooMany =
          assertThrows(IllegalStateException.class, () -> w.write(new byte[9], 0, 9));
      assertTrue(
          tooMany.getMessage().contains("only 8 bytes of tensor data remain"),
          tooMany.getMessage());
    }
    assertFalse(Files.exists(target));
    assertFalse(Files.exists(Path.of(target + SafetensorsWriter.PARTIAL_SUFFIX)));
    Files.write(target, new byte[] {1});
    java.io.UncheckedIOException exists =
        assertThrows(
            java.io.UncheckedIOException.class,
            () -> SafetensorsWriter.create(io, target.toString(), h));
    assertEquals("Cannot write " + target + ": it already exists", exists.getMessage());
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(target));
  }

  @Test
  void refusesDuplicateNames() {
    List<TensorSpec> specs =
        List.of(
            new TensorSpec("w", SafetensorsDType.F32, TensorShape.of(1)),
            new TensorSpec("w", SafetensorsDType.F16, TensorShape.of(1)));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SafetensorsLayout.single("m.safetensors", null, specs));
    assertEquals("Cannot write safetensors: two tensors are named w", e.getMessage());
  }

  @Test
  void shardsBySizeWithTransformersNamesAndIndex() throws IOException {
    List<TensorSpec> specs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      specs.add(
          new TensorSpec(
              "layer." + i + ".weight", SafetensorsDType.F32, TensorShape.of(4, 10))); // 160 bytes
    }
    specs.add(new TensorSpec("big", SafetensorsDType.F64, TensorShape.of(100))); // 800 bytes, alone
    SafetensorsLayout layout = SafetensorsLayout.sharded(Map.of("format", "pt"), specs, 400);
    assertEquals(
        List.of(
            "model-00001-of-00004.safetensors",
            "model-00002-of-00004.safetensors",
            "model-00003-of-00004.safetensors",
            "model-00004-of-00004.safetensors"),
        layout.files().stream().map(SafetensorsLayout.PlannedFile::name).toList());
    Path out = dir.resolve("model");
    Files.createDirectories(out);
    Map<String, byte[]> all = new LinkedHashMap<>();
    for (SafetensorsLayout.PlannedFile f : layout.files()) {
      all.putAll(write(out.resolve(f.name()).toString(), f.header(), 64));
    }
    Files.write(out.resolve(SafetensorsIndex.FILE_NAME), layout.index().encode());

    String index = Files.readString(out.resolve(SafetensorsIndex.FILE_NAME));
    assertEquals(
        "{\n  \"metadata\": {\n    \"total_size\": 1600\n  },\n  \"weight_map\": {\n"
            + "    \"big\": \"model-00004-of-00004.safetensors\",\n"
            + "    \"layer.0.weight\": \"model-00001-of-00004.safetensors\",\n"
            + "    \"layer.1.weight\": \"model-00001-of-00004.safetensors\",\n"
            + "    \"layer.2.weight\": \"model-00002-of-00004.safetensors\",\n"
            + "    \"layer.3.weight\": \"model-00002-of-00004.safetensors\",\n"
            + "    \"layer.4.weight\": \"model-00003-of-00004.safetensors\"\n  }\n}\n",
        index);
    for (SafetensorsLayout.PlannedFile f : layout.files()) {
      IndependentSafetensors.Parsed p =
          IndependentSafetensors.parse(Files.readAllBytes(out.resolve(f.name())));
      assertEquals(Map.of("format", "pt"), p.metadata());
      for (IndependentSafetensors.T t : p.tensors()) {
        assertTrue(index.contains("\"" + t.name() + "\": \"" + f.name() + "\""), t.name());
        assertArrayEquals(all.get(t.name()), t.bytes());
      }
    }
    try (SafetensorsReader r = SafetensorsReader.open(io, out.toString())) {
      assertEquals(4, r.numFiles());
      assertTrue(r.warnings().isEmpty(), r.warnings().toString());
      assertEquals(2, r.find("layer.4.weight").file()); // the third shard
      byte[] b = new byte[16];
      r.readRange(r.find("big"), 784, b, 0, 16);
      assertArrayEquals(java.util.Arrays.copyOfRange(all.get("big"), 784, 800), b);
    }
  }

  @Test
  void everythingInOneShardIsALoneModelFileWithoutIndex() {
    SafetensorsLayout layout =
        SafetensorsLayout.sharded(
            null, List.of(new TensorSpec("w", SafetensorsDType.F32, TensorShape.of(2))), 1 << 20);
    assertEquals(1, layout.files().size());
    assertEquals("model.safetensors", layout.files().get(0).name());
    assertNull(layout.index());
  }
}
