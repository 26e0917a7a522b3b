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

  @Test
  void serverStoppingMidJobIsOneLineExit4AndPublishesNothing() throws Exception {
    s3.stopAfterStoring(k -> k.startsWith("down/" + STAGING) && k.contains("/shard-"));
    CliRunner r =
        cli(
            FAIL_FAST,
            "convert",
            "--to",
            "tf2",
            "--no-state-file",
            s3.url("src/ckpt"),
            s3.url("down/ckpt"));
    assertTrue(s3.awaitStopped(30), "the job's writes did not trip the wire");
    s3.restart();
    System.out.println("after the outage: " + r.err().strip() + "; left: " + s3.keys("down/"));

    assertEquals(4, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("rebundle: Cannot "), r.err());
    assertTrue(r.err().contains(": the storage service cannot be reached ("), r.err());
    assertTrue(r.err().strip().endsWith("Connection refused)"), r.err());
    assertTrue(r.err().contains(s3.endpoint().substring("http://".length())), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
    // Nothing a reader could take for a checkpoint: no index, no data file under a final name. The
    // abort could not reach the server; what it could not remove is inside the run's staging
    // directory only.
    List<String> keys = s3.keys("down/");
    assertFalse(keys.isEmpty(), "the trip wire fires only after the job stored an object");
    for (String k : keys) {
      assertTrue(k.startsWith("down/" + STAGING), "outside the staging directory: " + k);
    }

    // The server is back: the same convert succeeds, byte for byte.
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
    Map<String, byte[]> published = objects("down");
    published.keySet().removeIf(k -> k.startsWith(STAGING));
    assertSameFiles(expected, published);
  }

  @Test
  void briefOutageMidJobIsRiddenOutWithNothingLeftBehind() throws Exception {
    s3.stopAfterStoring(k -> k.startsWith("blip/" + STAGING) && k.contains("/shard-"), 2000);
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
