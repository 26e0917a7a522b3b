package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.io.S3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on s3a:// against a real S3 API server on loopback (s3proxy), configured only by
 * {@code --conf spark.hadoop.fs.s3a.endpoint=... --conf spark.hadoop.fs.s3a.path.style.access=true}
 * and the AWS environment variables (set by surefire). Sources are uploaded and results downloaded
 * by an independent client (the AWS SDK); converts are compared byte for byte with the same convert
 * on a local disk.
 */
class S3CliIT {
  private static S3Server s3;
  private static Path work;
  private static String localSource;
  private static Map<String, byte[]> expected;

  @TempDir static Path temp;

  @BeforeAll
  static void setUp() throws Exception {
    s3 = new S3Server();
    work = temp;
    Path src = work.resolve("src");
    Files.createDirectories(src);
    localSource = src.resolve("ckpt").toString();
    TestCheckpoints.generate(localSource, 2, 42);
    s3.upload(src, "src");
    // The reference: the same convert from and to a local disk.
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
  static void tearDown() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  private static Map<String, byte[]> files(Path dir) throws Exception {
    Map<String, byte[]> m = new TreeMap<>();
    for (String name : TestCheckpoints.list(dir)) {
      m.put(name, Files.readAllBytes(dir.resolve(name)));
    }
    return m;
  }

  private static Map<String, byte[]> objects(String prefix) {
    Map<String, byte[]> m = new TreeMap<>();
    for (String key : s3.keys(prefix + "/")) {
      m.put(key.substring(prefix.length() + 1), s3.download(key));
    }
    return m;
  }

  private static void assertSameFiles(Map<String, byte[]> want, Map<String, byte[]> got) {
    assertEquals(want.keySet(), got.keySet());
    want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
  }

  private static CliRunner cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(s3.confArgs());
    return CliRunner.runWithSharedSpark(all.toArray(new String[0]));
  }

