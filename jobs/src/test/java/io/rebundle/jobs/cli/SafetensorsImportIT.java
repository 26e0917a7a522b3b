package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.safetensors.SafetensorsDType;
import io.rebundle.codec.safetensors.SafetensorsHeader;
import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import io.rebundle.codec.safetensors.SafetensorsWriter;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code convert --to tf1|tf2 model.safetensors DST} and {@code --template} end to end: every
 * output is read back by the TensorBundle reader, which checks each entry's CRC32C against its
 * bytes, so the CRCs the import computed are checked too.
 */
class SafetensorsImportIT {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  /** Every dtype TensorFlow and safetensors share, with random bytes (bool as 0/1). */
  private static Map<String, Tensor> everySharedDtype(Random random) {
    Map<String, Tensor> m = new TreeMap<>();
    for (SafetensorsDType st : SafetensorsDType.values()) {
      DType dtype = st.tfType();
      TensorShape shape = TensorShape.of(3, 5);
      byte[] b = new byte[(int) shape.numElements() * dtype.elementSize()];
      random.nextBytes(b);
      if (dtype == DType.BOOL) {
        for (int i = 0; i < b.length; i++) {
          b[i] &= 1;
        }
      }
      m.put("w/" + st.name().toLowerCase(java.util.Locale.ROOT), Tensor.of(dtype, shape, b));
    }
    m.put("scalar", Tensor.of(DType.FLOAT, TensorShape.SCALAR, new byte[] {0, 0, (byte) 0x80, 63}));
    m.put("empty", Tensor.of(DType.INT32, TensorShape.of(0, 4), new byte[0]));
    return m;
  }

