package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.safetensors.SafetensorsDType;
import io.rebundle.codec.safetensors.SafetensorsHeader;
import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import io.rebundle.codec.safetensors.SafetensorsIndex;
import io.rebundle.codec.safetensors.SafetensorsLayout;
import io.rebundle.codec.safetensors.SafetensorsWriter;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsCommandsTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  /** Writes float32 tensors (values given) with the production writer. */
  private Path writeF32(Path target, Map<String, float[]> tensors, Map<String, long[]> shapes) {
    List<TensorSpec> specs =
        tensors.keySet().stream()
            .map(k -> new TensorSpec(k, SafetensorsDType.F32, TensorShape.of(shapes.get(k))))
            .toList();
    SafetensorsHeader h = SafetensorsHeader.layout(Map.of("format", "pt"), specs);
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target.toString(), h)) {
      for (var e : h.entries()) {
        float[] v = tensors.get(e.name());
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
          b.putFloat(f);
        }
        b.flip();
        w.write(b);
      }
      w.commit();
    }
    return target;
  }

  /** A file from a raw header text (not padded) and {@code dataBytes} zero bytes. */
  private Path raw(String name, long declaredLength, String json, int dataBytes)
      throws IOException {
    byte[] j = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + j.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength < 0 ? j.length : declaredLength).put(j);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  @Test
  void inspectListsTensorsAsATableAndAsJson() {
    Path f =
        writeF32(
            dir.resolve("m.safetensors"),
            Map.of(
                "encoder.weight",
                new float[] {1, 2, 3, 4, 5, 6},
                "encoder.bias",
                new float[] {7, 8}),
            Map.of("encoder.weight", new long[] {2, 3}, "encoder.bias", new long[] {2}));
    CliRunner r = CliRunner.run("inspect", f.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("format: safetensors, 1 file, 2 tensors, 32 bytes"), r.out());
    assertTrue(r.out().contains("metadata: format=pt"), r.out());
    assertTrue(r.out().matches("(?s).*encoder\\.bias\\s+F32\\s+\\[2]\\s+8\\s+0\\n.*"), r.out());
    assertTrue(
        r.out().matches("(?s).*encoder\\.weight\\s+F32\\s+\\[2, 3]\\s+24\\s+0\\n.*"), r.out());

    CliRunner j = CliRunner.run("inspect", "--json", "--values", f.toString());
    assertEquals(0, j.exitCode(), j.err());
    String out = j.out();
    assertTrue(out.contains("\"format\":\"safetensors\""), out);
    assertTrue(out.contains("\"metadata\":{\"format\":\"pt\"}"), out);
    assertTrue(
        out.contains(
            "{\"key\":\"encoder.bias\",\"dtype\":\"F32\",\"tf_dtype\":\"float32\",\"shape\":[2],"
                + "\"bytes\":8,\"file\":0,\"data_offsets\":[0,8]"),
        out);
    assertTrue(out.contains("\"data_offsets\":[8,32]"), out);
    assertTrue(out.contains("\"value\":\"[7. 8.]\""), out);
  }

  @Test
  void verifyChecksHeadersAndSaysThereAreNoChecksums() {
    Path f =
        writeF32(
            dir.resolve("m.safetensors"),
            Map.of("w", new float[] {1, 2}),
            Map.of("w", new long[] {2}));
    CliRunner r = CliRunner.run("verify", f.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .contains(
                f
                    + ": OK — 1 tensors, 8 data bytes in 1 file checked (safetensors stores no "
                    + "checksums: headers, sizes and file lengths were checked, values cannot be)"),
        r.out());
    CliRunner j = CliRunner.run("verify", "--json", f.toString());
    assertTrue(j.out().contains("\"ok\":true"), j.out());
    assertTrue(j.out().contains("\"note\":\"safetensors stores no checksums"), j.out());
  }

  @Test
  void readsAShardedDirectoryThroughItsIndex() throws IOException {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    List<TensorSpec> specs =
        List.of(
            new TensorSpec("a", SafetensorsDType.F32, TensorShape.of(4)),
            new TensorSpec("b", SafetensorsDType.F32, TensorShape.of(4)));
    SafetensorsLayout layout = SafetensorsLayout.sharded(Map.of("format", "pt"), specs, 16);
    for (SafetensorsLayout.PlannedFile pf : layout.files()) {
      try (SafetensorsWriter w =
          SafetensorsWriter.create(io, model.resolve(pf.name()).toString(), pf.header())) {
        w.write(new byte[16], 0, 16);
        w.commit();
      }
    }
    Files.write(model.resolve(SafetensorsIndex.FILE_NAME), layout.index().encode());
    CliRunner r = CliRunner.run("inspect", model.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("format: safetensors, 2 files, 2 tensors, 32 bytes"), r.out());
    assertTrue(r.out().matches("(?s).*\\nb\\s+F32\\s+\\[4]\\s+16\\s+1\\n.*"), r.out());
    assertEquals(0, CliRunner.run("verify", model.toString()).exitCode());

    // An index whose total_size disagrees is a finding; one whose weight_map lies is corrupt input.
    String good = Files.readString(model.resolve(SafetensorsIndex.FILE_NAME));
    Files.writeString(
        model.resolve(SafetensorsIndex.FILE_NAME),
        good.replace("\"total_size\": 32", "\"total_size\": 33"));
    CliRunner v = CliRunner.run("verify", model.toString());
    assertEquals(1, v.exitCode(), v.out());
    assertTrue(
        v.out()
            .contains(
                "PROBLEM "
                    + model.resolve(SafetensorsIndex.FILE_NAME)
                    + " says metadata.total_size 33 but its shards hold 32 tensor bytes"),
        v.out());
    Files.writeString(
        model.resolve(SafetensorsIndex.FILE_NAME),
        good.replace(
            "\"b\": \"model-00002-of-00002.safetensors\"",
            "\"b\": \"model-00001-of-00002.safetensors\""));
    CliRunner bad = CliRunner.run("inspect", model.toString());
    assertEquals(3, bad.exitCode(), bad.err());
    assertEquals(
        "rebundle: Cannot read "
            + model.resolve(SafetensorsIndex.FILE_NAME)
            + ": weight_map places tensor "
            + "'b' in model-00001-of-00002.safetensors, whose header does not hold it\n",
        bad.err());
  }

  static Stream<Arguments> malformed() {
    String w = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    return Stream.of(
        Arguments.of(
            "header length past the end",
            1000L,
            "{}",
            0,
            "header length 1000 runs past the end of the file (10 bytes) (at byte 0)"),
        Arguments.of(
            "header length over the limit",
            100_000_008L,
            "{}",
            0,
            "header length 100000008 exceeds the format's limit of 100000000 bytes (at byte 0)"),
        Arguments.of(
            "JSON error",
            -1L,
            "{\"w\":{\"dtype\":\"F32\",",
            0,
            "header is not valid JSON: unexpected end of JSON (at byte 28)"),
        Arguments.of(
            "not an object", -1L, "[1, 2]", 0, "header does not start with '{' (at byte 8)"),
        Arguments.of(
            "duplicate key",
            -1L,
            "{" + w + "," + w + "}",
            8,
            "header is not valid JSON: duplicate key 'w' (at byte 62)"),
        Arguments.of(
            "offsets out of range",
            -1L,
            "{" + w + "}",
            4,
            "tensor 'w' has data_offsets [0, 8] past the end of the data (4 bytes)"),
        Arguments.of(
            "overlapping offsets",
            -1L,
            "{" + w + ",\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12,
            "tensor 'v' overlaps the previous tensor: data_offsets start at 4, previous tensor ends at 8"),
        Arguments.of(
            "hole between tensors",
            -1L,
            "{" + w + ",\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
            20,
            "tensor 'v' leaves a hole: data_offsets start at 12, previous tensor ends at 8"),
        Arguments.of(
            "unknown dtype",
            -1L,
            "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            "tensor 'w' has dtype 'Q4_K', which Rebundle does not support (supported: BOOL U8 I8 F8_E5M2 F8_E4M3 "
                + "I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64)"),
        Arguments.of(
            "size differs from dtype times shape",
            -1L,
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8,
            "tensor 'w' holds 8 bytes but dtype F32 and shape [3] need 12"),
        Arguments.of(
            "shape overflows",
            -1L,
            "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,0],"
                + "\"data_offsets\":[0,0]}}",
            0,
            "tensor 'w' has an invalid shape: Invalid tensor shape [4294967296, 4294967296, 0]: element count "
                + "overflows int64"),
        Arguments.of(
            "negative dimension",
            -1L,
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
            8,
            "tensor 'w' has invalid dimension -2 in its shape"),
        Arguments.of(
            "data not covered",
            -1L,
            "{" + w + "}",
            16,
            "tensors cover 8 of the 16 data bytes; the last tensor must end at the end of the file"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedHeadersExitThreeWithOneLine(
      String what, long declared, String json, int data, String message) throws IOException {
    Path f = raw("bad.safetensors", declared, json, data);
    for (String command : List.of("inspect", "verify")) {
      CliRunner r = CliRunner.run(command, f.toString());
      assertEquals(3, r.exitCode(), command + ": " + r.err());
      assertEquals("rebundle: Cannot read " + f + ": " + message + "\n", r.err(), command);
      assertFalse(r.err().contains("\tat "), "no stack trace");
    }
  }

  @Test
  void aFileTooShortForTheLengthIsCorrupt() throws IOException {
    Path f = dir.resolve("short.safetensors");
    Files.write(f, new byte[] {1, 2, 3});
    CliRunner r = CliRunner.run("inspect", f.toString());
    assertEquals(3, r.exitCode());
    assertEquals(
        "rebundle: Cannot read "
            + f
            + ": file is 3 bytes, too short for the 8-byte header length\n",
        r.err());
  }

  @Test
  void diffComparesACheckpointWithSafetensors() {
    String ckpt = TestCheckpoints.copyTf1Example(dir);
    Path same =
        writeF32(
            dir.resolve("same.safetensors"),
            Map.of("a", new float[] {1}, "b", new float[] {2}, "scoped/c", new float[] {3}),
            Map.of("a", new long[0], "b", new long[0], "scoped/c", new long[0]));
    CliRunner r = CliRunner.run("diff", ckpt, same.toString());
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertTrue(r.out().contains("identical: 3 equal tensors, 0 with different values"), r.out());

    Path other =
        writeF32(
            dir.resolve("other.safetensors"),
            Map.of("a", new float[] {1}, "b", new float[] {2.5f}, "d", new float[] {4, 5}),
            Map.of("a", new long[0], "b", new long[0], "d", new long[] {2}));
    CliRunner d = CliRunner.run("diff", "--json", ckpt, other.toString());
    assertEquals(1, d.exitCode(), d.out() + d.err());
    assertTrue(d.out().contains("\"only_in_a\":[\"scoped/c\"],\"only_in_b\":[\"d\"]"), d.out());
    assertTrue(
        d.out()
            .contains(
                "{\"key\":\"b\",\"dtype\":\"float32\",\"elements\":1,\"differing\":1,"
                    + "\"max_abs_diff\":0.5"),
        d.out());
  }

  @Test
  void presetListShowsTheBundledPresetsAndAnUnknownOneIsAUsageError() {
    CliRunner r = CliRunner.run("diff", "--preset", "list");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        "hf-bert  Google BERT checkpoint names to transformers BertForPreTraining names "
            + "(load_tf_weights_in_bert rules)\n",
        r.out());
    CliRunner bad = CliRunner.run("diff", "--preset", "gpt9", "a", "b");
    assertEquals(2, bad.exitCode());
    assertEquals(
        "rebundle: Invalid preset: gpt9 (known presets: hf-bert; --preset list describes them)\n",
        bad.err());
    CliRunner missing = CliRunner.run("diff", "--preset", "hf-bert");
    assertEquals(2, missing.exitCode());
    assertEquals("rebundle: Missing checkpoints: diff compares two, A and B\n", missing.err());
  }
}
