package io.rebundle.jobs.convert;

import static io.rebundle.jobs.TestCheckpoints.readAll;
import static io.rebundle.jobs.TestCheckpoints.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.LinkNotPossibleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.layout.Scheduler;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.io.HadoopFileIO;
import io.rebundle.jobs.io.MiniHdfs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The convert job against a real HDFS: a {@link MiniDFSCluster} (one datanode) in this JVM, its
 * {@code fs.defaultFS} handed to the job through {@link HadoopFileIO}. Results are read back
 * through the same storage and checked value by value and with the verifier.
 */
class HdfsConvertIT {
  private static MiniDFSCluster cluster;
  private static HadoopFileIO io;
  private static FileSystem fs;
  private static String root;

  @TempDir Path local;
  private String base;

  @BeforeAll
  static void startCluster() throws IOException {
    cluster = MiniHdfs.start("minidfs");
    fs = cluster.getFileSystem();
    root = fs.getUri().toString();
    io = new HadoopFileIO(cluster.getConfiguration(0));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @BeforeEach
  void directoryPerTest(TestInfo test) {
    base = root + "/" + test.getTestMethod().orElseThrow().getName();
  }

  private ConvertJob.Result convert(
      String source, String destination, CheckpointFormat target, int shards) {
    ConvertJob.Options o =
        new ConvertJob.Options(
            source,
            destination,
            MigrationSpec.to(target),
            shards,
            Scheduler.DEFAULT_SHARD_SIZE,
            false,
            false,
            true);
    return ConvertJob.run(SharedSpark.context(), io, o, new PrintWriter(new StringWriter(), true));
  }

  private static List<String> names(String directory) throws IOException {
    List<String> names = new ArrayList<>();
    for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(directory))) {
      names.add(s.getPath().getName());
    }
    names.sort(null);
    return names;
  }

  private static void upload(Path from, String to) throws IOException {
    fs.copyFromLocalFile(
        false,
        false,
        new org.apache.hadoop.fs.Path(from.toUri()),
        new org.apache.hadoop.fs.Path(to));
  }

  @Test
  void convertsALocalCheckpointIntoHdfs() throws IOException {
    // The cluster's fs.defaultFS is hdfs://, so a local source is named by a file: URI.
    String source = "file:" + TestCheckpoints.example("tf1-ckpt").toAbsolutePath();
    String out = base + "/tf2/out";

    convert(source, out, CheckpointFormat.TF2, 0);

    assertEquals(
        List.of("checkpoint", "out.data-00000-of-00001", "out.index"), names(base + "/tf2"));
    Map<String, Tensor> values = readAll(io, out);
    assertEquals(scalar(1), values.get("vars/a/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(scalar(2), values.get("vars/b/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(scalar(3), values.get("vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE"));
    assertEquals(5, values.size());
    assertTrue(
        CheckpointVerifier.verify(io, out, null).ok(),
        CheckpointVerifier.verify(io, out, null).toString());
    assertEquals(CheckpointState.of("out"), CheckpointState.read(io, base + "/tf2/checkpoint"));
  }

  @Test
  void convertsAnHdfsModelDirectoryWithinHdfs() throws IOException {
    upload(TestCheckpoints.example("tf2-ckpt"), base + "/tf2-ckpt");
    String out = base + "/tf1/out";

    ConvertJob.Result r = convert(base + "/tf2-ckpt", out, CheckpointFormat.TF1, 0);

    assertEquals(base + "/tf2-ckpt/ckpt-1", r.sourcePrefix());
    assertEquals(Map.of("a", scalar(5), "b", scalar(6), "c", scalar(7)), readAll(io, out));
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
    assertEquals(
        List.of("checkpoint", "out.data-00000-of-00001", "out.index"), names(base + "/tf1"));
  }

  @Test
  void reshardsAGeneratedCheckpointWithinHdfs() throws IOException {
    Map<String, Tensor> tensors = TestCheckpoints.generate(local.resolve("model").toString(), 2, 5);
    for (String name : TestCheckpoints.list(local)) {
      upload(local.resolve(name), base + "/src/" + name);
    }
    String out = base + "/dst/out";

    ConvertJob.Result r = convert(base + "/src/model", out, CheckpointFormat.TF1, 3);

    assertEquals(
        List.of(
            "checkpoint",
            "out.data-00000-of-00003",
            "out.data-00001-of-00003",
            "out.data-00002-of-00003",
            "out.index"),
        names(base + "/dst"));
    for (int i = 0; i < 3; i++) {
      long length =
          fs.getFileStatus(
                  new org.apache.hadoop.fs.Path(out + String.format(".data-%05d-of-00003", i)))
              .getLen();
      assertEquals(r.shardBytes()[i], length);
    }
    assertEquals(tensors, readAll(io, out));
    assertEquals(
        TestCheckpoints.storedEntries(new LocalFileIO(), local.resolve("model").toString()),
        TestCheckpoints.storedEntries(io, out));
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
  }

  @Test
  void corruptHdfsSourceFailsAndLeavesNothingInHdfs() throws IOException {
    TestCheckpoints.generate(local.resolve("model").toString(), 1, 9);
    BundleEntry e;
    try (CheckpointReader r =
        CheckpointReader.openPrefix(new LocalFileIO(), local.resolve("model").toString())) {
      e = r.entry("layer_10/kernel");
    }
    TestCheckpoints.flipByte(local.resolve("model.data-00000-of-00001"), e.offset() + 7);
    for (String name : TestCheckpoints.list(local)) {
      upload(local.resolve(name), base + "/src/" + name);
    }
    fs.mkdirs(new org.apache.hadoop.fs.Path(base + "/dst"));

    CorruptCheckpointException ex =
        assertThrows(
            CorruptCheckpointException.class,
            () -> convert(base + "/src/model", base + "/dst/out", CheckpointFormat.TF2, 2));

    byte[] corrupted =
        Arrays.copyOfRange(
            Files.readAllBytes(local.resolve("model.data-00000-of-00001")),
            (int) e.offset(),
            (int) (e.offset() + e.size()));
    assertEquals(
        String.format(
            "Checksum mismatch for tensor layer_10/kernel in %s/src/model.data-00000-of-00001 "
                + "(shard 0, offset %d, %d bytes): stored %s, computed %s",
            base,
            e.offset(),
            e.size(),
            TestCheckpoints.hex(TestCheckpoints.unmask(e.crc32c())),
            TestCheckpoints.hex(
                TestCheckpoints.crcOf(e.dtype(), e.shape().numElements(), corrupted))),
        ex.getMessage());
    assertEquals(List.of(), names(base + "/dst"));
    for (String name : TestCheckpoints.list(local)) {
      assertTrue(
          Arrays.equals(Files.readAllBytes(local.resolve(name)), read(base + "/src/" + name)),
          name);
    }
  }

  private static byte[] read(String location) throws IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
    byte[] b = new byte[(int) fs.getFileStatus(p).getLen()];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, b);
    }
    return b;
  }

  @Test
  void copiesWholeDataFilesWithinHdfs() throws IOException {
    Map<String, Tensor> tensors = TestCheckpoints.generate(local.resolve("model").toString(), 3, 6);
    for (String name : TestCheckpoints.list(local)) {
      upload(local.resolve(name), base + "/src/" + name);
    }
    String out = base + "/dst/out";
    ConvertJob.Options o =
        new ConvertJob.Options(
                base + "/src/model",
                out,
                MigrationSpec.to(CheckpointFormat.TF1),
                0,
                Scheduler.DEFAULT_SHARD_SIZE,
                false,
                false,
                true)
            .withReuse(FileReuse.Policy.of(FileReuse.Mode.COPY).withVerification());

    ConvertJob.Result r =
        ConvertJob.run(SharedSpark.context(), io, o, new PrintWriter(new StringWriter(), true));

    assertEquals(FileReuse.Mode.COPY, r.layout().mode());
    assertEquals(
        List.of(
            "checkpoint",
            "out.data-00000-of-00003",
            "out.data-00001-of-00003",
            "out.data-00002-of-00003",
            "out.index"),
        names(base + "/dst"));
    for (int i = 0; i < 3; i++) {
      String suffix = String.format(".data-%05d-of-00003", i);
      assertTrue(Arrays.equals(read(base + "/src/model" + suffix), read(out + suffix)), suffix);
    }
    assertEquals(tensors, readAll(io, out));
    assertTrue(CheckpointVerifier.verify(io, out, null).ok());
  }

  @Test
  void linkOnHdfsIsRefusedBeforeAnythingIsWritten() throws IOException {
    upload(TestCheckpoints.example("tf2-ckpt"), base + "/tf2-ckpt");
    ConvertJob.Options o =
        new ConvertJob.Options(
                base + "/tf2-ckpt",
                base + "/dst/out",
                MigrationSpec.to(CheckpointFormat.TF1),
                0,
                Scheduler.DEFAULT_SHARD_SIZE,
                false,
                false,
                true)
            .withReuse(FileReuse.Policy.of(FileReuse.Mode.LINK));

    LinkNotPossibleException e =
        assertThrows(
            LinkNotPossibleException.class,
            () ->
                ConvertJob.run(
                    SharedSpark.context(), io, o, new PrintWriter(new StringWriter(), true)));

    assertEquals(
        "Cannot hard-link "
            + base
            + "/dst/out: hard links need a local disk, and this storage (HadoopFileIO) "
            + "has none; copy the files instead",
        e.getMessage());
    assertFalse(fs.exists(new org.apache.hadoop.fs.Path(base + "/dst")));
  }
}