  private String writeCheckpoint(String name, Map<String, Tensor> tensors) {
    String prefix = dir.resolve(name).toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 1, false)) {
      tensors.forEach((k, v) -> w.add(0, k, v));
      w.finish();
    }
    return prefix;
  }

  /** A safetensors file of {@code tensors} written by the production writer. */
  private Path writeSafetensors(Path target, Map<String, Tensor> tensors) {
    List<TensorSpec> specs = new ArrayList<>();
    tensors.forEach(
        (k, t) -> specs.add(new TensorSpec(k, SafetensorsDType.fromTf(k, t.dtype()), t.shape())));
    SafetensorsHeader h = SafetensorsHeader.layout(Map.of("format", "pt"), specs);
    try (SafetensorsWriter w = SafetensorsWriter.create(io, target.toString(), h)) {
      for (var e : h.entries()) {
        byte[] b = tensors.get(e.name()).data();
        w.write(b, 0, b.length);
      }
      w.commit();
    }
    return target;
  }

  /** The stored bytes of every entry of a checkpoint, each CRC32C checked by the reader. */
  private Map<String, Tensor> read(String path) {
    return TestCheckpoints.readAll(io, path);
  }

  @Test
  void roundTripTfToSafetensorsToTfIsByteIdenticalForEverySharedDtype() {
    Map<String, Tensor> source = everySharedDtype(new Random(14));
    String prefix = writeCheckpoint("model.ckpt", source);
    Path st = dir.resolve("model.safetensors");
    CliRunner export =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", prefix, st.toString());
    assertEquals(0, export.exitCode(), export.err());

    Path out = dir.resolve("back");
    CliRunner r = CliRunner.runWithSharedSpark("convert", "--to", "tf1", st.toString(), out + "/");

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .contains(
                "note: source is safetensors (read as name-based keys): every tensor is streamed "
                    + "and its CRC32C computed, since safetensors stores none"),
        r.out());
    // A model directory destination names the checkpoint after the file, without .safetensors.
    String imported = out.resolve("model").toString();
    assertTrue(Files.exists(Path.of(imported + ".index")), r.out());
    assertTrue(Files.exists(out.resolve("checkpoint")), "state file");
    Map<String, Tensor> got = read(imported);
    assertEquals(source.keySet(), got.keySet());
    for (Map.Entry<String, Tensor> e : source.entrySet()) {
      Tensor t = got.get(e.getKey());
      assertEquals(e.getValue().dtype(), t.dtype(), e.getKey());
      assertEquals(e.getValue().shape(), t.shape(), e.getKey());
      assertArrayEquals(e.getValue().data(), t.data(), e.getKey());
    }
    // The CRC32C of every imported entry is the one TensorFlow's writer stores for those bytes,
    // equal to the original checkpoint's.
    try (CheckpointReader a = CheckpointReader.open(io, prefix);
        CheckpointReader b = CheckpointReader.open(io, imported)) {
      for (IndexRecord rec : a.records()) {
        if (rec.key().length == 0) {
          continue;
        }
        BundleEntry want = rec.entry();
        BundleEntry have = b.entry(rec.name());
        assertEquals(want.crc32c(), have.crc32c(), rec.name());
        assertEquals(
            Crc32c.mask(
                TestCheckpoints.crcOf(
                    want.dtype(), want.shape().numElements(), source.get(rec.name()).data())),
            have.crc32c(),
            rec.name());
      }
    }
    assertEquals(0, CliRunner.run("verify", imported).exitCode());
  }

  @Test
  void importToTf2GivesAnObjectBasedCheckpointThatConvertsBackToTheSameNamesAndBytes() {
    Map<String, Tensor> source = everySharedDtype(new Random(5));
    Path st = writeSafetensors(dir.resolve("m.safetensors"), source);
    Path tf2 = dir.resolve("tf2/ckpt-1");

    CliRunner r =
        CliRunner.runWithSharedSpark("convert", "--to", "tf2", st.toString(), tf2.toString());

    assertEquals(0, r.exitCode(), r.err());
    try (CheckpointReader reader = CheckpointReader.open(io, tf2.toString())) {
      assertTrue(reader.isObjectBased());
    }
    Path tf1 = dir.resolve("tf1/m");
    CliRunner back =
        CliRunner.runWithSharedSpark("convert", "--to", "tf1", tf2.toString(), tf1.toString());
    assertEquals(0, back.exitCode(), back.err());
    Map<String, Tensor> got = read(tf1.toString());
    got.remove("save_counter");
    assertEquals(source.keySet(), got.keySet());
    source.forEach((k, v) -> assertArrayEquals(v.data(), got.get(k).data(), k));
  }

  @Test
  void aShardedSafetensorsDirectoryImportsAndSpreadsOverShards() throws IOException {
    Random random = new Random(9);
    Map<String, Tensor> source = new TreeMap<>();
    for (int i = 0; i < 6; i++) {
      byte[] b = new byte[16 * 16 * 4];
      random.nextBytes(b);
      source.put("layer_" + i + "/kernel", Tensor.of(DType.FLOAT, TensorShape.of(16, 16), b));
    }
    String prefix = writeCheckpoint("big.ckpt", source);
    Path sharded = dir.resolve("hf");
    CliRunner export =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "safetensors", "--shard-size", "2048", prefix, sharded.toString());
    assertEquals(0, export.exitCode(), export.err());
    assertTrue(Files.exists(sharded.resolve("model.safetensors.index.json")));

    Path out = dir.resolve("imported/ckpt");
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", "--shards", "2", sharded.toString(), out.toString());

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(Files.exists(Path.of(out + ".data-00001-of-00002")));
    Map<String, Tensor> got = read(out.toString());
    assertEquals(source.keySet(), got.keySet());
    source.forEach((k, v) -> assertArrayEquals(v.data(), got.get(k).data(), k));

    // The index json names the same model; a model directory DST takes the directory's name.
    Path viaIndex = dir.resolve("via-index");
    CliRunner i =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf1",
            sharded.resolve("model.safetensors.index.json").toString(),
            viaIndex + "/");
    assertEquals(0, i.exitCode(), i.err());
    Map<String, Tensor> again = read(viaIndex.resolve("hf").toString());
    source.forEach((k, v) -> assertArrayEquals(v.data(), again.get(k).data(), k));
  }

  @Test
  void aMappingFileRenamesAndTransposesOnImport() throws IOException {
    // transformers' names and layout (out, in) back to BERT's TF names and layout (in, out).
    Map<String, Tensor> hf = new LinkedHashMap<>();
    ByteBuffer w = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      w.putFloat(i);
    }
    hf.put("encoder.layer.0.dense.weight", Tensor.of(DType.FLOAT, TensorShape.of(2, 3), w.array()));
    hf.put(
        "encoder.layer.0.dense.bias",
        Tensor.of(DType.FLOAT, TensorShape.of(2), new byte[] {0, 0, (byte) 0x80, 63, 0, 0, 0, 64}));
    Path st = writeSafetensors(dir.resolve("hf.safetensors"), hf);
    Path map = dir.resolve("to-tf.yaml");
    Files.writeString(
        map,
        "rename:\n"
            + "  - {from: '^encoder\\.layer\\.(\\d+)\\.dense\\.weight$', to: 'layer_$1/dense/kernel'}\n"
            + "  - {from: '^encoder\\.layer\\.(\\d+)\\.dense\\.bias$', to: 'layer_$1/dense/bias'}\n"
            + "transforms:\n"
            + "  - {match: '.*/kernel', transpose: [1, 0]}\n");
    Path out = dir.resolve("tf/model");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", "--map", map.toString(), st.toString(), out.toString());

    assertEquals(0, r.exitCode(), r.err());
    Map<String, Tensor> got = read(out.toString());
    assertEquals(
        List.of("layer_0/dense/bias", "layer_0/dense/kernel"), new ArrayList<>(got.keySet()));
    Tensor kernel = got.get("layer_0/dense/kernel");
    assertEquals(TensorShape.of(3, 2), kernel.shape());
    ByteBuffer k = ByteBuffer.wrap(kernel.data()).order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[6];
    for (int i = 0; i < 6; i++) {
      values[i] = k.getFloat();
    }
    // [[0 1 2] [3 4 5]] transposed is [[0 3] [1 4] [2 5]].
    assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, values);
    assertArrayEquals(
        hf.get("encoder.layer.0.dense.bias").data(), got.get("layer_0/dense/bias").data());
  }

  @Test
  void aTemplateTakesItsObjectGraphFromTheTf2CheckpointAndItsValuesFromSafetensors()
      throws IOException {
    String template = TestCheckpoints.copyTf2Example(dir);
    // The template's variables under their full names, as the export names them.
    Path names = dir.resolve("names.safetensors");
    CliRunner export =
        CliRunner.runWithSharedSpark("convert", "--to", "safetensors", template, names.toString());
    assertEquals(0, export.exitCode(), export.err());
    Path asTf1 = dir.resolve("names-tf1");
    assertEquals(
        0,
        CliRunner.runWithSharedSpark("convert", "--to", "tf1", names.toString(), asTf1.toString())
            .exitCode());
    Map<String, Tensor> templateValues = read(asTf1.toString());
    assertFalse(templateValues.isEmpty());
    // New values under Hugging Face-style names: "hf." + full name, every byte changed.
    Map<String, Tensor> hf = new TreeMap<>();
    Map<String, Tensor> expected = new TreeMap<>();
    Random random = new Random(21);
    for (Map.Entry<String, Tensor> e : templateValues.entrySet()) {
      Tensor t = e.getValue();
      byte[] b = new byte[t.data().length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (t.data()[i] ^ (1 + random.nextInt(200)));
      }
      Tensor changed = Tensor.of(t.dtype(), t.shape(), b);
      hf.put("hf." + e.getKey(), changed);
      expected.put(e.getKey(), changed);
    }
    Path st = writeSafetensors(dir.resolve("new.safetensors"), hf);
    Path map = dir.resolve("strip.yaml");
    Files.writeString(map, "rename:\n  - {from: '^hf\\.(.*)$', to: '$1'}\n");
    Path out = dir.resolve("poured/ckpt-1");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--template",
            template,
            "--map",
            map.toString(),
            st.toString(),
            out.toString());

    assertEquals(0, r.exitCode(), r.err());
    try (CheckpointReader t = CheckpointReader.open(io, template);
        CheckpointReader o = CheckpointReader.open(io, out.toString())) {
      assertTrue(o.isObjectBased());
      List<String> templateKeys = new ArrayList<>();
      t.records().forEach(rec -> templateKeys.add(rec.name()));
      List<String> outKeys = new ArrayList<>();
      o.records().forEach(rec -> outKeys.add(rec.name()));
      assertEquals(templateKeys, outKeys);
      String graph = "_CHECKPOINTABLE_OBJECT_GRAPH";
      assertArrayEquals(
          t.read(graph).data(), o.read(graph).data(), "the template's object graph, unchanged");
    }
    Path back = dir.resolve("poured-tf1");
    assertEquals(
        0,
        CliRunner.runWithSharedSpark("convert", "--to", "tf1", out.toString(), back.toString())
            .exitCode());
    Map<String, Tensor> got = read(back.toString());
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      assertArrayEquals(e.getValue().data(), got.get(e.getKey()).data(), e.getKey());
    }
  }

  @Test
  void aDryRunPrintsThePlanAndWritesNothing() {
    Path st =
        writeSafetensors(
            dir.resolve("d.safetensors"),
            Map.of(
                "a", Tensor.of(DType.FLOAT, TensorShape.of(2), new byte[8]),
                "b", Tensor.of(DType.INT64, TensorShape.of(3), new byte[24])));
    Path out = dir.resolve("dry/ckpt");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf2", "--dry-run", st.toString(), out.toString());

    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().startsWith("plan: " + st + " (tf1) -> " + out + " (tf2), 1 shard"), r.out());
    assertTrue(r.out().contains("note: source is safetensors"), r.out());
    assertFalse(Files.exists(out.getParent()));
  }

  @Test
  void reuseOptionsAndASafetensorsTemplateAreRefused() {
    Path st =
        writeSafetensors(
            dir.resolve("r.safetensors"),
            Map.of("w", Tensor.of(DType.FLOAT, TensorShape.of(1), new byte[4])));
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", "--link", st.toString(), dir.resolve("o").toString());
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Invalid options: --reuse-files, --link and --verify-copies reuse TensorBundle "
            + "data files; "
            + st
            + " is safetensors, whose tensors are always streamed\n",
        r.err());
    assertFalse(Files.exists(dir.resolve("o.index")));

    CliRunner t =
        CliRunner.runWithSharedSpark(
            "convert",
            "--template",
            st.toString(),
            TestCheckpoints.copyTf1Example(dir),
            dir.resolve("o").toString());
    assertEquals(2, t.exitCode(), t.err());
    assertEquals(
        "rebundle: Invalid --template: "
            + st
            + " is safetensors; a template is a TensorFlow checkpoint (it gives the keys and the "
            + "object graph), and safetensors goes in SRC\n",
        t.err());
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

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.rebundle.jobs.cli.SafetensorsCommandsTest#malformed")
  void hostileHeadersExitThreeWithOneLineAndWriteNothing(
      String what, long declared, String json, int data, String message) throws IOException {
    Path f = raw("bad.safetensors", declared, json, data);
    Path out = dir.resolve("out");
    for (String to : List.of("tf1", "tf2")) {
      CliRunner r =
          CliRunner.runWithSharedSpark("convert", "--to", to, f.toString(), out.toString());
      assertEquals(3, r.exitCode(), to + ": " + r.err());
      assertEquals("rebundle: Cannot read " + f + ": " + message + "\n", r.err(), to);
      assertFalse(Files.exists(Path.of(out + ".index")));
    }
  }
}
