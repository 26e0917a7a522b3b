package io.rebundle.codec.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.DestinationExistsException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.MigrationSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one orchestrator: prepare, tasks anywhere, commit or abort; the defaults that guard data. */
class PreparedMigrationTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String source;
  private byte[] w;

  @BeforeEach
  void write() {
    source = dir.resolve("src/ckpt").toString();
    w = new byte[4 * 1000];
    new Random(3).nextBytes(w);
    try (CheckpointWriter cw = CheckpointWriter.create(io, source, 2, false)) {
      cw.add(0, "w", Tensor.of(DType.FLOAT, TensorShape.of(1000), w));
      cw.add(1, "b", Tensor.of(DType.INT64, TensorShape.of(3), new byte[24]));
      cw.add(1, "global_step", Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]));
      cw.finish();
    }
  }

  private String out() {
    return dir.resolve("out/ckpt").toString();
  }

  private MigrationRequest request(int shards) {
    return new MigrationRequest(
        source,
        out(),
        MigrationSpec.to(CheckpointFormat.TF1),
        MappingRules.none(),
        shards,
        Scheduler.DEFAULT_SHARD_SIZE,
        false,
        true,
        null,
        null,
        null,
        null);
  }

  private List<String> outDir() throws Exception {
    if (!Files.isDirectory(dir.resolve("out"))) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir.resolve("out"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
      o.writeObject(value);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }

  @Test
  void theDefaultReusePolicyNeverSkipsACrcCheck() {
    assertEquals(new FileReuse.Policy(FileReuse.Mode.AUTO, true), request(0).effectiveReuse());
    MigrationRequest copy =
        new MigrationRequest(
            source,
            out(),
            MigrationSpec.to(CheckpointFormat.TF1),
            null,
            0,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            true,
            null,
            null,
            FileReuse.Policy.of(FileReuse.Mode.COPY),
            null);
    assertEquals(
        new FileReuse.Policy(FileReuse.Mode.COPY, false),
        copy.effectiveReuse(),
        "copy asked: as asked");
    PreparedMigration m = PreparedMigration.preview(io, request(0), x -> {});
    assertTrue(m.reuse().verifyCopies());
    assertTrue(m.verified());
  }

  @Test
  void runTasksTellsOfEachFinishedTaskOnceAndKeepsTaskOrder() throws Exception {
    PreparedMigration m = PreparedMigration.prepare(io, request(3));
    java.util.Map<Integer, Integer> finished = new java.util.concurrent.ConcurrentHashMap<>();
    List<TaskOutcome> outcomes =
        LocalMigration.runTasks(
            io, m.tasks(), ProgressSink.NONE, 2, t -> finished.merge(t.shard(), 1, Integer::sum));
    assertEquals(java.util.Map.of(0, 1, 1, 1, 2, 1), finished);
    assertEquals(3, outcomes.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, outcomes.get(i).shard(), "outcome " + i);
    }
    m.commit(outcomes);
    assertTrue(outDir().contains("ckpt.index"), outDir().toString());
  }

  @Test
  void serializedTasksEachWriteOneFileAndTheCommitPublishesThem() throws Exception {
    PreparedMigration m = PreparedMigration.prepare(io, request(2));
    assertEquals(2, m.tasks().size());
    assertEquals(List.of(0, 1), m.tasks().stream().map(MigrationTask::shard).toList());
    List<MigrationTask> shipped = new ArrayList<>();
    for (MigrationTask t : m.tasks()) {
      shipped.add(roundTrip(t));
    }
    AtomicLong bytes = new AtomicLong();
    AtomicLong tensors = new AtomicLong();
    ProgressSink sink =
        new ProgressSink() {
          @Override
          public void bytes(long n) {
            bytes.addAndGet(n);
          }

          @Override
          public void tensors(long n) {
            tensors.addAndGet(n);
          }
        };
    List<TaskOutcome> outcomes = LocalMigration.runTasks(io, shipped, sink, 2);
    outcomes.forEach(o -> assertInstanceOf(TaskOutcome.Done.class, o));

    MigrationResult r = m.commit(outcomes);

    assertEquals(m.plan().dataBytes(), bytes.get(), "progress is byte-accurate");
    assertEquals(m.plan().dataTensors(), tensors.get());
    assertEquals(out(), r.destination());
    assertEquals(
        List.of("checkpoint", "ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index"),
        outDir());
    assertTrue(CheckpointVerifier.verify(io, out(), null).ok());
    try (CheckpointReader reader = CheckpointReader.open(io, out())) {
      assertEquals(Tensor.of(DType.FLOAT, TensorShape.of(1000), w), reader.read("w"));
    }
  }

  @Test
  void aTaskReturnsCorruptInputAndTheCommitAbortsAndThrowsIt() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(Naming.dataFile(source, 0, 2), "rw")) {
      f.seek(100);
      int b = f.read();
      f.seek(100);
      f.write(b ^ 1);
    }
    PreparedMigration m = PreparedMigration.prepare(io, request(1));
    List<TaskOutcome> outcomes = LocalMigration.runTasks(io, m.tasks(), ProgressSink.NONE, 1);
    TaskOutcome.InputProblem problem =
        assertInstanceOf(TaskOutcome.InputProblem.class, outcomes.get(0));
    assertFalse(problem.unsupported());
    assertTrue(
        problem
            .message()
            .startsWith("Checksum mismatch for tensor w in " + Naming.dataFile(source, 0, 2)),
        problem.message());

    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> m.commit(outcomes));

    assertEquals(problem.message(), e.getMessage());
    assertEquals(List.of(), outDir(), "the staging area is gone and nothing was published");
  }

  @Test
  void abortRemovesTheStagingArea() throws Exception {
    PreparedMigration m = PreparedMigration.prepare(io, request(1));
    assertTrue(Files.isDirectory(Path.of(m.staging().directory())));
    LocalMigration.runTasks(io, m.tasks(), ProgressSink.NONE, 1);

    m.abort();

    assertEquals(List.of(), outDir());
    assertThrows(IllegalStateException.class, () -> m.commit(List.of()));
  }

  @Test
  void anExistingDestinationIsRefusedBeforeAnythingIsStaged() throws Exception {
    LocalMigration.run(io, request(1), ProgressSink.NONE, 1);
    List<String> before = outDir();

    DestinationExistsException e =
        assertThrows(
            DestinationExistsException.class, () -> PreparedMigration.prepare(io, request(1)));

    assertEquals(
        "Cannot write checkpoint "
            + out()
            + ": it already exists (use --overwrite to replace it once the "
            + "new one is complete)",
        e.getMessage());
    assertEquals(out(), e.prefix());
    assertEquals(before, outDir());
  }

  @Test
  void warmStartWithoutATemplateKeepsMatchingVariablesAndDropsTheGlobalStep() {
    MigrationRequest warm =
        new MigrationRequest(
            source,
            out(),
            MigrationSpec.to(CheckpointFormat.TF1),
            null,
            1,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            true,
            null,
            null,
            null,
            new WarmStart(Pattern.compile("w|b"), Map.of("bias", "b")));
    PreparedMigration m = PreparedMigration.preview(io, warm, x -> {});
    assertEquals(
        List.of("bias", "w"),
        m.plan().tensors().stream().map(t -> t.targetName()).sorted().toList());
  }
}