  @Test
  void inspectsARemoteCheckpointAsJson() {
    CliRunner r = cli("inspect", "--json", s3.url("src/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    CliRunner local = CliRunner.run("inspect", "--json", localSource);
    assertEquals(0, local.exitCode(), local.err());
    assertEquals(local.out().replace(localSource, "P"), r.out().replace(s3.url("src/ckpt"), "P"));
    assertTrue(r.out().contains("\"tensors\""), r.out());
  }

  @Test
  void verifiesARemoteCheckpointReadingEachByteOnce() throws Exception {
    Map<String, Long> before = s3aCounters();
    CliRunner r = cli("verify", s3.url("src/ckpt"));
    assertEquals(0, r.exitCode(), r.err() + r.out());
    assertTrue(r.out().startsWith(s3.url("src/ckpt") + ": OK"), r.out());
    long size =
        files(Path.of(localSource).getParent()).values().stream().mapToLong(b -> b.length).sum();
    long read = delta(before, s3aCounters(), "stream_read_bytes");
    long gets = delta(before, s3aCounters(), "action_http_get_request");
    System.out.printf(
        "verify on S3: %d GET requests, %d bytes read of a %d-byte checkpoint%n", gets, read, size);
    assertTrue(read <= size * 1.05, read + " bytes read of " + size);
  }

  @Test
  void inspectRequestsDoNotGrowWithTensors() throws Exception {
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
      s3.upload(dir, "synth" + n);
    }
    long[] requests = new long[2];
    int i = 0;
    for (int n : new int[] {10, 3000}) {
      Map<String, Long> before = s3aCounters();
      CliRunner r = cli("inspect", "--json", s3.url("synth" + n + "/ckpt"));
      assertEquals(0, r.exitCode(), r.err());
      Map<String, Long> after = s3aCounters();
      long gets = delta(before, after, "action_http_get_request");
      requests[i++] =
          gets
              + delta(before, after, "action_http_head_request")
              + delta(before, after, "object_list_request");
      System.out.printf(
          "inspect of %d tensors on S3: %d GETs, %d requests in all%n", n, gets, requests[i - 1]);
      assertTrue(gets <= 2, gets + " GET requests");
    }
    assertEquals(requests[0], requests[1], "requests of inspect for 10 vs 3000 tensors");
  }

  /** S3A's own request and byte counters (IOStatistics) of the cached file system the CLI used. */
  private static Map<String, Long> s3aCounters() throws Exception {
    org.apache.hadoop.fs.FileSystem fs =
        new org.apache.hadoop.fs.Path(s3.url("")).getFileSystem(s3.hadoopConf());
    return new TreeMap<>(
        org.apache.hadoop.fs.statistics.IOStatisticsSupport.retrieveIOStatistics(fs).counters());
  }

  private static long delta(Map<String, Long> before, Map<String, Long> after, String key) {
    return after.getOrDefault(key, 0L) - before.getOrDefault(key, 0L);
  }

  @Test
  void convertsS3ToS3ByteExact() {
    CliRunner r =
        cli("convert", "--to", "tf2", "--no-state-file", s3.url("src/ckpt"), s3.url("s3s3/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, objects("s3s3"));
  }

  @Test
  void convertsLocalToS3ByteExact() {
    CliRunner r = cli("convert", "--to", "tf2", "--no-state-file", localSource, s3.url("l2s/ckpt"));
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, objects("l2s"));
  }

  @Test
  void convertsS3ToLocalByteExact() throws Exception {
    Path out = work.resolve("s2l");
    CliRunner r =
        cli(
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            s3.url("src/ckpt"),
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
    s3.upload(bad, "bad");
    CliRunner r = cli("convert", "--to", "tf2", s3.url("bad/ckpt"), s3.url("badout/ckpt"));
    assertEquals(3, r.exitCode(), r.err());
    // S3A re-creates the marker of a directory it emptied ("badout/", the destination's parent,
    // which
    // the job created): an empty directory, as a local convert leaves one. No object of the job
    // remains.
    assertEquals(
        List.of(),
        s3.keys("badout/").stream().filter(k -> !k.equals("badout/")).toList(),
        "objects left under the destination");
    assertTrue(s3.keys("badout/").stream().allMatch(k -> s3.download(k).length == 0));
  }

  @Test
  void missingCredentialsAreOneLineExit4() {
    CliRunner r =
        cli(
            "inspect",
            s3.url("src/ckpt"),
            "--conf",
            "spark.hadoop.fs.s3a.impl.disable.cache=true",
            "--conf",
            "spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "--conf",
            "spark.hadoop.fs.s3a.attempts.maximum=1",
            "--conf",
            "spark.hadoop.fs.s3a.retry.limit=1");
    assertEquals(4, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("rebundle: Cannot access " + s3.url("src/ckpt")), r.err());
    assertTrue(r.err().contains("AWS_ACCESS_KEY_ID"), r.err());
  }

  @Test
  void wrongKeysAreOneLineExit4() {
    CliRunner r =
        cli(
            "verify",
            s3.url("src/ckpt"),
            "--conf",
            "spark.hadoop.fs.s3a.impl.disable.cache=true",
            "--conf",
            "spark.hadoop.fs.s3a.access.key=wrong",
            "--conf",
            "spark.hadoop.fs.s3a.secret.key=wrong",
            "--conf",
            "spark.hadoop.fs.s3a.attempts.maximum=1",
            "--conf",
            "spark.hadoop.fs.s3a.retry.limit=1");
    assertEquals(4, r.exitCode(), r.err() + r.out());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void missingConnectorIsOneLineExit4() {
    CliRunner r = CliRunner.run("inspect", "nosuchfs://bucket/ckpt");
    assertEquals(4, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Cannot access nosuchfs://bucket/ckpt: no file system for scheme \"nosuchfs\" is on the "
            + "classpath; put the Hadoop connector for \"nosuchfs\" on the classpath, or set "
            + "--conf spark.hadoop.fs.nosuchfs.impl=CLASS",
        r.err().strip());
    CliRunner gs =
        CliRunner.run(
            "inspect",
            "gs://bucket/ckpt",
            "--conf",
            "spark.hadoop.fs.gs.impl=com.example.MissingGcsFileSystem");
    assertEquals(4, gs.exitCode(), gs.err());
    assertEquals(1, gs.err().strip().lines().count(), gs.err());
    assertTrue(
        gs.err().contains("the connector for scheme \"gs\" is not on the classpath"), gs.err());
    assertTrue(gs.err().contains("--packages org.apache.hadoop:hadoop-gcp:3.5.0"), gs.err());
  }

  @Test
  void plainHadoopKeysAreAUsageError() {
    CliRunner r = CliRunner.run("inspect", "--conf", "fs.s3a.endpoint=http://x", localSource);
    assertEquals(2, r.exitCode(), r.err());
    assertTrue(
        r.err().contains("Hadoop settings are given as spark.hadoop.fs.s3a.endpoint=VALUE"),
        r.err());
  }
}
