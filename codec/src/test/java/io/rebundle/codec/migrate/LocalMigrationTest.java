package io.rebundle.codec.migrate;

import static io.rebundle.codec.plan.PlanFixtures.VALUE;
import static io.rebundle.codec.plan.PlanFixtures.float32;
import static io.rebundle.codec.plan.PlanFixtures.int64;
import static io.rebundle.codec.util.TestBytes.spaced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.IndexWriter;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlanFixtures;
import io.rebundle.codec.util.Bytes;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalMigrationTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  private static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Tensor random(DType dtype, Random random, long... dims) {
    TensorShape shape = TensorShape.of(dims);
    byte[] data = new byte[(int) (shape.numElements() * dtype.elementSize())];
    random.nextBytes(data);
    if (dtype == DType.BOOL) {
      for (int i = 0; i < data.length; i++) {
        data[i] &= 1;
      }
    }
    return Tensor.of(dtype, shape, data);
  }

  private static TensorSlice slice(long... startLength) {
    List<TensorSlice.Extent> e = new ArrayList<>();
    for (int i = 0; i < startLength.length; i += 2) {
      e.add(new TensorSlice.Extent(startLength[i], startLength[i + 1]));
    }
    return new TensorSlice(e);
  }

  /**
   * Rows [r0, r0+rows) and columns [c0, c0+cols) of a row-major float32 matrix with {@code width}
   * columns.
   */
  private static Tensor block(Tensor full, long width, int r0, int rows, int c0, int cols) {
    byte[] out = new byte[rows * cols * 4];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(
          full.data(), (int) (((r0 + r) * width + c0) * 4), out, r * cols * 4, cols * 4);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(rows, cols), out);
  }

  /**
   * A TF1 checkpoint in two shards: the guide's a, b, scoped/c, names with dots, slashes and
   * non-ASCII characters, several dtypes, strings, an empty tensor, and two partitioned variables
   * (emb along dimension 0, grid as a 2x2 grid).
   */
  private Tensor writeRichTf1(String prefix) {
    Random random = new Random(17);
    Tensor emb = random(DType.FLOAT, random, 4, 3);
    Tensor grid = random(DType.FLOAT, random, 4, 6);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 2, false)) {
      w.add(0, "a", PlanFixtures.scalar(1));
      w.add(1, "b", PlanFixtures.scalar(2));
      w.add(0, "scoped/c", PlanFixtures.scalar(3));
      w.add(1, "x.y/z..w", random(DType.INT64, random, 2, 3));
      w.add(
          0,
          "ünï/çødé.S",
          Tensor.ofStrings(
              TensorShape.of(3),
              List.of(
                  "héllo".getBytes(StandardCharsets.UTF_8),
                  new byte[0],
                  new byte[] {0, (byte) 0xFF})));
      w.add(1, "empty", random(DType.DOUBLE, random, 0, 4));
      w.add(0, "global_step", Tensor.of(DType.INT64, TensorShape.SCALAR, int64(7)));
      w.add(1, "flags", random(DType.BOOL, random, 5));
      w.addSlice(1, "part/emb", emb.shape(), slice(2, 2, 0, 3), block(emb, 3, 2, 2, 0, 3));
      w.addSlice(0, "part/emb", emb.shape(), slice(0, 2, 0, 3), block(emb, 3, 0, 2, 0, 3));
      w.addSlice(0, "grid", grid.shape(), slice(0, 2, 0, 3), block(grid, 6, 0, 2, 0, 3));
      w.addSlice(1, "grid", grid.shape(), slice(0, 2, 3, 3), block(grid, 6, 0, 2, 3, 3));
      w.addSlice(0, "grid", grid.shape(), slice(2, 2, 0, 3), block(grid, 6, 2, 2, 0, 3));
      w.addSlice(1, "grid", grid.shape(), slice(2, 2, 3, 3), block(grid, 6, 2, 2, 3, 3));
      w.finish();
    }
    return emb;
  }

  /** Every record of a checkpoint with the stored bytes of the non-sliced ones. */
  private Map<String, Object[]> contents(String prefix) {
    Map<String, Object[]> m = new LinkedHashMap<>();
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      for (IndexRecord rec : r.records()) {
        BundleEntry e = rec.entry();
        byte[] bytes = e.isSliced() ? null : r.readRaw(rec.name(), e);
        m.put(
            Bytes.printable(rec.key()),
            new Object[] {e.dtypeCode(), e.shape(), e.slices(), e.crc32c(), bytes});
      }
    }
    return m;
  }

  private static void assertSameContents(
      Map<String, Object[]> expected, Map<String, Object[]> actual) {
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
    expected.forEach(
        (k, e) -> {
          Object[] a = actual.get(k);
          assertEquals(e[0], a[0], k + " dtype");
          assertEquals(e[1], a[1], k + " shape");
          assertEquals(e[2], a[2], k + " slices");
          assertEquals(e[3], a[3], k + " crc");
          if (e[4] == null) {
            assertEquals(null, a[4], k);
          } else {
            assertEquals(spaced((byte[]) e[4]), spaced((byte[]) a[4]), k + " bytes");
          }
        });
  }

  @Test
  void tf1ToTf2ToTf1ReproducesEverySourceTensor() {
    String source = path("tf1/model.ckpt-7");
    writeRichTf1(source);
    MigrationPlan there =
        LocalMigration.run(
            io, source, path("tf2/ckpt-1"), MigrationSpec.to(CheckpointFormat.TF2), 3, false);
    MigrationPlan back =
        LocalMigration.run(
            io,
            path("tf2"),
            path("back/model.ckpt-7"),
            MigrationSpec.to(CheckpointFormat.TF1),
            1,
            false);
    assertEquals(CheckpointFormat.TF2, back.sourceFormat());
    assertEquals(List.of(), back.notes());
    assertEquals(
        List.of("save_counter" + VALUE, Naming.OBJECT_GRAPH_KEY),
        back.dropped().stream().map(MigrationPlan.Dropped::key).toList());
    assertEquals(there.renamed().size(), back.renamed().size());
    assertSameContents(contents(source), contents(path("back/model.ckpt-7")));
  }

  @Test
  void tf2OutputIsACompleteObjectBasedCheckpoint() throws IOException {
    String source = path("tf1/model.ckpt-7");
    writeRichTf1(source);
    MigrationPlan plan =
        LocalMigration.run(
            io, source, path("tf2/ckpt-1"), MigrationSpec.to(CheckpointFormat.TF2), 3, false);
    assertEquals(source, plan.sourcePrefix());
    assertEquals(
        List.of(
            "checkpoint",
            "ckpt-1.data-00000-of-00003",
            "ckpt-1.data-00001-of-00003",
            "ckpt-1.data-00002-of-00003",
            "ckpt-1.index"),
        list(dir.resolve("tf2")));
    assertEquals(CheckpointState.of("ckpt-1"), CheckpointState.read(io, path("tf2/checkpoint")));
    try (CheckpointReader r = CheckpointReader.open(io, path("tf2"))) {
      assertEquals(3, r.header().numShards());
      assertTrue(r.isObjectBased());
      assertArrayEquals(int64(1), r.read("save_counter" + VALUE).data());
      assertArrayEquals(float32(3), r.read("vars/scoped.Sc" + VALUE).data());
      ObjectGraph g = r.objectGraph();
      List<String> fullNames = new ArrayList<>();
      for (ObjectGraph.Node n : g.nodes()) {
        for (ObjectGraph.Attribute a : n.attributes()) {
          assertNotNull(r.findEntry(a.checkpointKey()), a.checkpointKey());
          fullNames.add(a.fullName());
        }
      }
      assertEquals(
          List.of(
              "save_counter",
              "a",
              "b",
              "empty",
              "flags",
              "global_step",
              "grid",
              "part/emb",
              "scoped/c",
              "x.y/z..w",
              "ünï/çødé.S"),
          fullNames);
      // Slices stay slices, under keys re-encoded with the new name.
      BundleEntry emb = r.entry("vars/part.Semb" + VALUE);
      assertEquals(2, emb.slices().size());
      assertNotNull(r.findEntry(SliceKeys.encode("vars/part.Semb" + VALUE, slice(0, 2, 0, 3))));
      assertEquals(r.entry("vars/part.Semb" + VALUE).shape(), TensorShape.of(4, 3));
    }
  }

  @Test
  void mergesSlicesIntoPlainTensors() {
    String source = path("tf1/model.ckpt-7");
    Tensor emb = writeRichTf1(source);
    LocalMigration.run(
        io,
        source,
        path("tf2/ckpt-1"),
        new MigrationSpec(CheckpointFormat.TF2, "vars", false, true),
        2,
        false);
    try (CheckpointReader src = CheckpointReader.open(io, source);
        CheckpointReader out = CheckpointReader.open(io, path("tf2/ckpt-1"))) {
      BundleEntry merged = out.entry("vars/part.Semb" + VALUE);
      assertFalse(merged.isSliced());
      assertArrayEquals(emb.data(), out.read("vars/part.Semb" + VALUE).data());
      assertArrayEquals(src.read("grid").data(), out.read("vars/grid" + VALUE).data());
      for (IndexRecord r : out.records()) {
        assertFalse(r.isSliceEntry(), r.name());
      }
    }
  }

  @Test
  void reshardsTf1ToTf1AsAPlainCopy() {
    String source = path("tf1/model.ckpt-7");
    writeRichTf1(source);
    MigrationPlan plan =
        LocalMigration.run(
            io,
            source,
            path("copy/model.ckpt-7"),
            MigrationSpec.to(CheckpointFormat.TF1),
            4,
            false);
    assertEquals(List.of(), plan.renamed());
    assertEquals(List.of(), plan.dropped());
    assertSameContents(contents(source), contents(path("copy/model.ckpt-7")));
  }

  @Test
  void refusesBigEndianSources() throws IOException {
    // A checkpoint written on a big-endian host (§4.7): float32 1.0 stored as 3F 80 00 00, CRC over
    // the stored bytes, header endianness BIG. Copied as is under a little-endian header it would
    // read as 4.6e-41.
    String source = path("be/ckpt");
    byte[] stored = {0x3F, (byte) 0x80, 0, 0};
    Files.createDirectories(dir.resolve("be"));
    Files.write(Path.of(Naming.dataFile(source, 0, 1)), stored);
    IndexWriter.write(
        io.newOutputFile(Naming.indexFile(source)),
        new BundleHeader(1, true, 1, 0, List.of()),
        List.of(
            new IndexRecord(
                Bytes.utf8("x"),
                BundleEntry.of(
                    DType.FLOAT, TensorShape.SCALAR, 0, 0, 4, Crc32c.mask(Crc32c.of(stored))))));
    try (CheckpointReader r = CheckpointReader.open(io, source)) {
      assertArrayEquals(float32(1), r.read("x").data());
    }
    Files.createDirectories(dir.resolve("out"));
    UnsupportedCheckpointException e =
        assertThrows(
            UnsupportedCheckpointException.class,
            () ->
                LocalMigration.run(
                    io,
                    source,
                    path("out/ckpt"),
                    MigrationSpec.to(CheckpointFormat.TF1),
                    1,
                    false));
    assertEquals(
        "Cannot migrate checkpoint "
            + source
            + ": its tensor data is big-endian, and migrations write "
            + "little-endian checkpoints without byte-swapping",
        e.getMessage());
    assertEquals(List.of(), list(dir.resolve("out")));
  }

  @Test
  void leavesNothingBehindWhenASourceTensorIsCorrupt() throws IOException {
    String source = path("tf1/ckpt");
    PlanFixtures.writeGuideTf1(io, source);
    Path data = dir.resolve("tf1/ckpt.data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    bytes[5] ^= 0x01;
    Files.write(data, bytes);
    Files.createDirectories(dir.resolve("out"));
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () ->
                LocalMigration.run(
                    io,
                    source,
                    path("out/ckpt"),
                    MigrationSpec.to(CheckpointFormat.TF2),
                    2,
                    false));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Checksum mismatch for tensor b in " + data + " (shard 0, offset 4, 4 bytes)"),
        e.getMessage());
    assertEquals(List.of(), list(dir.resolve("out")));
  }

  @Test
  void refusesAnExistingDestinationUnlessOverwrite() throws IOException {
    String source = path("tf1/ckpt");
    PlanFixtures.writeGuideTf1(io, source);
    LocalMigration.run(
        io, source, path("out/ckpt"), MigrationSpec.to(CheckpointFormat.TF2), 1, false);
    byte[] index = Files.readAllBytes(dir.resolve("out/ckpt.index"));
    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class,
            () ->
                LocalMigration.run(
                    io,
                    source,
                    path("out/ckpt"),
                    MigrationSpec.to(CheckpointFormat.TF1),
                    1,
                    false));
    assertEquals(
        "Cannot write checkpoint "
            + path("out/ckpt")
            + ": it already exists (use --overwrite to replace it once the new one is complete)",
        e.getMessage());
    assertEquals(
        List.of("checkpoint", "ckpt.data-00000-of-00001", "ckpt.index"), list(dir.resolve("out")));
    assertArrayEquals(index, Files.readAllBytes(dir.resolve("out/ckpt.index")));

    LocalMigration.run(
        io, source, path("out/ckpt"), MigrationSpec.to(CheckpointFormat.TF1), 2, true);
    assertEquals(
        List.of("checkpoint", "ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index"),
        list(dir.resolve("out")));
    try (CheckpointReader r = CheckpointReader.open(io, path("out/ckpt"))) {
      assertFalse(r.isObjectBased());
      assertArrayEquals(float32(3), r.read("scoped/c").data());
    }
  }
}
