package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {
  @TempDir Path dir;

  @Test
  void writesACheckpointThatVerifiesAndPrintsJson() throws Exception {
    String prefix = dir.resolve("m/ckpt-1").toString();
    CliRunner r =
        CliRunner.run(
            "synth",
            prefix,
            "--format",
            "tf2",
            "--size",
            "1m",
            "--tensors",
            "30",
            "--dtypes",
            "float32,bfloat16",
            "--shards",
            "2",
            "--sliced",
            "2",
            "--seed",
            "3",
            "--json");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .startsWith(
                "{\"prefix\":\""
                    + prefix
                    + "\",\"format\":\"tf2\",\"num_shards\":2,\"tensors\":30,"
                    + "\"sliced_tensors\":2,"),
        r.out());
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"data_bytes\":(\\d+),").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Math.abs(Long.parseLong(m.group(1)) - 1048576) < 10486, r.out());
    assertTrue(Files.exists(dir.resolve("m/checkpoint")));
    CliRunner v = CliRunner.run("verify", dir.resolve("m").toString());
    assertEquals(0, v.exitCode(), v.out() + v.err());
    assertTrue(v.out().contains("OK — 32 tensors"), v.out());
  }

  @Test
  void printsASummary() {
    CliRunner r =
        CliRunner.run(
            "synth",
            dir.resolve("ckpt").toString(),
            "--format",
            "tf1",
            "--size",
            "100k",
            "--tensors",
            "5",
            "--no-state-file");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .startsWith(
                "wrote "
                    + dir.resolve("ckpt")
                    + " (tf1): 5 tensors (0 sliced), 5 entries, 100.0 KiB in 1 shard\n"),
        r.out());
    assertTrue(Files.notExists(dir.resolve("checkpoint")));
  }

  @Test
  void badOptionsAreUsageErrors() {
    CliRunner r =
        CliRunner.run("synth", dir.resolve("ckpt").toString(), "--dtypes", "float32,string");
    assertEquals(2, r.exitCode());
    assertEquals(
        "rebundle: Invalid dtype for synthetic tensors: string (only fixed-size types)\n", r.err());
    r = CliRunner.run("synth", dir.resolve("ckpt").toString(), "--format", "tf3");
    assertEquals(2, r.exitCode());
    assertEquals("rebundle: Invalid format: tf3 (expected tf1 or tf2)\n", r.err());
    r =
        CliRunner.run(
            "synth",
            dir.resolve("ckpt").toString(),
            "--size",
            "8g",
            "--tensors",
            "2",
            "--max-tensor",
            "1g");
    assertEquals(2, r.exitCode());
    assertTrue(
        r.err()
            .startsWith(
                "rebundle: Invalid options: 2 tensors of at most 1073741824 bytes cannot hold"),
        r.err());
  }

  @Test
  void existingCheckpointIsAUsageErrorUnlessOverwritten() {
    String prefix = dir.resolve("ckpt").toString();
    assertEquals(0, CliRunner.run("synth", prefix, "--size", "10k", "--tensors", "2").exitCode());
    CliRunner again = CliRunner.run("synth", prefix, "--size", "10k", "--tensors", "2");
    assertEquals(2, again.exitCode(), again.err());
    assertEquals(
        "rebundle: Cannot write checkpoint "
            + prefix
            + ": it already exists (use --overwrite to replace it "
            + "once the new one is complete)\n",
        again.err());
    assertEquals(
        0,
        CliRunner.run("synth", prefix, "--size", "10k", "--tensors", "2", "--overwrite")
            .exitCode());
  }
}
