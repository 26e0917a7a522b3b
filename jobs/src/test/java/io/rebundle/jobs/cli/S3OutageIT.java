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
 * The S3 API server stopping in the middle of an s3a→s3a convert: a trip wire in the server stops
 * it as soon as the job has stored its first staged data file, so the outage always falls inside
 * the job, after some of its objects exist. Results are read back with the independent S3 client
 * after the server is started again over the same objects.
 */
class S3OutageIT {
  private static final String STAGING = ".rebundle-staging-ckpt-";

  private static S3Server s3;
  private static Map<String, byte[]> expected;

  @TempDir static Path temp;

  @BeforeAll
  static void setUp() throws Exception {
    s3 = new S3Server();
    Path src = temp.resolve("src");
    Files.createDirectories(src);
    String localSource = src.resolve("ckpt").toString();
    TestCheckpoints.generate(localSource, 2, 42);
    s3.upload(src, "src");
    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            localSource,
            temp.resolve("ref/ckpt").toString());
    assertEquals(0, r.exitCode(), r.err());
    expected = new TreeMap<>();
    for (String name : TestCheckpoints.list(temp.resolve("ref"))) {
      expected.put(name, Files.readAllBytes(temp.resolve("ref").resolve(name)));
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  private static CliRunner cli(List<String> extra, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(s3.confArgs());
    all.addAll(extra);
    return CliRunner.runWithSharedSpark(all.toArray(new String[0]));
  }

  /**
   * One attempt and no S3A retries (S3A's defaults retry a refused connection for minutes), on a
   * file system of its own (Hadoop caches file systems by bucket, not by settings).
   */
  private static final List<String> FAIL_FAST =
      List.of(
          "--conf",
          "spark.hadoop.fs.s3a.impl.disable.cache=true",
          "--conf",
          "spark.hadoop.fs.s3a.attempts.maximum=1",
          "--conf",
          "spark.hadoop.fs.s3a.retry.limit=1",
          "--conf",
          "spark.hadoop.fs.s3a.retry.interval=10ms");

  /**
   * A data file the convert to {@code dir/ckpt} stores: under its final name (the object-store
   * commit) or as a staged shard.
   */
  static java.util.function.Predicate<String> dataFile(String dir) {
    return k ->
        k.startsWith(dir + "/") && (k.contains("/shard-") || k.startsWith(dir + "/ckpt.data-"));
  }

  /** The objects under {@code dir/} that are not directory markers, by name relative to it. */
  private static Map<String, byte[]> objects(String dir) {
    Map<String, byte[]> m = new TreeMap<>();
    for (String key : s3.keys(dir + "/")) {
      if (!key.endsWith("/")) {
        m.put(key.substring(dir.length() + 1), s3.download(key));
      }
    }
    return m;
  }

  private static void assertSameFiles(Map<String, byte[]> want, Map<String, byte[]> got) {
    assertEquals(want.keySet(), got.keySet());
    want.forEach((k, v) -> assertArrayEquals(v, got.get(k), k));
  }

  private static CliRunner.Child convertInChild(String src, String dst) throws Exception {
    List<String> args =
        new ArrayList<>(List.of("convert", "--to", "tf2", "--no-state-file", src, dst));
    args.addAll(s3.confArgs());
    args.addAll(FAIL_FAST);
    return CliRunner.runInChild(temp, args);
  }

  @Test
  void serverStoppingMidJobIsOneLineExit4AndTheNextRunCleansUp() throws Exception {
    s3.stopAfterStoring(dataFile("down"));
    CliRunner.Child r = convertInChild(s3.url("src/ckpt"), s3.url("down/ckpt"));
    assertTrue(s3.awaitStopped(30), "the job's writes did not trip the wire: " + r);
    s3.restart();
    List<String> left = s3.keys("down/");
    System.out.println("after the outage: " + r + "; left: " + left);

    String all = String.join("\n", r.stderr());
    assertEquals(4, r.exitCode(), all);
    List<String> errors = r.stderr().stream().filter(l -> l.startsWith("rebundle: ")).toList();
    assertEquals(1, errors.size(), all);
    String line = errors.get(0);
    assertTrue(line.startsWith("rebundle: Cannot "), line);
    assertTrue(line.contains(": the storage service cannot be reached ("), line);
    assertTrue(line.endsWith("Connection refused)"), line);
    assertTrue(line.contains(s3.endpoint().substring("http://".length())), line);
    assertFalse(all.contains("\tat "), all);
    // Nothing a reader could take for a checkpoint: the index is the commit point and never came.
    // The abort could not reach the server, so objects of the failed run are left.
    assertFalse(left.contains("down/ckpt.index"), "an index was published: " + left);
    assertFalse(left.isEmpty(), "the trip wire fires only after the job stored an object");

    // The server is back: the next run recovers the dead run's debris, then converts byte for
    // byte, and nothing else is left under the destination.
    CliRunner again =
        cli(
            List.of(),
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            s3.url("src/ckpt"),
            s3.url("down/ckpt"));
    assertEquals(0, again.exitCode(), again.err());
    assertSameFiles(expected, objects("down"));
    assertEquals(
        List.of(),
        s3.keys("down/").stream().filter(k -> k.contains(STAGING)).toList(),
        "staging of the failed run left behind");
  }

  @Test
  void briefOutageMidJobIsRiddenOutWithNothingLeftBehind() throws Exception {
    s3.stopAfterStoring(dataFile("blip"), 2000);
    long t0 = System.nanoTime();
    CliRunner r =
        cli(
            List.of(),
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            s3.url("src/ckpt"),
            s3.url("blip/ckpt"));
    System.out.printf("convert across a 2 s outage: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    assertTrue(s3.awaitStopped(30), "the job's writes did not trip the wire");
    assertEquals(0, r.exitCode(), r.err());
    assertSameFiles(expected, objects("blip"));
    assertEquals(
        List.of(),
        s3.keys("blip/").stream().filter(k -> k.contains(STAGING)).toList(),
        "staging left behind");
  }
}
