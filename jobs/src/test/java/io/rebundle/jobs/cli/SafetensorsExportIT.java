package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.convert.HfBertPresetTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert --to safetensors} end to end, every output checked by an independent parser
 * written here (8-byte little-endian length, JSON read by Jackson, raw bytes at the declared
 * offsets) against the format's rules: padding, contiguous offsets, the reference writer's order,
 * metadata.
 */
class SafetensorsExportIT {
  @TempDir Path dir;

  /** A tensor as the test's own parser read it. */
  record Parsed(String dtype, long[] shape, byte[] data) {}

  /** A parsed file: metadata and tensors in file order. */
  record ParsedFile(Map<String, String> metadata, LinkedHashMap<String, Parsed> tensors) {}

  static ParsedFile parse(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertTrue(n > 0 && 8 + n <= all.length, "header length " + n);
    assertEquals(0, (8 + n) % 8, "header padded to 8 bytes");
    String json = new String(all, 8, (int) n, StandardCharsets.UTF_8);
    String padding = json.substring(json.stripTrailing().length());
    assertTrue(
        padding.chars().allMatch(c -> c == ' ') && padding.length() < 8,
        "padding is < 8 trailing spaces");
    assertTrue(json.startsWith("{"), json);
    JsonNode root = new ObjectMapper().readTree(json);
    Map<String, String> metadata = new TreeMap<>();
    List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        e.getValue()
            .fields()
            .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
      } else {
        entries.add(e);
      }
    }
    entries.sort(
        (a, b) ->
            Long.compare(
                a.getValue().get("data_offsets").get(0).asLong(),
                b.getValue().get("data_offsets").get(0).asLong()));
    LinkedHashMap<String, Parsed> tensors = new LinkedHashMap<>();
    long expectedStart = 0;
    long dataStart = 8 + n;
    for (Map.Entry<String, JsonNode> e : entries) {
      JsonNode v = e.getValue();
      long begin = v.get("data_offsets").get(0).asLong();
      long end = v.get("data_offsets").get(1).asLong();
      assertEquals(expectedStart, begin, "contiguous offsets at " + e.getKey());
      expectedStart = end;
      long[] shape = new long[v.get("shape").size()];
      long elements = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = v.get("shape").get(i).asLong();
        elements *= shape[i];
      }
      String dtype = v.get("dtype").asText();
      assertEquals(elements * elementSize(dtype), end - begin, "size of " + e.getKey());
      byte[] data =
          java.util.Arrays.copyOfRange(all, (int) (dataStart + begin), (int) (dataStart + end));
      tensors.put(e.getKey(), new Parsed(dtype, shape, data));
    }
    assertEquals(all.length - dataStart, expectedStart, "data ends at the end of the file");
    return new ParsedFile(metadata, tensors);
  }

  static int elementSize(String dtype) {
    return switch (dtype) {
      case "BOOL", "U8", "I8" -> 1;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "F32", "I32", "U32" -> 4;
      case "F64", "I64", "U64" -> 8;
      default -> throw new AssertionError("unexpected dtype " + dtype);
    };
  }

  @Test
  void exportsABertShapedCheckpointWithTheHfBertPresetToTransformersNamesShapesAndTransposedBytes()
      throws IOException {
    Random random = new Random(14);
    Map<String, Tensor> source = new TreeMap<>();
    for (HfBertPresetTest.Family f : HfBertPresetTest.FAMILIES) {
      source.put(f.source(), floats(random, f.shape()));
    }
    for (String skipped : HfBertPresetTest.SKIPPED) {
      source.put(
          skipped,
          skipped.equals("global_step")
              ? TestCheckpoints.int64Scalar(7)
              : TestCheckpoints.scalar(1));
    }
    String prefix = write("bert_model.ckpt", source);
    Path out = dir.resolve("bert.safetensors");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--preset", "hf-bert", prefix, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    ParsedFile parsed = parse(out);
    assertEquals("pt", parsed.metadata().get("format"));
    assertEquals(prefix, parsed.metadata().get("source"));
    assertTrue(parsed.metadata().get("tool").startsWith("rebundle "), parsed.metadata().toString());
    Map<String, Parsed> tensors = parsed.tensors();
    assertEquals(HfBertPresetTest.FAMILIES.size(), tensors.size(), tensors.keySet().toString());
    for (HfBertPresetTest.Family f : HfBertPresetTest.FAMILIES) {
      Tensor t = source.get(f.source());
      Parsed got = tensors.get(f.target());
      assertTrue(got != null, "missing " + f.target());
      assertEquals("F32", got.dtype(), f.target());
      Tensor want = f.transposed() ? transpose2d(t) : t;
      assertArrayEquals(want.shape().dims(), got.shape(), f.target());
      assertArrayEquals(want.data(), got.data(), f.target());
    }
    // The reference writer's order: by dtype alignment (all F32 here), then by name.
    List<String> names = new ArrayList<>(tensors.keySet());
    List<String> sorted = new ArrayList<>(names);
    java.util.Collections.sort(sorted);
    assertEquals(sorted, names);
    assertFalse(Files.exists(dir.resolve("bert.safetensors.partial")));
  }

  @Test
  void everySharedDtypeExportsWithItsNameAndBytesAndDropsTrainingState() throws IOException {
    Random random = new Random(7);
    Map<String, Tensor> source = new TreeMap<>();
    source.put("w/f32", random(DType.FLOAT, random, 3, 5));
    source.put("w/f64", random(DType.DOUBLE, random, 4));
    source.put("w/f16", random(DType.HALF, random, 2, 3));
    source.put("w/bf16", random(DType.BFLOAT16, random, 7));
    source.put("w/i32", random(DType.INT32, random, 2, 2));
    source.put("w/i64", random(DType.INT64, random, 3));
    byte[] bools = {1, 0, 1, 1, 0};
    source.put("w/bool", Tensor.of(DType.BOOL, TensorShape.of(5), bools));
    source.put("global_step", TestCheckpoints.int64Scalar(100));
    source.put("w/f32/Adam", random(DType.FLOAT, random, 3, 5));
    String prefix = write("model.ckpt", source);
    Path out = dir.resolve("export");

    CliRunner r =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", prefix, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("global_step"), r.out());
    assertTrue(r.out().contains("w/f32/Adam"), r.out());
    assertFalse(Files.exists(out.resolve("model.safetensors.index.json")));
    ParsedFile parsed = parse(out.resolve("model.safetensors"));
    Map<String, String> dtypes =
        Map.of(
            "w/f32", "F32", "w/f64", "F64", "w/f16", "F16", "w/bf16", "BF16", "w/i32", "I32",
            "w/i64", "I64", "w/bool", "BOOL");
    assertEquals(new TreeMap<>(dtypes).keySet(), new TreeMap<>(parsed.tensors()).keySet());
    for (Map.Entry<String, String> e : dtypes.entrySet()) {
      Parsed got = parsed.tensors().get(e.getKey());
      assertEquals(e.getValue(), got.dtype(), e.getKey());
      assertArrayEquals(source.get(e.getKey()).shape().dims(), got.shape(), e.getKey());
      assertArrayEquals(source.get(e.getKey()).data(), got.data(), e.getKey());
    }
    // The reference writer's order: its Dtype enum order descending (I64 > F64 > F32 > I32 > BF16 >
    // F16 > BOOL),
    // then name, so 8-byte types come first and every tensor is aligned to its element size.
    assertEquals(
        List.of("w/i64", "w/f64", "w/f32", "w/i32", "w/bf16", "w/f16", "w/bool"),
        new ArrayList<>(parsed.tensors().keySet()));
  }

  @Test
  void aTf2CheckpointExportsUnderItsFullNamesAsToTf1Does() throws IOException {
    String tf2 = TestCheckpoints.copyTf2Example(dir);
    Path tf1 = dir.resolve("as-tf1");
    CliRunner asTf1 = CliRunner.runWithSharedSpark("convert", "--to", "tf1", tf2, tf1.toString());
    assertEquals(0, asTf1.exitCode(), asTf1.err());
    Map<String, Tensor> expected = TestCheckpoints.readAll(new LocalFileIO(), tf1.toString());
    Path out = dir.resolve("tf2.safetensors");

    CliRunner r =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", tf2, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("save_counter"), r.out());
    Map<String, Parsed> got = parse(out).tensors();
    assertFalse(got.isEmpty());
    Map<String, Tensor> weights = new TreeMap<>(expected);
    weights.remove("save_counter");
    assertEquals(weights.keySet(), new TreeMap<>(got).keySet());
    for (Map.Entry<String, Tensor> e : weights.entrySet()) {
      assertArrayEquals(e.getValue().shape().dims(), got.get(e.getKey()).shape(), e.getKey());
      assertArrayEquals(e.getValue().data(), got.get(e.getKey()).data(), e.getKey());
      assertFalse(e.getKey().contains(".ATTRIBUTES"), e.getKey());
    }
  }

  @Test
  void partitionedVariablesAreMergedAndCastsApply() throws IOException {
    String prefix = dir.resolve("sliced.ckpt").toString();
    Map<String, Tensor> full = TestCheckpoints.generateSliced(prefix);
    Path map = dir.resolve("cast.yaml");
    Files.writeString(map, "transforms:\n  - {match: 'dense', cast: float16}\n");
    Path out = dir.resolve("sliced.safetensors");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--map", map.toString(), prefix, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    Map<String, Parsed> got = parse(out).tensors();
    assertEquals(List.of("emb", "grid", "dense"), new ArrayList<>(got.keySet()));
    for (String name : List.of("emb", "grid")) {
      assertEquals("F32", got.get(name).dtype(), name);
      assertArrayEquals(full.get(name).shape().dims(), got.get(name).shape(), name);
      assertArrayEquals(full.get(name).data(), got.get(name).data(), name);
    }
    // 7, 8, 9 in IEEE half precision, little-endian: 0x4700, 0x4800, 0x4880.
    assertEquals("F16", got.get("dense").dtype());
    assertArrayEquals(
        new byte[] {0x00, 0x47, 0x00, 0x48, (byte) 0x80, 0x48}, got.get("dense").data());
  }

  @Test
  void aDryRunListsTheFilesAndWritesNothingAndAnExistingOutputIsRefused() throws IOException {
    Map<String, Tensor> source = new TreeMap<>();
    source.put("w", random(DType.FLOAT, new Random(2), 4));
    String prefix = write("dry.ckpt", source);
    Path out = dir.resolve("dry");

    CliRunner dry =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--dry-run", prefix, out.toString());

    assertEquals(0, dry.exitCode(), dry.err());
    assertTrue(
        dry.out().contains("Would export") && dry.out().contains("model.safetensors"), dry.out());
    assertFalse(Files.exists(out));
    CliRunner first =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", prefix, out.toString());
    assertEquals(0, first.exitCode(), first.err());
    byte[] before = Files.readAllBytes(out.resolve("model.safetensors"));
    CliRunner again =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", prefix, out.toString());
    assertEquals(2, again.exitCode(), again.err());
    assertTrue(again.err().contains("--overwrite"), again.err());
    assertArrayEquals(before, Files.readAllBytes(out.resolve("model.safetensors")));
  }

  @Test
  void shardedOutputHasACorrectIndex() throws IOException {
    Random random = new Random(3);
    Map<String, Tensor> source = new TreeMap<>();
    for (int i = 0; i < 5; i++) {
      source.put("layer_" + i + "/kernel", random(DType.FLOAT, random, 16, 16)); // 1 KiB each
    }
    String prefix = write("sharded.ckpt", source);
    Path out = dir.resolve("sharded");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--shard-size", "2048", prefix, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    JsonNode index =
        new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
    assertEquals(5L * 1024, index.get("metadata").get("total_size").asLong());
    Map<String, String> weightMap = new TreeMap<>();
    index
        .get("weight_map")
        .fields()
        .forEachRemaining(e -> weightMap.put(e.getKey(), e.getValue().asText()));
    assertEquals(source.keySet(), weightMap.keySet());
    List<String> files =
        List.of(
            "model-00001-of-00003.safetensors",
            "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors");
    assertEquals(new java.util.TreeSet<>(files), new java.util.TreeSet<>(weightMap.values()));
    for (String f : files) {
      ParsedFile parsed = parse(out.resolve(f));
      for (Map.Entry<String, Parsed> e : parsed.tensors().entrySet()) {
        assertEquals(f, weightMap.get(e.getKey()), e.getKey());
        assertArrayEquals(source.get(e.getKey()).data(), e.getValue().data(), e.getKey());
      }
    }
    try (var listing = Files.list(dir)) {
      assertTrue(
          listing.noneMatch(p -> p.getFileName().toString().startsWith(".rebundle-staging-")));
    }
  }

  @Test
  void aStringTensorIsRefusedByNameUnlessARuleExcludesIt() throws IOException {
    Map<String, Tensor> source = new TreeMap<>();
    source.put("dense/kernel", random(DType.FLOAT, new Random(1), 2, 3));
    source.put(
        "vocab/tokens",
        Tensor.ofStrings(
            TensorShape.of(2),
            List.of("a".getBytes(StandardCharsets.UTF_8), "bc".getBytes(StandardCharsets.UTF_8))));
    String prefix = write("strings.ckpt", source);
    Path out = dir.resolve("s.safetensors");

    CliRunner r =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", prefix, out.toString());

    assertEquals(3, r.exitCode(), r.err());
    assertTrue(r.err().contains("vocab/tokens"), r.err());
    assertTrue(r.err().toLowerCase(java.util.Locale.ROOT).contains("string"), r.err());
    assertFalse(Files.exists(out));

    Path map = dir.resolve("drop.yaml");
    Files.writeString(map, "exclude: ['vocab/.*']\n");
    CliRunner ok =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--map", map.toString(), prefix, out.toString());
    assertEquals(0, ok.exitCode(), ok.err());
    assertEquals(List.of("dense/kernel"), new ArrayList<>(parse(out).tensors().keySet()));
  }

  private String write(String name, Map<String, Tensor> tensors) {
    String prefix = dir.resolve(name).toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix, 1, false)) {
      tensors.forEach((k, v) -> w.add(0, k, v));
      w.finish();
    }
    return prefix;
  }

  private static Tensor random(DType dtype, Random random, long... dims) {
    TensorShape shape = TensorShape.of(dims);
    byte[] b = new byte[(int) shape.numElements() * dtype.elementSize()];
    random.nextBytes(b);
    return Tensor.of(dtype, shape, b);
  }

  private static Tensor floats(Random random, long[] dims) {
    TensorShape shape = TensorShape.of(dims);
    ByteBuffer b =
        ByteBuffer.allocate((int) shape.numElements() * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < shape.numElements(); i++) {
      b.putFloat(random.nextFloat());
    }
    return Tensor.of(DType.FLOAT, shape, b.array());
  }

  private static Tensor transpose2d(Tensor t) {
    int rows = (int) t.shape().dim(0);
    int cols = (int) t.shape().dim(1);
    byte[] in = t.data();
    byte[] out = new byte[in.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        System.arraycopy(in, (i * cols + j) * 4, out, (j * rows + i) * 4, 4);
      }
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(cols, rows), out);
  }
}
