package io.rebundle.codec.layout;

import static io.rebundle.codec.plan.PlanFixtures.VALUE;
import static io.rebundle.codec.plan.PlanFixtures.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.plan.PlanFixtures;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.Planner;
import io.rebundle.codec.plan.SourceIndex;
import io.rebundle.codec.util.Bytes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which source data files a plan can reuse whole, and the layout that follows: metadata only. */
class FileReuseTest {
  private final FileIO io = new LocalFileIO();

  @TempDir Path dir;

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  private static Tensor floats(int n, float start) {
    byte[] b = new byte[n * 4];
    for (int i = 0; i < n; i++) {
      System.arraycopy(PlanFixtures.float32(start + i), 0, b, i * 4, 4);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(n), b);
  }

  /** A TF1 checkpoint of eight float32 tensors (and a scalar global_step) over three data files. */
  private String writeTf1(String name) {
    String prefix = path(name);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 3, false)) {
      for (int i = 0; i < 8; i++) {
        w.add(i % 3, "layer_" + i + "/kernel", floats(16 + i, i * 100));
      }
      w.add(2, "global_step", Tensor.of(DType.INT64, TensorShape.SCALAR, PlanFixtures.int64(7)));
      w.finish();
    }
    return prefix;
  }

  private FileReuse.Analysis analyze(MigrationPlan plan, SourceIndex source) {
    return FileReuse.analyze(plan, source, FileReuse.fileLengths(io, source));
  }

  private static List<String> names(List<? extends PlannedTensor> tensors) {
    return tensors.stream().map(PlannedTensor::targetName).toList();
  }

  private static Map<String, BundleEntry> entriesByKey(List<IndexRecord> records) {
    Map<String, BundleEntry> m = new TreeMap<>();
    records.forEach(r -> m.put(r.name(), r.entry()));
    return m;
  }

  @Test
  void tf1ToTf2ReusesEverySourceFileAndAddsOneShardForTheGeneratedTensors() {
    String src = writeTf1("tf1");
    SourceIndex source = PlanFixtures.read(io, src);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));

    FileReuse.Analysis a = analyze(plan, source);

    assertTrue(a.renameOnly());
    assertEquals(List.of(), a.rejected());
    assertEquals(
        List.of(0, 1, 2), a.reusable().stream().map(FileReuse.ReusedFile::sourceShard).toList());
    assertEquals(
        List.of(0, 1, 2), a.reusable().stream().map(FileReuse.ReusedFile::targetShard).toList());
    assertEquals(
        List.of(Naming.OBJECT_GRAPH_KEY, "save_counter" + VALUE).stream().sorted().toList(),
        names(a.rest()).stream().sorted().toList());
    long[] lengths = FileReuse.fileLengths(io, source);
    for (FileReuse.ReusedFile f : a.reusable()) {
      assertEquals(lengths[f.sourceShard()], f.bytes());
    }

    // Every output entry of a reused file keeps offset, size and CRC of its source, under the new
    // key and shard.
    Map<String, BundleEntry> sourceEntries = entriesByKey(source.records());
    for (FileReuse.ReusedFile f : a.reusable()) {
      List<IndexRecord> entries = f.entries();
      for (int i = 0; i < entries.size(); i++) {
        String tf1Name = f.tensors().get(i).sourceName();
        BundleEntry was = sourceEntries.get(tf1Name);
        assertEquals("vars/" + tf1Name.replace("/", ".S") + VALUE, entries.get(i).name());
        assertEquals(f.sourceShard(), was.shardId(), tf1Name);
        assertEquals(
            was.withLocation(f.targetShard(), was.offset()), entries.get(i).entry(), tf1Name);
      }
    }

    OutputLayout layout =
        FileReuse.layout(plan, a, FileReuse.Mode.LINK, 0, Scheduler.DEFAULT_SHARD_SIZE, false);
    assertEquals(FileReuse.Mode.LINK, layout.mode());
    assertEquals(4, layout.numShards());
    assertEquals(3, layout.firstNewShard());
    assertEquals(1, layout.newShards().size());
    assertEquals(2, layout.newShards().get(0).size());
    assertEquals(plan.dataBytes(), java.util.Arrays.stream(layout.loads()).sum());
    assertEquals(plan.dataTensors(), java.util.Arrays.stream(layout.counts()).sum());
  }

  @Test
  void tf2ToTf1ReusesEveryFileButTheOneHoldingTheObjectGraphAndSaveCounter() {
    String src = writeTf1("tf1");
    String tf2 = path("tf2/ckpt-1");
    LocalMigration.Result made =
        LocalMigration.run(
            io,
            src,
            tf2,
            MigrationSpec.to(CheckpointFormat.TF2),
            MappingRules.none(),
            0,
            false,
            FileReuse.Policy.of(FileReuse.Mode.COPY));
    assertEquals(4, made.layout().numShards());
    SourceIndex source = PlanFixtures.read(io, tf2);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1));

    FileReuse.Analysis a = analyze(plan, source);

    assertTrue(a.renameOnly());
    assertEquals(
        List.of(0, 1, 2), a.reusable().stream().map(FileReuse.ReusedFile::sourceShard).toList());
    assertEquals(1, a.rejected().size());
    FileReuse.Rejected r = a.rejected().get(0);
    assertEquals(3, r.sourceShard());
    assertTrue(
        r.reason()
                .equals(
                    "it holds "
                        + Naming.OBJECT_GRAPH_KEY
                        + ", which is not in the output (object graph: "
                        + "TF2 only)")
            || r.reason()
                .equals(
                    "it holds save_counter"
                        + VALUE
                        + ", which is not in the output "
                        + "(save_counter: TF2 bookkeeping, unknown to TF1)"),
        r.reason());
    assertEquals(List.of(), a.rest());

    OutputLayout layout =
        FileReuse.layout(plan, a, FileReuse.Mode.COPY, 0, Scheduler.DEFAULT_SHARD_SIZE, false);
    assertEquals(3, layout.numShards());
    assertEquals(List.of(), layout.newShards());
  }

  @Test
  void aCastMakesItsFileNonReusableAndTheRestStaysReusable() {
    String src = writeTf1("tf1");
    SourceIndex source = PlanFixtures.read(io, src);
    MappingRules cast =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(
                new MappingRules.Transform(
                    Pattern.compile("layer_4/kernel"), DType.BFLOAT16, null, null)),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1), cast);

    FileReuse.Analysis a = analyze(plan, source);

    assertFalse(a.renameOnly());
    // layer_4 lives in shard 4 % 3 = 1.
    assertEquals(
        List.of(
            new FileReuse.Rejected(
                1,
                "it holds layer_4/kernel, which is transformed (cast to bfloat16) "
                    + "into layer_4/kernel")),
        a.rejected());
    assertEquals(
        List.of(0, 2), a.reusable().stream().map(FileReuse.ReusedFile::sourceShard).toList());
    assertEquals(
        List.of(0, 1), a.reusable().stream().map(FileReuse.ReusedFile::targetShard).toList());
    assertEquals(
        List.of("layer_1/kernel", "layer_4/kernel", "layer_7/kernel"),
        names(a.rest()).stream().sorted().toList());

    // auto streams everything when the plan changes bytes; copy reuses what qualifies.
    OutputLayout auto =
        FileReuse.layout(plan, a, FileReuse.Mode.AUTO, 0, Scheduler.DEFAULT_SHARD_SIZE, false);
    assertEquals(FileReuse.Mode.NEVER, auto.mode());
    assertEquals("the plan transforms, merges or reads from a template", auto.reason());
    assertEquals(1, auto.numShards());
    OutputLayout copy =
        FileReuse.layout(plan, a, FileReuse.Mode.COPY, 0, Scheduler.DEFAULT_SHARD_SIZE, false);
    assertEquals(3, copy.numShards());
    assertEquals("2 of 3 source data files copied whole", copy.reason());
  }

  /** A pure TF1 index of float32 vectors at the given (offset, elements) pairs, all in shard 0. */
  private static SourceIndex index(long... offsetAndElements) {
    List<IndexRecord> records = new ArrayList<>();
    for (int i = 0; i < offsetAndElements.length; i += 2) {
      long n = offsetAndElements[i + 1];
      records.add(
          new IndexRecord(
              Bytes.utf8("t" + i / 2),
              BundleEntry.of(DType.FLOAT, TensorShape.of(n), 0, offsetAndElements[i], n * 4, 0)));
    }
    return new SourceIndex("mem", 1, records, null);
  }

  private static FileReuse.Analysis analyzeTf1(SourceIndex source, long length) {
    return FileReuse.analyze(
        Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1)), source, new long[] {length});
  }

  @Test
  void aFileWithAGapIsNotReusable() {
    assertEquals(
        List.of(new FileReuse.Rejected(0, "bytes [8, 12) belong to no entry")),
        analyzeTf1(index(0, 2, 12, 1), 16).rejected());
    assertEquals(
        List.of(new FileReuse.Rejected(0, "bytes [12, 16) belong to no entry")),
        analyzeTf1(index(0, 2, 8, 1), 16).rejected());
    assertEquals(
        List.of(new FileReuse.Rejected(0, "bytes [0, 4) belong to no entry")),
        analyzeTf1(index(4, 2, 12, 1), 16).rejected());
    assertEquals(1, analyzeTf1(index(0, 2, 8, 2), 16).reusable().size());
  }

  @Test
  void overlapsEntriesPastTheEndAndMissingFilesAreNotReusable() {
    assertEquals(
        List.of(new FileReuse.Rejected(0, "entries overlap at offset 4 (t1)")),
        analyzeTf1(index(0, 2, 4, 3), 16).rejected());
    assertEquals(
        List.of(
            new FileReuse.Rejected(
                0, "entry t1 ends at offset 20, past the end of the file (16 bytes)")),
        analyzeTf1(index(0, 2, 8, 3), 16).rejected());
    assertEquals(
        List.of(new FileReuse.Rejected(0, "the data file is missing")),
        analyzeTf1(index(0, 2, 8, 2), -1).rejected());
  }

  @Test
  void anEntryWhoseSizeDisagreesWithItsShapeIsLeftToTheStreamingPath() {
    List<IndexRecord> records =
        List.of(
            new IndexRecord(
                Bytes.utf8("bad"), BundleEntry.of(DType.FLOAT, TensorShape.of(3), 0, 0, 8, 0)));
    assertEquals(
        List.of(new FileReuse.Rejected(0, "entry bad holds 8 bytes, its dtype and shape need 12")),
        analyzeTf1(new SourceIndex("mem", 1, records, null), 8).rejected());
  }

  @Test
  void aDroppedTensorMakesItsFileNonReusable() {
    SourceIndex source = index(0, 2, 8, 2);
    MappingRules exclude =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(),
            List.of(Pattern.compile("t1")),
            List.of(),
            false,
            List.of(),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1), exclude);

    FileReuse.Analysis a = FileReuse.analyze(plan, source, new long[] {16});

    assertEquals(1, a.rejected().size());
    assertTrue(
        a.rejected().get(0).reason().startsWith("it holds t1, which is not in the output"),
        a.rejected().toString());
    assertEquals(List.of("t0"), names(a.rest()));
  }

  @Test
  void aTensorCopiedUnderTwoNamesStaysInPlaceOnceAndIsStreamedOnce() {
    SourceIndex source = index(0, 2, 8, 2);
    MappingRules twice =
        new MappingRules(
            List.of(
                new MappingRules.Assignment("t0", "a"),
                new MappingRules.Assignment("t0", "b"),
                new MappingRules.Assignment("t1", "c")),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF1), twice);

    FileReuse.Analysis a = FileReuse.analyze(plan, source, new long[] {16});

    assertEquals(List.of(), a.rejected());
    assertEquals(List.of("a", "c"), names(a.reusable().get(0).tensors()));
    assertEquals(List.of("b"), names(a.rest()));
  }

  @Test
  void slicesStayInTheirFilesUnlessMerged() {
    String prefix = path("sliced");
    Tensor emb = floats(12, 0);
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 2, false)) {
      w.addSlice(
          0,
          "emb",
          TensorShape.of(6, 2),
          TensorSlice.parse("0,3:-"),
          Tensor.of(
              DType.FLOAT, TensorShape.of(3, 2), java.util.Arrays.copyOfRange(emb.data(), 0, 24)));
      w.addSlice(
          1,
          "emb",
          TensorShape.of(6, 2),
          TensorSlice.parse("3,3:-"),
          Tensor.of(
              DType.FLOAT, TensorShape.of(3, 2), java.util.Arrays.copyOfRange(emb.data(), 24, 48)));
      w.add(1, "dense", scalar(1));
      w.finish();
    }
    SourceIndex source = PlanFixtures.read(io, prefix);

    FileReuse.Analysis kept =
        analyze(Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2)), source);
    assertEquals(2, kept.reusable().size());
    assertEquals(
        List.of(Naming.OBJECT_GRAPH_KEY, "save_counter" + VALUE, "vars/emb" + VALUE),
        names(kept.rest()).stream().sorted().toList());

    MigrationPlan merge =
        Planner.plan(source, new MigrationSpec(CheckpointFormat.TF2, "vars", false, true));
    FileReuse.Analysis merged = analyze(merge, source);
    assertEquals(List.of(), merged.reusable());
    assertEquals(
        List.of(
            new FileReuse.Rejected(0, "it holds emb[0,3:-], which is merged into vars/emb" + VALUE),
            new FileReuse.Rejected(
                1, "it holds emb[3,3:-], which is merged into vars/emb" + VALUE)),
        merged.rejected());
  }

  @Test
  void autoReusesOnlyLargeRenameOnlyPlansWithoutAnAskedLayout() {
    long big = (FileReuse.AUTO_MIN_BYTES / 4) / 2;
    SourceIndex source = index(0, big, big * 4, big);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));
    FileReuse.Analysis a = FileReuse.analyze(plan, source, new long[] {big * 8});

    OutputLayout auto =
        FileReuse.layout(plan, a, FileReuse.Mode.AUTO, 0, Scheduler.DEFAULT_SHARD_SIZE, false);
    assertEquals(FileReuse.Mode.COPY, auto.mode());
    assertEquals("rename-only plan; 1 of 1 source data files copied whole", auto.reason());
    assertEquals(2, auto.numShards());

    OutputLayout asked =
        FileReuse.layout(plan, a, FileReuse.Mode.AUTO, 4, Scheduler.DEFAULT_SHARD_SIZE, true);
    assertEquals(FileReuse.Mode.NEVER, asked.mode());
    assertEquals(4, asked.numShards());

    SourceIndex small = index(0, 2, 8, 2);
    MigrationPlan smallPlan = Planner.plan(small, MigrationSpec.to(CheckpointFormat.TF2));
    OutputLayout tiny =
        FileReuse.layout(
            smallPlan,
            FileReuse.analyze(smallPlan, small, new long[] {16}),
            FileReuse.Mode.AUTO,
            0,
            Scheduler.DEFAULT_SHARD_SIZE,
            false);
    assertEquals(FileReuse.Mode.NEVER, tiny.mode());
    assertEquals(
        "only 16 bytes could be reused, below the 64 MiB worth it: every tensor is streamed",
        tiny.reason());
    assertEquals(1, tiny.numShards());

    // With an explicit mode, --shards counts the new shards.
    OutputLayout copy =
        FileReuse.layout(
            smallPlan,
            FileReuse.analyze(smallPlan, small, new long[] {16}),
            FileReuse.Mode.COPY,
            2,
            Scheduler.DEFAULT_SHARD_SIZE,
            true);
    assertEquals(3, copy.numShards());
  }

  @Test
  void neverAndUnqualifiedPlansKeepTodaysLayout() {
    String src = writeTf1("tf1");
    SourceIndex source = PlanFixtures.read(io, src);
    MigrationPlan plan = Planner.plan(source, MigrationSpec.to(CheckpointFormat.TF2));

    OutputLayout never =
        FileReuse.layout(io, plan, source, FileReuse.Mode.NEVER, 2, Scheduler.DEFAULT_SHARD_SIZE);

    assertEquals(FileReuse.Mode.NEVER, never.mode());
    assertEquals(List.of(), never.reused());
    assertEquals(
        Scheduler.assign(plan.tensors(), 2).stream().map(FileReuseTest::names).toList(),
        never.newShards().stream().map(FileReuseTest::names).toList());
  }

  @Test
  void parsesModesAndRejectsOthers() {
    assertEquals(FileReuse.Mode.LINK, FileReuse.Mode.parse("link"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FileReuse.Mode.parse("hardlink"));
    assertEquals(
        "Invalid file reuse mode: hardlink (expected auto, copy, link or never)", e.getMessage());
  }

  @Test
  void readerSeesTheSameEntriesInAReusedOutput() {
    String src = writeTf1("tf1");
    String out = path("out/ckpt-1");
    LocalMigration.Result r =
        LocalMigration.run(
            io,
            src,
            out,
            MigrationSpec.to(CheckpointFormat.TF2),
            MappingRules.none(),
            0,
            false,
            FileReuse.Policy.of(FileReuse.Mode.COPY));
    try (CheckpointReader reader = CheckpointReader.open(io, out)) {
      assertEquals(4, reader.header().numShards());
      for (FileReuse.ReusedFile f : r.layout().reused()) {
        for (IndexRecord rec : f.entries()) {
          assertEquals(rec.entry(), reader.findEntry(rec.key()));
        }
      }
    }
  }
}
