package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.table.TableWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
  @TempDir Path dir;

  @Test
  void listsTheMigrationGuideTf1Checkpoint() {
    String prefix = CliRunner.example("tf1-ckpt");
    CliRunner r = CliRunner.run("inspect", prefix);
    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        String.join(
            "\n",
            "prefix: " + prefix,
            "format: tf1 (name-based), 1 shard, 3 tensors, 12 bytes",
            "KEY       DTYPE       SHAPE         BYTES  SHARD  SLICES",
            "a         float32     []                4      0       0",
            "b         float32     []                4      0       0",
            "scoped/c  float32     []                4      0       0",
            ""),
        r.out());
  }

  @Test
  void printsJsonWithTheDocumentedFields() {
    String prefix = CliRunner.example("tf1-ckpt");
    CliRunner r = CliRunner.run("inspect", "--json", prefix);
    assertEquals(0, r.exitCode(), r.err());
    assertEquals(
        "{\"prefix\":\""
            + prefix
            + "\",\"format\":\"tf1\",\"num_shards\":1,\"tensors\":["
            + "{\"key\":\"a\",\"dtype\":\"float32\",\"shape\":[],\"bytes\":4,\"shard\":0,\"slices\":0},"
            + "{\"key\":\"b\",\"dtype\":\"float32\",\"shape\":[],\"bytes\":4,\"shard\":0,\"slices\":0},"
            + "{\"key\":\"scoped/c\",\"dtype\":\"float32\",\"shape\":[],\"bytes\":4,\"shard\":0,\"slices\":0}]}\n",
        r.out());
  }

  @Test
  void printsTheObjectGraphOfATf2CheckpointAsJsonAndTree() {
    String dirPath = CliRunner.example("tf2-ckpt");
    CliRunner json = CliRunner.run("inspect", "--json", dirPath);
    assertEquals(0, json.exitCode(), json.err());
    assertTrue(json.out().contains("\"format\":\"tf2\""), json.out());
    assertTrue(
        json.out()
            .contains(
                "{\"id\":1,\"children\":[{\"name\":\"0\",\"node_id\":3},"
                    + "{\"name\":\"1\",\"node_id\":4},{\"name\":\"2\",\"node_id\":5}],\"attributes\":[],"
                    + "\"slot_variables\":[],\"has_checkpoint_values\":true}"),
        json.out());
    assertTrue(
        json.out()
            .contains(
                "{\"name\":\"VARIABLE_VALUE\",\"full_name\":\"c\","
                    + "\"checkpoint_key\":\"variables/2/.ATTRIBUTES/VARIABLE_VALUE\"}"),
        json.out());

    CliRunner tree = CliRunner.run("inspect", "--tree", dirPath);
    assertTrue(
        tree.out()
            .contains(
                "├── variables #1\n"
                    + "│   ├── 0 #3  [VARIABLE_VALUE full_name=a key=variables/0/.ATTRIBUTES/VARIABLE_VALUE]\n"),
        tree.out());
    assertTrue(
        tree.out()
            .contains(
                "└── save_counter #2  [VARIABLE_VALUE full_name=save_counter "
                    + "key=save_counter/.ATTRIBUTES/VARIABLE_VALUE]"),
        tree.out());
  }

  @Test
  void printsValuesNumpyStyleAndElides() {
    String prefix = dir.resolve("v").toString();
    ByteBuffer b = ByteBuffer.allocate(4 * 12).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 12; i++) {
      b.putFloat(i * 0.5f);
    }
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix)) {
      w.add("m", Tensor.of(DType.FLOAT, TensorShape.of(3, 4), b.array()));
      w.add(
          "s",
          Tensor.ofStrings(
              TensorShape.of(2), List.of("a'b".getBytes(), new byte[] {0, (byte) 0xff})));
      w.add("flag", Tensor.of(DType.BOOL, TensorShape.SCALAR, new byte[] {1}));
      w.finish();
    }
    CliRunner r = CliRunner.run("inspect", "--values", "--max-elements", "5", prefix);
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("    [[0. 0.5 1. 1.5]\n     [2. ...]]\n"), r.out());
    assertTrue(r.out().contains("    [b'a\\'b' b'\\x00\\xff']\n"), r.out());
    assertTrue(r.out().contains("    True\n"), r.out());
  }

  @Test
  void foldsSliceEntriesIntoTheirTensor() {
    String prefix = dir.resolve("sliced").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix, 2, false)) {
      w.addSlice(
          1,
          "emb",
          TensorShape.of(4, 2),
          TensorSlice.parse("0,2:-"),
          Tensor.of(DType.FLOAT, TensorShape.of(2, 2), new byte[16]));
      w.addSlice(
          0,
          "emb",
          TensorShape.of(4, 2),
          TensorSlice.parse("2,2:-"),
          Tensor.of(DType.FLOAT, TensorShape.of(2, 2), new byte[16]));
      w.finish();
    }
    CliRunner r = CliRunner.run("inspect", "--json", prefix);
    assertTrue(
        r.out()
            .contains(
                "\"tensors\":[{\"key\":\"emb\",\"dtype\":\"float32\",\"shape\":[4,2],"
                    + "\"bytes\":32,\"shard\":0,\"slices\":2}]"),
        r.out());
  }

  @Test
  void worksFromTheIndexAloneWhenDataFilesAreAbsent() throws Exception {
    Path copy = dir.resolve("only-index");
    Files.copy(Path.of(CliRunner.example("tf1-ckpt") + ".index"), Path.of(copy + ".index"));
    CliRunner r = CliRunner.run("inspect", copy.toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("scoped/c  float32"), r.out());
  }

  @Test
  void missingCheckpointExitsFourAndSuggestsTheSuffix() throws Exception {
    Files.copy(Path.of(CliRunner.example("tf1-ckpt") + ".index"), dir.resolve("ckpt-1.index"));
    CliRunner r = CliRunner.run("inspect", dir.resolve("ckpt").toString());
    assertEquals(4, r.exitCode());
    assertEquals(
        "rebundle: Cannot find checkpoint "
            + dir.resolve("ckpt")
            + ": no "
            + dir.resolve("ckpt.index")
            + " found; did you mean ckpt-1? (a checkpoint suffix such as '-1' may be missing)\n",
        r.err());
  }

  @Test
  void legacyV1CheckpointExitsThreeAndSaysV1() throws Exception {
    Path v1 = dir.resolve("model.ckpt");
    try (PositionOutputStream out = new LocalFileIO().newOutputFile(v1.toString()).create()) {
      TableWriter t = new TableWriter(out, v1.toString());
      t.add(new byte[0], new byte[] {0x0A, 0x00});
      t.finish();
    }
    CliRunner r = CliRunner.run("inspect", v1.toString());
    assertEquals(3, r.exitCode());
    assertEquals(
        "rebundle: Cannot read "
            + v1
            + ": legacy V1 checkpoint (tf.train.Saver write_version=V1); "
            + "re-save it with a TensorFlow that writes V2 checkpoints\n",
        r.err());
  }

  @Test
  void corruptIndexExitsThree() throws Exception {
    Path index = dir.resolve("bad.index");
    Files.copy(Path.of(CliRunner.example("tf1-ckpt") + ".index"), index);
    byte[] b = Files.readAllBytes(index);
    b[b.length - 1] ^= 1;
    Files.write(index, b);
    CliRunner r = CliRunner.run("inspect", dir.resolve("bad").toString());
    assertEquals(3, r.exitCode());
    assertEquals(
        "rebundle: Cannot read table "
            + index
            + " at offset "
            + (b.length - 8)
            + ": not an sstable (bad magic number): expected db4775248b80fb57, found da4775248b80fb57\n",
        r.err());
  }

  @Test
  void badOptionsExitTwo() {
    CliRunner r = CliRunner.run("inspect", "--no-such-option", "x");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
    assertEquals(
        2,
        CliRunner.run("inspect", "--max-elements", "0", CliRunner.example("tf1-ckpt")).exitCode());
    assertEquals(2, CliRunner.run().exitCode());
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd : List.of("inspect", "verify")) {
      CliRunner r = CliRunner.run(cmd, "--help");
      assertEquals(0, r.exitCode());
      assertTrue(r.out().startsWith("Usage: rebundle " + cmd), r.out());
    }
  }

  /**
   * The table's fast path (a sizing pass without rows, lines laid out in a character buffer) prints
   * what the rows formatted with {@link String#format} print: slices folded across shards, string
   * tensors, a non-ASCII key, a dtype name wider than its column, many shards.
   */
  @Test
  void fastTableIsTheFormattedRowsByteForByte() {
    String prefix = dir.resolve("many").toString();
    LocalFileIO files = new LocalFileIO();
    try (CheckpointWriter w = CheckpointWriter.create(files, prefix, 5, false)) {
      w.addSlice(
          3,
          "emb",
          TensorShape.of(4, 2),
          TensorSlice.parse("0,2:-"),
          Tensor.of(DType.FLOAT, TensorShape.of(2, 2), new byte[16]));
      w.addSlice(
          1,
          "emb",
          TensorShape.of(4, 2),
          TensorSlice.parse("2,2:-"),
          Tensor.of(DType.FLOAT, TensorShape.of(2, 2), new byte[16]));
      w.addSlice(
          4,
          "part/w",
          TensorShape.of(6),
          TensorSlice.parse("0,3"),
          Tensor.of(DType.DOUBLE, TensorShape.of(3), new byte[24]));
      w.addSlice(
          2,
          "part/w",
          TensorShape.of(6),
          TensorSlice.parse("3,3"),
          Tensor.of(DType.DOUBLE, TensorShape.of(3), new byte[24]));
      w.add(
          2,
          "vocab",
          Tensor.ofStrings(
              TensorShape.of(3), List.of("a".getBytes(), new byte[0], "xyz".getBytes())));
      w.add(0, "wörter/ß", Tensor.of(DType.FLOAT, TensorShape.of(2, 3), new byte[24]));
      w.add(
          4,
          "a/rather/long/scope/name/for/a/variable/kernel",
          Tensor.of(DType.INT8, TensorShape.of(1, 2, 3, 1, 1, 1), new byte[6]));
      w.addEntry(
          "unknown".getBytes(java.nio.charset.StandardCharsets.UTF_8),
          new BundleEntry(1234, TensorShape.of(2), 0, 0, 0, 0, List.of()));
      w.finish();
    }
    List<InspectCommand.Row> rows = new java.util.ArrayList<>();
    try (CheckpointReader reader = CheckpointReader.openPrefix(files, prefix)) {
      InspectCommand.forEachRow(reader, rows::add);
    }
    int keyWidth = 3;
    int shapeWidth = 5;
    long bytes = 0;
    for (InspectCommand.Row row : rows) {
      keyWidth = Math.max(keyWidth, row.key().length());
      shapeWidth = Math.max(shapeWidth, row.entry().shape().toString().length());
      bytes += row.bytes();
    }
    String fmt = "%-" + keyWidth + "s  %-10s  %-" + shapeWidth + "s  %12s  %5s  %6s%n";
    StringBuilder expected = new StringBuilder();
    expected.append(String.format(fmt, "KEY", "DTYPE", "SHAPE", "BYTES", "SHARD", "SLICES"));
    for (InspectCommand.Row row : rows) {
      expected.append(
          String.format(
              fmt,
              row.key(),
              row.entry().dtypeName(),
              row.entry().shape(),
              row.bytes(),
              row.shard(),
              row.slices()));
    }
    String format =
        "format: tf1 (name-based), 5 shards, " + rows.size() + " tensors, " + bytes + " bytes";
    String body = expected.toString().replace(System.lineSeparator(), "\n");
    assertEquals(6, rows.size());
    assertTrue(body.contains("\nunknown  "), body);
    assertTrue(body.contains("  dtype<1234>  [2]  "), body);
    assertTrue(body.contains("\nemb  "), body);

    CliRunner all = CliRunner.run("inspect", prefix);
    assertEquals(0, all.exitCode(), all.err());
    assertEquals("prefix: " + prefix + "\n" + format + "\n" + body, all.out());
    // --keys '' selects every row through the general path (rows sized one by one).
    CliRunner selected = CliRunner.run("inspect", "--keys", "", prefix);
    assertEquals(0, selected.exitCode(), selected.err());
    assertEquals(
        "prefix: " + prefix + "\n" + format + " (selected by --keys)\n" + body, selected.out());
  }
}
