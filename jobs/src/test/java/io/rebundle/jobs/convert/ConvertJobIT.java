package io.rebundle.jobs.convert;

import static io.rebundle.jobs.TestCheckpoints.int64Scalar;
import static io.rebundle.jobs.TestCheckpoints.list;
import static io.rebundle.jobs.TestCheckpoints.readAll;
import static io.rebundle.jobs.TestCheckpoints.scalar;
import static io.rebundle.jobs.TestCheckpoints.snapshot;
import static io.rebundle.jobs.TestCheckpoints.storedEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.synth.SyntheticCheckpoint;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark convert job end to end on local storage, through {@link ConvertJob#run}. */
class ConvertJobIT {
  private static final FileIO IO = new LocalFileIO();
  private static final String VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

  @TempDir Path dir;
  private final StringWriter err = new StringWriter();

  private ConvertJob.Result convert(
      String source, String destination, MigrationSpec spec, int shards, boolean overwrite) {
    ConvertJob.Options o =
        new ConvertJob.Options(
            source,
            destination,
            spec,
            shards,
            Scheduler.DEFAULT_SHARD_SIZE,
            overwrite,
            false,
            true);
    return ConvertJob.run(SharedSpark.context(), IO, o, new PrintWriter(err, true));
  }

  private ConvertJob.Result convert(String source, String destination, CheckpointFormat target) {
    return convert(source, destination, MigrationSpec.to(target), 0, false);
  }

  private static List<String> keys(String prefix) {
    List<String> keys = new ArrayList<>();
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, prefix)) {
      r.records().forEach(rec -> keys.add(rec.name()));
    }
    return keys;
  }

  @Test
  void convertsTf1ExampleToTf2WithObjectGraphAndStateFile() {
    String source = TestCheckpoints.example("tf1-ckpt").toString();
    Path out = dir.resolve("out");
    ConvertJob.Result r = convert(source, out.toString(), CheckpointFormat.TF2);

    assertEquals(
        List.of(
            "_CHECKPOINTABLE_OBJECT_GRAPH",
            "save_counter" + VALUE,
            "vars/a" + VALUE,
            "vars/b" + VALUE,
            "vars/scoped.Sc" + VALUE),
        keys(out.toString()));
    Map<String, Tensor> values = readAll(IO, out.toString());
    assertEquals(scalar(1), values.get("vars/a" + VALUE));
    assertEquals(scalar(2), values.get("vars/b" + VALUE));
    assertEquals(scalar(3), values.get("vars/scoped.Sc" + VALUE));
    assertEquals(int64Scalar(1), values.get("save_counter" + VALUE));

    ObjectGraph graph;
    try (CheckpointReader reader = CheckpointReader.openPrefix(IO, out.toString())) {
      graph = reader.objectGraph();
    }
    assertNotNull(graph);
    Map<String, String> fullNames = new TreeMap<>();
    for (ObjectGraph.Node n : graph.nodes()) {
      n.attributes().forEach(a -> fullNames.put(a.checkpointKey(), a.fullName()));
    }
    assertEquals(
        Map.of(
            "save_counter" + VALUE,
            "save_counter",
            "vars/a" + VALUE,
            "a",
            "vars/b" + VALUE,
            "b",
            "vars/scoped.Sc" + VALUE,
            "scoped/c"),
        fullNames);

    assertEquals(
        CheckpointState.of("out"), CheckpointState.read(IO, dir.resolve("checkpoint").toString()));
    assertEquals(List.of("checkpoint", "out.data-00000-of-00001", "out.index"), list(dir));
    assertTrue(CheckpointVerifier.verify(IO, out.toString(), null).ok());
    assertEquals(1, r.numShards());
    assertEquals(3, r.plan().renamed().size());
    assertEquals("", err.toString());
  }

  @Test
  void tf1ToTf2ToTf1ReproducesEverySourceTensorByteForByte() {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 42);
    String tf2 = dir.resolve("tf2/model").toString();
    String back = dir.resolve("back/model").toString();

    convert(source, tf2, MigrationSpec.to(CheckpointFormat.TF2), 3, false);
    ConvertJob.Result r = convert(tf2, back, MigrationSpec.to(CheckpointFormat.TF1), 2, false);

    assertEquals(storedEntries(IO, source), storedEntries(IO, back));
    assertEquals(
        List.of(
            new MigrationPlan.Dropped(
                "save_counter" + VALUE, "save_counter: TF2 bookkeeping, unknown to TF1"),
            new MigrationPlan.Dropped("_CHECKPOINTABLE_OBJECT_GRAPH", "object graph: TF2 only")),
        r.plan().dropped());
    assertEquals(List.of(), r.plan().notes());
  }

  @Test
  void convertsTf2ExampleDirectoryToTf1() {
    Path out = dir.resolve("out");
    ConvertJob.Result r =
        convert(
            TestCheckpoints.example("tf2-ckpt").toString(), out.toString(), CheckpointFormat.TF1);

    assertEquals(
        TestCheckpoints.example("tf2-ckpt").resolve("ckpt-1").toString(), r.sourcePrefix());
    assertEquals(List.of("a", "b", "c"), keys(out.toString()));
    assertEquals(
        Map.of("a", scalar(5), "b", scalar(6), "c", scalar(7)), readAll(IO, out.toString()));
    assertEquals(
        List.of("save_counter" + VALUE, "_CHECKPOINTABLE_OBJECT_GRAPH"),
        r.plan().dropped().stream().map(MigrationPlan.Dropped::key).toList());
    assertEquals(
        CheckpointState.of("out"), CheckpointState.read(IO, dir.resolve("checkpoint").toString()));
  }

  @Test
  void spreadsFortyTwoTensorsOverBalancedShards() throws Exception {
    String source = dir.resolve("src/model").toString();
    Map<String, Tensor> tensors = TestCheckpoints.generate(source, 2, 7);
    Path out = dir.resolve("dst/out");

    ConvertJob.Result r =
        convert(source, out.toString(), MigrationSpec.to(CheckpointFormat.TF1), 4, false);

    long total = tensors.values().stream().mapToLong(ConvertJobIT::size).sum();
    long largest = tensors.values().stream().mapToLong(ConvertJobIT::size).max().orElseThrow();
    assertEquals(4, r.numShards());
    assertEquals(total, r.bytes());
    assertEquals(total, Arrays.stream(r.shardBytes()).sum());
    assertEquals(42, Arrays.stream(r.shardTensors()).sum());
    long max = Arrays.stream(r.shardBytes()).max().orElseThrow();
    long min = Arrays.stream(r.shardBytes()).min().orElseThrow();
    assertTrue(
        max - min <= largest,
        "unbalanced shards " + Arrays.toString(r.shardBytes()) + ", largest tensor " + largest);
    for (int i = 0; i < 4; i++) {
      Path data = Path.of(out + String.format(".data-%05d-of-00004", i));
      assertEquals(r.shardBytes()[i], Files.size(data), data.toString());
    }
    assertEquals(
        List.of(
            "checkpoint",
            "out.data-00000-of-00004",
            "out.data-00001-of-00004",
            "out.data-00002-of-00004",
            "out.data-00003-of-00004",
            "out.index"),
        list(out.getParent()));
    assertEquals(tensors, readAll(IO, out.toString()));
    assertEquals(storedEntries(IO, source), storedEntries(IO, out.toString()));
    assertTrue(CheckpointVerifier.verify(IO, out.toString(), null).ok());
  }

  private static long size(Tensor t) {
    if (t.data() != null) {
      return t.data().length;
    }
    // vocab: three one-byte varint lengths, a 4-byte length checksum, then the string bytes.
    return t.strings().size() + 4 + t.strings().stream().mapToLong(s -> s.length).sum();
  }

  @Test
  void keepsSlicedTensorsAsSlices() {
    String source = dir.resolve("src/model").toString();
    Map<String, Tensor> full = TestCheckpoints.generateSliced(source);
    Path out = dir.resolve("out");

    convert(source, out.toString(), MigrationSpec.to(CheckpointFormat.TF1), 2, false);

    assertEquals(
        List.of(
            "dense",
            "emb",
            "emb[0,2:-]",
            "emb[2,2:-]",
            "emb[4,2:-]",
            "grid",
            "grid[0,2:0,3]",
            "grid[0,2:3,3]",
            "grid[2,2:-]"),
        keys(out.toString()).stream().sorted().toList());
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, out.toString())) {
      assertEquals(
          List.of(
              TensorSlice.parse("0,2:-"), TensorSlice.parse("2,2:-"), TensorSlice.parse("4,2:-")),
          r.entry("emb").slices());
      assertEquals(3, r.entry("grid").slices().size());
    }
    assertEquals(full, readAll(IO, out.toString()));
    assertEquals(storedEntries(IO, source), storedEntries(IO, out.toString()));
  }

  @Test
  void mergesSlicedTensorsIntoFullOnesWithMergeSlices() {
    String source = dir.resolve("src/model").toString();
    Map<String, Tensor> full = TestCheckpoints.generateSliced(source);
    Path out = dir.resolve("out");

    ConvertJob.Result r =
        convert(
            source,
            out.toString(),
            new MigrationSpec(CheckpointFormat.TF2, "vars", false, true),
            2,
            false);

    List<String> keys = keys(out.toString());
    assertEquals(
        List.of(
            "_CHECKPOINTABLE_OBJECT_GRAPH",
            "save_counter" + VALUE,
            "vars/dense" + VALUE,
            "vars/emb" + VALUE,
            "vars/grid" + VALUE),
        keys);
    try (CheckpointReader reader = CheckpointReader.openPrefix(IO, out.toString())) {
      for (String name : List.of("emb", "grid", "dense")) {
        BundleEntry e = reader.entry("vars/" + name + VALUE);
        assertFalse(e.isSliced(), name);
        assertEquals(full.get(name), reader.read("vars/" + name + VALUE, e));
      }
    }
    assertEquals(
        List.of(
            "Sliced tensor emb merged from 3 slices", "Sliced tensor grid merged from 3 slices"),
        r.plan().notes());
    assertTrue(CheckpointVerifier.verify(IO, out.toString(), null).ok());
  }

  @Test
  void dryRunPlansButWritesNothing() {
    Path out = dir.resolve("not-yet/out");
    ConvertJob.Options o =
        new ConvertJob.Options(
            TestCheckpoints.example("tf1-ckpt").toString(),
            out.toString(),
            MigrationSpec.to(CheckpointFormat.TF2),
            0,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            true,
            true);

    ConvertJob.Result r = ConvertJob.run(SharedSpark.context(), IO, o, new PrintWriter(err, true));

    assertEquals(5, r.plan().tensors().size());
    assertEquals(1, r.numShards());
    assertEquals(0, r.copySeconds());
    assertEquals(List.of(), list(dir));
  }

  @Test
  void refusesAnExistingDestinationWithoutOverwrite() {
    Path out = dir.resolve("out");
    convert(TestCheckpoints.example("tf2-ckpt").toString(), out.toString(), CheckpointFormat.TF1);
    Map<String, String> before = snapshot(dir);

    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class,
            () ->
                convert(
                    TestCheckpoints.example("tf1-ckpt").toString(),
                    out.toString(),
                    CheckpointFormat.TF1));

    assertEquals(
        "Cannot write checkpoint "
            + out
            + ": it already exists (use --overwrite to replace it once the new "
            + "one is complete)",
        e.getMessage());
    assertEquals(before, snapshot(dir));
  }

  @Test
  void replacesAnExistingDestinationWithOverwrite() {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 3);
    Path out = dir.resolve("dst/out");
    convert(source, out.toString(), MigrationSpec.to(CheckpointFormat.TF1), 3, false);
    assertEquals(5, list(out.getParent()).size());

    convert(
        TestCheckpoints.example("tf1-ckpt").toString(),
        out.toString(),
        MigrationSpec.to(CheckpointFormat.TF1),
        0,
        true);

    assertEquals(
        List.of("checkpoint", "out.data-00000-of-00001", "out.index"), list(out.getParent()));
    assertEquals(
        Map.of("a", scalar(1), "b", scalar(2), "scoped/c", scalar(3)), readAll(IO, out.toString()));
  }

  private ConvertJob.Result convert(
      String source,
      String destination,
      CheckpointFormat target,
      int shards,
      FileReuse.Policy reuse) {
    ConvertJob.Options o =
        new ConvertJob.Options(
                source,
                destination,
                MigrationSpec.to(target),
                shards,
                Scheduler.DEFAULT_SHARD_SIZE,
                false,
                false,
                true)
            .withReuse(reuse);
    return ConvertJob.run(SharedSpark.context(), IO, o, new PrintWriter(err, true));
  }

  private static Object inode(String file) {
    try {
      return Files.getAttribute(Path.of(file), "unix:ino");
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String data(String prefix, int shard, int shards) {
    return io.rebundle.codec.bundle.Naming.dataFile(prefix, shard, shards);
  }

  /** TF2 key of a TF1 name under the default root. */
  private static String tf2(String name) {
    return "vars/" + io.rebundle.codec.graph.KeyEscaping.escape(name) + VALUE;
  }

  @Test
  void linkKeepsEverySourceShardAsAHardLinkAndAddsOneShardForTheGeneratedTensors() {
    String source = dir.resolve("src/model.ckpt-9").toString();
    Map<String, Tensor> tensors = TestCheckpoints.generate(source, 3, 21);
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    Path out = dir.resolve("tf2/ckpt-1");

    ConvertJob.Result r =
        convert(
            source,
            out.toString(),
            CheckpointFormat.TF2,
            0,
            FileReuse.Policy.of(FileReuse.Mode.LINK));

    assertEquals(FileReuse.Mode.LINK, r.layout().mode());
    assertEquals(4, r.numShards());
    assertFalse(r.verified());
    assertEquals(
        List.of(
            "checkpoint",
            "ckpt-1.data-00000-of-00004",
            "ckpt-1.data-00001-of-00004",
            "ckpt-1.data-00002-of-00004",
            "ckpt-1.data-00003-of-00004",
            "ckpt-1.index"),
        list(out.getParent()));
    for (int s = 0; s < 3; s++) {
      assertEquals(inode(data(source, s, 3)), inode(data(out.toString(), s, 4)), "shard " + s);
    }
    assertTrue(CheckpointVerifier.verify(IO, out.toString(), null).ok());
    Map<String, Tensor> values = readAll(IO, out.toString());
    tensors.forEach((k, v) -> assertEquals(v, values.get(tf2(k)), k));
    assertEquals(int64Scalar(1), values.get("save_counter" + VALUE));
    // Entries of linked files keep offset, size and CRC and point at the shard that holds their
    // bytes.
    try (CheckpointReader in = CheckpointReader.openPrefix(IO, source);
        CheckpointReader o = CheckpointReader.openPrefix(IO, out.toString())) {
      in.records().forEach(rec -> assertEquals(rec.entry(), o.entry(tf2(rec.name())), rec.name()));
      assertEquals(3, o.entry("save_counter" + VALUE).shardId());
      assertEquals(3, o.entry("_CHECKPOINTABLE_OBJECT_GRAPH").shardId());
    }
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
    assertEquals("", err.toString());
  }

  @Test
  void copyReusesWholeFilesWithoutLinkingThemAndVerifyCopiesChecksThem() throws Exception {
    String source = dir.resolve("src/model").toString();
    Map<String, Tensor> tensors = TestCheckpoints.generateSliced(source);
    for (FileReuse.Policy policy :
        List.of(
            FileReuse.Policy.of(FileReuse.Mode.COPY),
            FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification())) {
      String out = dir.resolve((policy.verifyCopies() ? "checked" : "copied") + "/out").toString();

      ConvertJob.Result r = convert(source, out, CheckpointFormat.TF1, 0, policy);

      assertEquals(FileReuse.Mode.COPY, r.layout().mode());
      assertEquals(policy.verifyCopies(), r.verified());
      assertEquals(2, r.numShards());
      assertEquals(List.of(), r.layout().newShards());
      for (int s = 0; s < 2; s++) {
        assertNotEquals(inode(data(source, s, 2)), inode(data(out, s, 2)));
        assertEquals(-1, Files.mismatch(Path.of(data(source, s, 2)), Path.of(data(out, s, 2))));
      }
      assertTrue(CheckpointVerifier.verify(IO, out, null).ok());
      assertEquals(tensors, readAll(IO, out));
      assertEquals(storedEntries(IO, source), storedEntries(IO, out));
    }
  }

  @Test
  void neverWritesTodaysLayout() throws Exception {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 3, 5);
    String never = dir.resolve("never/out").toString();
    String streamed = dir.resolve("streamed/out").toString();

    ConvertJob.Result r = convert(source, never, CheckpointFormat.TF2, 0, FileReuse.Policy.never());
    convert(source, streamed, MigrationSpec.to(CheckpointFormat.TF2), 0, false);

    assertEquals(FileReuse.Mode.NEVER, r.layout().mode());
    assertEquals("file reuse is off: every tensor is streamed", r.layout().reason());
    assertTrue(r.verified());
    assertEquals(1, r.numShards());
    assertEquals(list(dir.resolve("streamed")), list(dir.resolve("never")));
    for (String name : list(dir.resolve("never"))) {
      assertEquals(
          -1,
          Files.mismatch(dir.resolve("never").resolve(name), dir.resolve("streamed").resolve(name)),
          name);
    }
  }

  @Test
  void tf2BackToTf1WithLinkStreamsOnlyNothingAndRestoresTheOriginalFiles() {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 3, 8);
    String tf2 = dir.resolve("tf2/ckpt-1").toString();
    String back = dir.resolve("back/model").toString();
    convert(source, tf2, CheckpointFormat.TF2, 0, FileReuse.Policy.of(FileReuse.Mode.LINK));

    ConvertJob.Result r =
        convert(tf2, back, CheckpointFormat.TF1, 0, FileReuse.Policy.of(FileReuse.Mode.LINK));

    // The file holding save_counter and the object graph is the one not reused; the others lead
    // back to the source.
    assertEquals(
        List.of(
            new FileReuse.Rejected(
                3,
                "it holds _CHECKPOINTABLE_OBJECT_GRAPH, which is not in the output "
                    + "(object graph: TF2 only)")),
        r.layout().rejected());
    assertEquals(3, r.numShards());
    for (int s = 0; s < 3; s++) {
      assertEquals(inode(data(source, s, 3)), inode(data(back, s, 3)), "shard " + s);
    }
    assertEquals(storedEntries(IO, source), storedEntries(IO, back));
    assertTrue(CheckpointVerifier.verify(IO, back, null).ok());
  }

  @Test
  void autoCopiesWholeFilesOfALargeRenameOnlyPlanUnlessAShardLayoutIsAsked() {
    String source = dir.resolve("src/model").toString();
    SyntheticCheckpoint.write(
        IO,
        source,
        new SyntheticCheckpoint.Options(
            CheckpointFormat.TF1,
            FileReuse.AUTO_MIN_BYTES,
            20,
            16L << 20,
            List.of(io.rebundle.codec.bundle.DType.FLOAT),
            2,
            1,
            3),
        false,
        false);

    ConvertJob.Result auto =
        convert(source, dir.resolve("auto/out").toString(), CheckpointFormat.TF2);
    ConvertJob.Result asked =
        convert(
            source,
            dir.resolve("asked/out").toString(),
            MigrationSpec.to(CheckpointFormat.TF2),
            2,
            false);

    assertEquals(FileReuse.Mode.COPY, auto.layout().mode());
    assertEquals("rename-only plan; 2 of 2 source data files copied whole", auto.layout().reason());
    assertEquals(3, auto.numShards());
    assertEquals(FileReuse.Mode.NEVER, asked.layout().mode());
    assertEquals("a shard layout was asked for (--shards/--shard-size)", asked.layout().reason());
    assertEquals(2, asked.numShards());
    assertTrue(CheckpointVerifier.verify(IO, dir.resolve("auto/out").toString(), null).ok());
    assertEquals(
        storedEntries(IO, dir.resolve("asked/out").toString()),
        storedEntries(IO, dir.resolve("auto/out").toString()));
  }

  @Test
  void aCorruptReusedFileFailsTheJobWithVerifyCopiesAndLeavesNothing() {
    String source = dir.resolve("src/model").toString();
    TestCheckpoints.generate(source, 2, 13);
    BundleEntry e;
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, source)) {
      e = r.entry("layer_03/kernel");
    }
    TestCheckpoints.flipByte(Path.of(data(source, e.shardId(), 2)), e.offset() + 3);
    Map<String, String> sourceBefore = snapshot(dir.resolve("src"));
    for (FileReuse.Mode mode : List.of(FileReuse.Mode.COPY, FileReuse.Mode.LINK)) {
      Path out = dir.resolve(mode.id() + "/out");

      io.rebundle.codec.CorruptCheckpointException ex =
          assertThrows(
              io.rebundle.codec.CorruptCheckpointException.class,
              () ->
                  convert(
                      source,
                      out.toString(),
                      CheckpointFormat.TF2,
                      0,
                      FileReuse.Policy.of(mode).withVerification()),
              mode.id());

      assertTrue(
          ex.getMessage()
              .startsWith(
                  "Checksum mismatch for tensor layer_03/kernel in "
                      + data(source, e.shardId(), 2)),
          ex.getMessage());
      assertEquals(List.of(), list(out.getParent()), mode.id());
    }
    assertEquals(sourceBefore, snapshot(dir.resolve("src")));
  }

  @Test
  void linkWithVerifyCopiesChecksTheLinkedFilesInTasks() {
    String source = dir.resolve("src/model").toString();
    Map<String, Tensor> tensors = TestCheckpoints.generate(source, 3, 14);
    String out = dir.resolve("out/model").toString();

    ConvertJob.Result r =
        convert(
            source,
            out,
            CheckpointFormat.TF1,
            0,
            FileReuse.Policy.of(FileReuse.Mode.LINK).withVerification());

    assertTrue(r.verified());
    assertEquals(3, r.numShards());
    for (int s = 0; s < 3; s++) {
      assertEquals(inode(data(source, s, 3)), inode(data(out, s, 3)));
    }
    assertEquals(tensors, readAll(IO, out));
  }
}
