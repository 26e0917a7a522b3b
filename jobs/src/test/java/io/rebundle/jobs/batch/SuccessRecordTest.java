package io.rebundle.jobs.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SuccessRecordTest {
  @TempDir Path dir;
  private final LocalFileIO io = new LocalFileIO();

  @Test
  void fingerprintCoversIndexBytesAndDataFileLengthsButNotDataBytes() throws IOException {
    String prefix = dir.resolve("ckpt").toString();
    TestCheckpoints.generate(prefix, 2, 7);
    String first = Fingerprints.checkpoint(io, prefix);
    assertTrue(first.matches("sha256:[0-9a-f]{64}"), first);
    assertEquals(first, Fingerprints.checkpoint(io, prefix));

    // Flipping a data byte keeps names and lengths: by design it is not looked at (reads no data).
    Path data = Path.of(prefix + ".data-00001-of-00002");
    TestCheckpoints.flipByte(data, 10);
    assertEquals(first, Fingerprints.checkpoint(io, prefix));

    // A data file of another length changes it.
    Files.write(data, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
    String longer = Fingerprints.checkpoint(io, prefix);
    assertNotEquals(first, longer);

    // A missing data file changes it too.
    Files.delete(data);
    assertNotEquals(longer, Fingerprints.checkpoint(io, prefix));

    // So does a change of the index bytes: another checkpoint with the same name and shards.
    String other = dir.resolve("b/ckpt").toString();
    TestCheckpoints.generate(other, 2, 8);
    String same = dir.resolve("c/ckpt").toString();
    TestCheckpoints.generate(same, 2, 7);
    assertNotEquals(Fingerprints.checkpoint(io, other), Fingerprints.checkpoint(io, same));
    assertEquals(first, Fingerprints.checkpoint(io, same));
  }

  @Test
  void specHashChangesWithArgumentsTargetMappingAndTemplate() {
    List<String> args = List.of("--to", "tf2", "--", "a", "b");
    String base = Fingerprints.spec(args, "tf2", null, null);
    assertEquals(base, Fingerprints.spec(List.copyOf(args), "tf2", null, null));
    assertNotEquals(
        base,
        Fingerprints.spec(
            List.of("--root-name", "m", "--to", "tf2", "--", "a", "b"), "tf2", null, null));
    assertNotEquals(base, Fingerprints.spec(args, "tf1", null, null));
    assertNotEquals(
        base, Fingerprints.spec(args, "tf2", "rename: {}".getBytes(StandardCharsets.UTF_8), null));
    assertNotEquals(base, Fingerprints.spec(args, "tf2", null, "sha256:00"));
    // Arguments are length-delimited: moving a character between two arguments is another spec.
    assertNotEquals(
        Fingerprints.spec(List.of("ab", "c"), "tf2", null, null),
        Fingerprints.spec(List.of("a", "bc"), "tf2", null, null));
  }

  @Test
  void recordRoundTripsAndMatchesOnlyWhenCommittedWithTheSameSourceSpecAndOutput() {
    SuccessRecord started =
        new SuccessRecord(
            SuccessRecord.STARTED,
            "rebundle 0.1.0",
            "/in/a",
            "/out/a",
            "sha256:src",
            "sha256:spec",
            null,
            "r1",
            5);
    String location = SuccessRecord.location(dir.resolve("out").toString());
    assertTrue(location.endsWith("out.rebundle-batch.json"));
    started.write(io, location);
    assertEquals(started, SuccessRecord.read(io, location).record().orElseThrow());
    assertFalse(started.matches("sha256:src", "sha256:spec", null));

    SuccessRecord done = started.committed("sha256:out", 9);
    done.write(io, location);
    SuccessRecord back = SuccessRecord.read(io, location).record().orElseThrow();
    assertEquals(done, back);
    assertTrue(back.matches("sha256:src", "sha256:spec", "sha256:out"));
    assertFalse(back.matches("sha256:other", "sha256:spec", "sha256:out"));
    assertFalse(back.matches("sha256:src", "sha256:other", "sha256:out"));
    assertFalse(back.matches("sha256:src", "sha256:spec", "sha256:damaged"));
  }

  @Test
  void aMissingRecordIsNoneAndAMalformedOneIsPresentWithItsProblem() throws IOException {
    String location = dir.resolve("x" + SuccessRecord.SUFFIX).toString();
    assertFalse(SuccessRecord.read(io, location).present());
    Files.writeString(Path.of(location), "{\"format\": 1, \"state\": \"committed\", \"src\"");
    SuccessRecord.Found found = SuccessRecord.read(io, location);
    assertTrue(found.present());
    assertTrue(found.record().isEmpty());
    assertTrue(found.problem().startsWith("Invalid success record " + location), found.problem());
    Files.writeString(Path.of(location), "{\"format\": 2}");
    assertEquals(
        "Invalid success record " + location + ": format 2 (this version reads 1)",
        SuccessRecord.read(io, location).problem());
    assertThrows(
        IllegalArgumentException.class,
        () -> new SuccessRecord("half", "t", "s", "d", "f", "h", null, "r", 0));
  }
}
