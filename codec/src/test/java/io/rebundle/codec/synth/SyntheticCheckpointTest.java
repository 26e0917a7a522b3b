package io.rebundle.codec.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCheckpointTest {
  private static final long MIB = 1 << 20;
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;

  private static SyntheticCheckpoint.Options options(
      CheckpointFormat f,
      long size,
      int tensors,
      int shards,
      int sliced,
      long seed,
      DType... dtypes) {
    return new SyntheticCheckpoint.Options(
        f,
        size,
        tensors,
        SyntheticCheckpoint.DEFAULT_MAX_TENSOR,
        dtypes.length == 0 ? List.of(DType.FLOAT) : List.of(dtypes),
        shards,
        sliced,
        seed);
  }

  private String write(String name, SyntheticCheckpoint.Options o) {
    String prefix = dir.resolve(name).resolve("ckpt").toString();
    SyntheticCheckpoint.write(io, prefix, o, false, true);
    return prefix;
  }

  private static long dataFileBytes(String prefix, int shards) throws IOException {
    long total = 0;
    for (int i = 0; i < shards; i++) {
      total += Files.size(Path.of(Naming.dataFile(prefix, i, shards)));
    }
    return total;
  }

  private static List<Path> files(String prefix) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(prefix).getParent())) {
      return s.filter(p -> p.getFileName().toString().startsWith("ckpt.")).sorted().toList();
    }
  }

  @Test
  void sameSeedGivesIdenticalBytesAndAnotherSeedDoesNot() throws IOException {
    SyntheticCheckpoint.Options o =
        options(CheckpointFormat.TF2, 2 * MIB, 40, 3, 2, 11, DType.FLOAT, DType.BFLOAT16);
    List<Path> a = files(write("a", o));
    List<Path> b = files(write("b", o));
    assertEquals(4, a.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).getFileName(), b.get(i).getFileName());
      assertArrayEquals(
          Files.readAllBytes(a.get(i)), Files.readAllBytes(b.get(i)), a.get(i).toString());
    }
    List<Path> c =
        files(
            write(
                "c",
                options(CheckpointFormat.TF2, 2 * MIB, 40, 3, 2, 12, DType.FLOAT, DType.BFLOAT16)));
    assertFalse(
        java.util.Arrays.equals(Files.readAllBytes(a.get(0)), Files.readAllBytes(c.get(0))));
  }

  @Test
  void dataFilesHoldTheRequestedSize() throws IOException {
    record Case(CheckpointFormat format, long size, int tensors, int shards, int sliced) {}
    for (Case k :
        List.of(
            new Case(CheckpointFormat.TF1, 4 * MIB, 1, 1, 0),
            new Case(CheckpointFormat.TF1, 3 * MIB, 7, 2, 1),
            new Case(CheckpointFormat.TF2, 5 * MIB, 100, 4, 3),
            new Case(CheckpointFormat.TF1, MIB, 2000, 1, 0),
            new Case(CheckpointFormat.TF2, 3 * MIB + 12345, 3, 1, 3))) {
      String prefix =
          write(
              k.toString().replaceAll("\\W", "_"),
              options(
                  k.format(),
                  k.size(),
                  k.tensors(),
                  k.shards(),
                  k.sliced(),
                  5,
                  DType.FLOAT,
                  DType.HALF,
                  DType.INT8));
      long actual = dataFileBytes(prefix, k.shards());
      assertTrue(Math.abs(actual - k.size()) <= 0.02 * k.size(), k + ": " + actual + " bytes");
    }
  }

  @Test
  void writesTheRequestedTensorsAndSlicesAndVerifiesClean() {
    String prefix =
        write("t", options(CheckpointFormat.TF1, 3 * MIB, 60, 2, 4, 3, DType.FLOAT, DType.HALF));
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertTrue(s.ok(), s.findings().toString());
    assertEquals(60, s.tensors());
    assertEquals(2, s.numShards());
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      assertFalse(r.isObjectBased());
      int sliced = 0;
      for (IndexRecord rec : r.records()) {
        if (!rec.isSliceEntry() && rec.entry().isSliced()) {
          sliced++;
          // float16 cannot be partitioned: sliced variables get a sliceable type.
          assertEquals(DType.FLOAT, rec.entry().dtype());
          assertTrue(rec.entry().slices().size() >= 2 && rec.entry().slices().size() <= 8);
        }
      }
      assertEquals(4, sliced);
    }
  }

  @Test
  void readerReadsTheGeneratedValuesAndSlicesAssemble() {
    SyntheticCheckpoint.Options o =
        options(CheckpointFormat.TF1, 2 * MIB, 12, 2, 2, 8, DType.FLOAT, DType.BFLOAT16);
    String prefix = write("v", o);
    SyntheticCheckpoint.Layout layout = SyntheticCheckpoint.layout(o);
    int checkedSliced = 0;
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      for (SyntheticCheckpoint.Variable v : layout.variables()) {
        BundleEntry e = r.entry(v.name());
        assertEquals(v.shape(), e.shape());
        assertEquals(v.dtype(), e.dtype());
        assertEquals(v.partitions() > 0, e.isSliced());
        Tensor t = r.read(v.name());
        byte[] expected = new byte[(int) v.bytes()];
        SyntheticData.of(v.dtype(), v.dataSeed()).fill(0, expected, 0, expected.length);
        assertArrayEquals(expected, t.data(), v.name());
        checkedSliced += e.isSliced() ? 1 : 0;
      }
    }
    assertEquals(2, checkedSliced);
  }

  @Test
  void tf2HasAnObjectGraphWithFullNamesAndASaveCounter() {
    SyntheticCheckpoint.Options o = options(CheckpointFormat.TF2, MIB, 25, 1, 1, 4);
    String prefix = write("g", o);
    assertTrue(CheckpointVerifier.verify(io, prefix, null).ok());
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      assertTrue(r.isObjectBased());
      assertArrayEquals(
          new byte[] {1, 0, 0, 0, 0, 0, 0, 0},
          r.read("save_counter/.ATTRIBUTES/VARIABLE_VALUE").data());
      ObjectGraph g = r.objectGraph();
      assertEquals(
          List.of("model", "save_counter"),
          g.node(0).children().stream().map(ObjectGraph.Child::name).toList());
      Map<String, String> fullNames = new HashMap<>();
      for (ObjectGraph.Node n : g.nodes()) {
        for (ObjectGraph.Attribute a : n.attributes()) {
          fullNames.put(a.checkpointKey(), a.fullName());
          assertNotNull(r.findEntry(a.checkpointKey()), a.checkpointKey());
        }
      }
      assertEquals(26, fullNames.size());
      assertEquals(
          "model/embedding_0/embeddings",
          fullNames.get("model/layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"));
    }
    // The same seed gives the same values in both formats, under the TF1 name / full name.
    String tf1 = write("g1", options(CheckpointFormat.TF1, MIB, 25, 1, 1, 4));
    try (CheckpointReader a = CheckpointReader.openPrefix(io, prefix);
        CheckpointReader b = CheckpointReader.openPrefix(io, tf1)) {
      // 25 tensors: 2 embedding tables (layers 0-1), then kernel/bias pairs, so dense_3 is layer 5.
      byte[] fromTf1 = b.read("model/dense_3/kernel").data();
      byte[] fromTf2 =
          a.read("model/layer_with_weights-5/kernel/.ATTRIBUTES/VARIABLE_VALUE").data();
      int n = Math.min(fromTf1.length, fromTf2.length);
      assertTrue(n > 0);
      assertArrayEquals(java.util.Arrays.copyOf(fromTf1, n), java.util.Arrays.copyOf(fromTf2, n));
    }
    assertEquals(
        "ckpt",
        CheckpointState.read(io, dir.resolve("g").resolve("checkpoint").toString())
            .modelCheckpointPath());
  }

  private static List<Long> sizesLargestFirst(SyntheticCheckpoint.Layout l) {
    List<Long> sizes =
        new ArrayList<>(l.variables().stream().map(SyntheticCheckpoint.Variable::bytes).toList());
    sizes.sort(java.util.Comparator.reverseOrder());
    return sizes;
  }

  @Test
  void layoutHasAFewHugeTensorsAndManySmallOnes() {
    long tib = 1L << 40;
    SyntheticCheckpoint.Layout l =
        SyntheticCheckpoint.layout(
            new SyntheticCheckpoint.Options(
                CheckpointFormat.TF1, tib, 1000, tib, List.of(DType.FLOAT), 1, 0, 1));
    List<Long> sizes = sizesLargestFirst(l);
    long top4 = sizes.subList(0, 4).stream().mapToLong(Long::longValue).sum();
    assertTrue(top4 > 0.7 * tib, "the embeddings hold most bytes: " + top4);
    assertTrue(sizes.get(500) < tib / 1000 / 4, "most tensors are small: " + sizes.get(500));
    assertTrue(Math.abs(l.dataBytes() - tib) < 0.01 * tib);
  }

  @Test
  void layoutRespectsTheMaximumTensorSize() {
    long tib = 1L << 40;
    long max = 64L << 30;
    SyntheticCheckpoint.Layout l =
        SyntheticCheckpoint.layout(
            new SyntheticCheckpoint.Options(
                CheckpointFormat.TF1, tib, 1000, max, List.of(DType.FLOAT), 1, 0, 1));
    List<Long> sizes = sizesLargestFirst(l);
    assertTrue(sizes.get(0) <= max, "largest " + sizes.get(0));
    assertTrue(sizes.get(0) > max / 2, "largest " + sizes.get(0));
    assertTrue(Math.abs(l.dataBytes() - tib) < 0.01 * tib);
  }

  @Test
  void rejectsImpossibleOptions() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new SyntheticCheckpoint.Options(
                    CheckpointFormat.TF1, 10 * MIB, 2, MIB, List.of(DType.FLOAT), 1, 0, 0));
    assertEquals(
        "Invalid options: 2 tensors of at most 1048576 bytes cannot hold 10485760 bytes; raise the maximum "
            + "tensor size or the number of tensors",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> options(CheckpointFormat.TF1, MIB, 2, 1, 1, 0, DType.HALF));
    assertEquals(
        "Invalid dtypes for sliced tensors: TensorFlow cannot partition [float16]; add e.g. float32",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> options(CheckpointFormat.TF1, MIB, 2, 1, 3, 0));
    assertEquals("Invalid number of sliced tensors: 3 (0 to 2)", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> options(CheckpointFormat.TF1, MIB, 2, 1, 0, 0, DType.STRING));
    assertEquals(
        "Invalid dtype for synthetic tensors: string (only fixed-size types)", e.getMessage());
  }

  @Test
  void refusesToReplaceAnExistingCheckpointUnlessAsked() {
    SyntheticCheckpoint.Options o = options(CheckpointFormat.TF1, MIB, 3, 1, 0, 0);
    String prefix = write("x", o);
    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class,
            () -> SyntheticCheckpoint.write(io, prefix, o, false, false));
    assertEquals(
        "Cannot write checkpoint "
            + prefix
            + ": it already exists (use --overwrite to replace it once the new one is complete)",
        e.getMessage());
    SyntheticCheckpoint.write(io, prefix, o, true, false);
    assertTrue(CheckpointVerifier.verify(io, prefix, null).ok());
  }
}
