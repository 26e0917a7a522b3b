package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gs:// credentials that cannot work, through the real connector (hadoop-gcp, no loopback wiring):
 * each fails while the connector starts, before any request, so no test here reaches the network.
 * Each is one line, exit 4, naming the problem and the fix.
 */
class GcsCredentialsTest {
  private static CliRunner inspect(String bucket, String... conf) {
    String[] args = new String[2 + conf.length * 2];
    args[0] = "inspect";
    args[1] = "gs://" + bucket + "/ckpt";
    for (int i = 0; i < conf.length; i++) {
      args[2 + 2 * i] = "--conf";
      args[3 + 2 * i] = "spark.hadoop." + conf[i];
    }
    return CliRunner.run(args);
  }

  private static void assertOneLine(CliRunner r) {
    assertEquals(4, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(!r.err().contains("\tat "), r.err());
  }

  @Test
  void missingKeyFileIsNotAMissingCheckpoint(@TempDir Path dir) {
    Path key = dir.resolve("missing.json");
    CliRunner r =
        inspect(
            "rebundle-creds-1",
            "fs.gs.auth.type=SERVICE_ACCOUNT_JSON_KEYFILE",
            "fs.gs.auth.service.account.json.keyfile=" + key);
    assertOneLine(r);
    assertTrue(
        r.err()
            .startsWith(
                "rebundle: Cannot access gs://rebundle-creds-1/ckpt: the connector cannot read a "
                    + "file its settings name ("
                    + key),
        r.err());
    assertTrue(r.err().contains("fs.gs.auth.service.account.json.keyfile=FILE"), r.err());
  }

  @Test
  void unreadableKeyFileIsACredentialsProblem(@TempDir Path dir) throws Exception {
    Path key = Files.writeString(dir.resolve("bad.json"), "{\"hello\": 1}");
    CliRunner r =
        inspect(
            "rebundle-creds-2",
            "fs.gs.auth.type=SERVICE_ACCOUNT_JSON_KEYFILE",
            "fs.gs.auth.service.account.json.keyfile=" + key);
    assertOneLine(r);
    assertTrue(
        r.err()
            .startsWith(
                "rebundle: Cannot access gs://rebundle-creds-2/ckpt: access denied or no "
                    + "credentials (Error reading credentials from stream"),
        r.err());
    assertTrue(r.err().contains("set GOOGLE_APPLICATION_CREDENTIALS"), r.err());
  }

  @Test
  void unauthenticatedNamesTheSettingNotANullPointer() {
    CliRunner r = inspect("rebundle-creds-3", "fs.gs.auth.type=UNAUTHENTICATED");
    assertOneLine(r);
    assertTrue(
        r.err()
            .startsWith(
                "rebundle: Cannot access gs://rebundle-creds-3/ckpt: hadoop-gcp 3.5.0 fails to "
                    + "start with fs.gs.auth.type=UNAUTHENTICATED (NullPointerException); leave "
                    + "fs.gs.auth.type unset"),
        r.err());
  }
}
