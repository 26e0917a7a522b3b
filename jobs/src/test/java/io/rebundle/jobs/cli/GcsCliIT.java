package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.io.GcsServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on gs:// in-process: Hadoop's own GCS connector (hadoop-gcp) against a GCS JSON
 * API fake on loopback ({@link GcsServer}, wired in by {@code LoopbackGcsFileSystem}). The same
 * suite as {@link S3CliIT}: sources are stored and results read back through the fake's own store,
 * not through the connector; converts are compared byte for byte with the same convert on a local
 * disk; reads and requests are counted by the server.
 */
class GcsCliIT {
  private static GcsServer gcs;
  private static Path work;
  private static String localSource;
  private static Map<String, byte[]> expected;

  @TempDir static Path temp;

  @BeforeAll
  static void setUp() throws Exception {
    gcs = new GcsServer();
    work = temp;
    Path src = work.resolve("src");
    Files.createDirectories(src);
    localSource = src.resolve("ckpt").toString();
    TestCheckpoints.generate(localSource, 2, 42);
    gcs.upload(src, "src");
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            localSource,
            work.resolve("ref/ckpt").toString());
    assertEquals(0, r.exitCode(), r.err());
    expected = files(work.resolve("ref"));
  }

  @AfterAll
  static void tearDown() {
    if (gcs != null) {
      System.out.println("GCS requests of the suite by kind: " + gcs.requestsByKind());
      gcs.close();
    }
  }

  /** The connector used nothing the fake lacks: every test would otherwise pass by luck. */
  @AfterEach
  void everyRequestWasImplemented() {
    assertEquals(
        List.of(), gcs.unsupported(), "requests the loopback GCS server does not implement");
  }

  private static Map<String, byte[]> files(Path dir) throws Exception {
    Map<String, byte[]> m = new TreeMap<>();
    for (String name : TestCheckpoints.list(dir)) {
      m.put(name, Files.readAllBytes(dir.resolve(name)));
    }
    return m;
  }

  /** The objects under {@code prefix/} as the server stores them, directory markers left out. */
  private static Map<String, byte[]> objects(String prefix) {
    Map<String, byte[]> m = new TreeMap<>();
    for (String key : gcs.keys(prefix + "/")) {
      if (!key.endsWith("/")) {
        m.put(key.substring(prefix.length() + 1), gcs.download(key));
      }
    }
    return m;
  }

  private static void assertSameFiles(Map<String, byte[]> want, Map<String, byte[]> got) {
    assertEquals(want.keySet(), got.keySet());
    want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
  }

  private static CliRunner cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(gcs.confArgs());
    return CliRunner.runWithSharedSpark(all.toArray(new String[0]));
  }

  @Test
  void inspectsARemoteCheckpointAsJson() {
    CliRunner r = cli("inspect", "--json", gcs.url("src/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    CliRunner local = CliRunner.run("inspect", "--json", localSource);
    assertEquals(0, local.exitCode(), local.err());
    assertEquals(local.out().replace(localSource, "P"), r.out().replace(gcs.url("src/ckpt"), "P"));
    assertTrue(r.out().contains("\"tensors\""), r.out());
  }

  @Test
  void verifiesARemoteCheckpointReadingEachByteOnce() throws Exception {
    long before = gcs.mediaBytes();
    long requests = gcs.requests("media");
    CliRunner r = cli("verify", gcs.url("src/ckpt"));
    assertEquals(0, r.exitCode(), r.err() + r.out());
    assertTrue(r.out().startsWith(gcs.url("src/ckpt") + ": OK"), r.out());
    long size =
        files(Path.of(localSource).getParent()).values().stream().mapToLong(b -> b.length).sum();
    long read = gcs.mediaBytes() - before;
    System.out.printf(
        "verify on GCS: %d media requests, %d bytes read of a %d-byte checkpoint%n",
        gcs.requests("media") - requests, read, size);
    assertTrue(read >= size, read + " bytes read of " + size);
    assertTrue(read <= size * 1.05, read + " bytes read of " + size);
  }

  @Test
  void inspectRequestsDoNotGrowWithTensors() throws Exception {
    long[] requests = new long[2];
    long[] media = new long[2];
    int i = 0;
    for (int n : new int[] {10, 3000}) {
      Path dir = work.resolve("synth" + n);
      CliRunner w =
          CliRunner.run(
              "synth",
              dir.resolve("ckpt").toString(),
              "--size",
              "1m",
              "--tensors",
              String.valueOf(n),
              "--no-state-file");
      assertEquals(0, w.exitCode(), w.err());
      gcs.upload(dir, "synth" + n);
      long all = gcs.requests();
      long gets = gcs.requests("media");
      CliRunner r = cli("inspect", "--json", gcs.url("synth" + n + "/ckpt"));
      assertEquals(0, r.exitCode(), r.err());
      requests[i] = gcs.requests() - all;
      media[i] = gcs.requests("media") - gets;
      System.out.printf(
          "inspect of %d tensors on GCS: %d media GETs, %d requests in all%n",
          n, media[i], requests[i]);
      assertTrue(media[i] <= 2, media[i] + " media requests");
      i++;
    }
    assertEquals(requests[0], requests[1], "requests of inspect for 10 vs 3000 tensors");
  }

  @Test
  void convertsGcsToGcsByteExact() {
    CliRunner r =
        cli("convert", "--to", "tf2", "--no-state-file", gcs.url("src/ckpt"), gcs.url("g2g/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, objects("g2g"));
  }

  @Test
  void convertsLocalToGcsByteExact() {
    CliRunner r =
        cli("convert", "--to", "tf2", "--no-state-file", localSource, gcs.url("l2g/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, objects("l2g"));
  }

  @Test
  void convertsGcsToLocalByteExact() throws Exception {
    Path out = work.resolve("g2l");
    CliRunner r =
        cli(
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            gcs.url("src/ckpt"),
            out.resolve("ckpt").toString());
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, files(out));
  }

  @Test
  void corruptRemoteSourceExits3AndLeavesNoObjects() throws Exception {
    Path bad = work.resolve("bad");
    Files.createDirectories(bad);
    for (String name : TestCheckpoints.list(Path.of(localSource).getParent())) {
      Files.copy(Path.of(localSource).getParent().resolve(name), bad.resolve(name));
    }
    TestCheckpoints.flipByte(bad.resolve("ckpt.data-00000-of-00002"), 10);
    gcs.upload(bad, "bad");
    CliRunner r = cli("convert", "--to", "tf2", gcs.url("bad/ckpt"), gcs.url("badout/ckpt"));
    assertEquals(3, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("rebundle: Checksum mismatch"), r.err());
    // The connector keeps the marker of the directory the job created ("badout/", the
    // destination's parent), an empty object, as a local convert leaves an empty directory.
    assertEquals(
        List.of(),
        gcs.keys("badout/").stream().filter(k -> !k.equals("badout/")).toList(),
        "objects left under the destination");
    assertTrue(gcs.keys("badout/").stream().allMatch(k -> gcs.download(k).length == 0));
  }

  @Test
  void serviceStoppingMidJobIsOneLineExit4AndTheNextRunCleansUp() throws Exception {
    gcs.stopAfterStoring(S3OutageIT.dataFile("down"));
    List<String> args =
        new ArrayList<>(
            List.of(
                "convert",
                "--to",
                "tf2",
                "--no-state-file",
                gcs.url("src/ckpt"),
                gcs.url("down/ckpt"),
                "--conf",
                "spark.hadoop."
                    + io.rebundle.jobs.io.LoopbackGcsFileSystem.RETRIES_KEY
                    + "=false"));
    args.addAll(gcs.confArgs());
    CliRunner.Child r = CliRunner.runInChild(temp, args);
    assertTrue(gcs.awaitStopped(30), "the job's writes did not trip the wire: " + r);
    gcs.restart();
    List<String> left = gcs.keys("down/");
    System.out.println("GCS after the outage: " + r + "; left: " + left);
    String all = String.join("\n", r.stderr());
    assertEquals(4, r.exitCode(), all);
    List<String> errors = r.stderr().stream().filter(l -> l.startsWith("rebundle: ")).toList();
    assertEquals(1, errors.size(), all);
    assertTrue(errors.get(0).startsWith("rebundle: Cannot "), all);
    assertTrue(errors.get(0).contains(": the storage service cannot be reached ("), all);
    assertTrue(!all.contains("\tat "), all);
    assertTrue(!left.contains("down/ckpt.index"), "an index was published: " + left);
    assertTrue(!left.isEmpty(), "the trip wire fires only after the job stored an object");
    // The next run recovers the dead run's debris, then converts byte for byte.
    CliRunner again =
        cli("convert", "--to", "tf2", "--no-state-file", gcs.url("src/ckpt"), gcs.url("down/ckpt"));
    assertEquals(0, again.exitCode(), again.err());
    assertSameFiles(expected, objects("down"));
    assertEquals(
        List.of(),
        gcs.keys("down/").stream().filter(k -> k.contains(".rebundle-staging-")).toList(),
        "staging of the failed run left behind");
  }
}
