package io.rebundle.codec.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.exec.ProgressSink;
import io.rebundle.codec.migrate.LocalMigration;
import io.rebundle.codec.migrate.MigrationRequest;
import io.rebundle.codec.migrate.MigrationResult;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.codec.synth.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an object store is asked for when Rebundle reads a checkpoint through coalesced reads,
 * measured by {@link CountingFileIO}: every source byte once (within 5%) for verify and convert,
 * and a number of requests for inspect that does not grow with the number of tensors.
 */
class ObjectStoreReadsTest {
  private static final int WINDOW = 1 << 20;

  @TempDir Path dir;

  private String synth(String name, long bytes, int tensors, int shards) {
    String prefix = dir.resolve(name).resolve("ckpt").toString();
    SyntheticCheckpoint.Options o =
        new SyntheticCheckpoint.Options(
            CheckpointFormat.TF1,
            bytes,
            tensors,
            SyntheticCheckpoint.DEFAULT_MAX_TENSOR,
            java.util.List.of(io.rebundle.codec.bundle.DType.FLOAT),
            shards,
            0,
            7);
    SyntheticCheckpoint.write(new LocalFileIO(), prefix, o, false, false);
    return prefix;
  }

  private static long checkpointBytes(String prefix) throws Exception {
    Path parent = Path.of(prefix).getParent();
    String name = Path.of(prefix).getFileName().toString();
    try (Stream<Path> s = Files.list(parent)) {
      long total = 0;
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(name + ".")).toList()) {
        total += Files.size(p);
      }
      return total;
    }
  }

  @Test
  void verifyReadsEachByteOnceInFewRequests() throws Exception {
    String prefix = synth("v", 6 << 20, 600, 2);
    long size = checkpointBytes(prefix);
    CountingFileIO io = new CountingFileIO(new LocalFileIO(), true, WINDOW);
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertTrue(s.ok(), s.findings().toString());
    System.out.printf(
        "verify: %d requests, %d bytes read of a %d-byte checkpoint%n",
        io.requests.get(), io.bytes.get(), size);
    assertTrue(
        io.bytes.get() <= size * 1.05,
        io.bytes.get() + " bytes read of a " + size + "-byte checkpoint");
    // 600 tensors in 1 MiB windows: a few dozen requests, not one per tensor.
    assertTrue(io.requests.get() < 60, io.requests.get() + " requests");
  }

  @Test
  void convertReadsEachSourceByteOnce() throws Exception {
    String prefix = synth("c", 6 << 20, 500, 1);
    long size = checkpointBytes(prefix);
    for (int outputShards : new int[] {1, 3}) {
      CountingFileIO io = new CountingFileIO(new LocalFileIO(), true, WINDOW);
      LocalMigration.run(
          io,
          prefix,
          dir.resolve("out" + outputShards + "/ckpt").toString(),
          new MigrationSpec(CheckpointFormat.TF1, MigrationSpec.DEFAULT_ROOT, true, false),
          outputShards,
          false);
      System.out.printf(
          "convert into %d shards: %d requests, %d bytes read of a %d-byte checkpoint%n",
          outputShards, io.requests.get(), io.bytes.get(), size);
      assertTrue(
          io.bytes.get() <= size * 1.05,
          io.bytes.get() + " bytes read of a " + size + "-byte checkpoint");
      if (outputShards == 1) {
        assertTrue(io.requests.get() < 30, io.requests.get() + " requests");
      }
    }
  }

  /**
   * The default ({@code --reuse-files auto}) on remote storage, for a rename-only plan that would
   * reuse whole files on a local disk: still each source byte read once.
   */
  @Test
  void theDefaultConvertReadsEachSourceByteOnceOnRemoteStorage() throws Exception {
    String prefix = synth("d", 96 << 20, 24, 1);
    long size = checkpointBytes(prefix);
    CountingFileIO io = new CountingFileIO(new LocalFileIO(), true, WINDOW);
    MigrationResult r =
        LocalMigration.run(
            io,
            MigrationRequest.of(
                prefix,
                dir.resolve("default/ckpt").toString(),
                new MigrationSpec(CheckpointFormat.TF1, MigrationSpec.DEFAULT_ROOT, true, false)),
            ProgressSink.NONE,
            1);
    assertTrue(r.layout().reused().isEmpty(), "streamed, not reused: " + r.layout());
    assertTrue(
        io.bytes.get() <= size * 1.05,
        io.bytes.get() + " bytes read of a " + size + "-byte checkpoint");
  }

  @Test
  void inspectCostsTheSameRequestsWhateverTheTensorCount() {
    long few = inspectRequests(synth("few", 1 << 20, 20, 1));
    long many = inspectRequests(synth("many", 1 << 20, 5000, 1));
    assertEquals(few, many, "requests for 20 tensors vs 5000");
    assertTrue(few <= 2, few + " requests");
  }

  private static long inspectRequests(String prefix) {
    CountingFileIO io = new CountingFileIO(new LocalFileIO(), true, WINDOW);
    long tensors = 0;
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      for (IndexRecord rec : r.records()) {
        BundleEntry e = rec.entry();
        tensors += e.size() >= 0 ? 1 : 0;
      }
    }
    assertTrue(tensors > 0);
    assertTrue(Files.exists(Path.of(Naming.indexFile(prefix))));
    return io.requests.get();
  }
}
