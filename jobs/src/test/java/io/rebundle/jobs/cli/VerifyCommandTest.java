package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {
  @TempDir Path dir;

  private Path copyExample() throws Exception {
    Path target = dir.resolve("tf1-ckpt");
    for (String suffix : new String[] {".index", ".data-00000-of-00001"}) {
      Files.copy(Path.of(CliRunner.example("tf1-ckpt") + suffix), Path.of(target + suffix));
    }
    return target;
  }

  @Test
  void cleanCheckpointExitsZero() throws Exception {
    Path prefix = copyExample();
    CliRunner r = CliRunner.run("verify", prefix.toString());
    assertEquals(0, r.exitCode(), r.out() + r.err());
    assertEquals(
        prefix + ": OK — 3 tensors (3 entries), 12 data bytes in 1 shard checked\n", r.out());
  }

  @Test
  void reportsEveryProblemAndExitsOne() throws Exception {
    Path prefix = copyExample();
    Path data = Path.of(prefix + ".data-00000-of-00001");
    byte[] b = Files.readAllBytes(data);
    b[1] ^= 1;
    b[9] ^= 1;
    Files.write(data, b);
    CliRunner r = CliRunner.run("verify", "--json", prefix.toString());
    assertEquals(1, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .startsWith(
                "{\"prefix\":\"" + prefix + "\",\"ok\":false,\"num_shards\":1,\"tensors\":3,"),
        r.out());
    assertTrue(
        r.out().contains("\"key\":\"a\",\"message\":\"Checksum mismatch for tensor a"), r.out());
    assertTrue(
        r.out()
            .contains("\"key\":\"scoped/c\",\"message\":\"Checksum mismatch for tensor scoped/c"),
        r.out());
    assertTrue(!r.out().contains("\"key\":\"b\""), r.out());
  }

  @Test
  void missingIndexIsAFinding() {
    CliRunner r = CliRunner.run("verify", dir.resolve("nothing").toString());
    assertEquals(4, r.exitCode());
    assertTrue(r.err().contains("Cannot find checkpoint"), r.err());
  }
}
