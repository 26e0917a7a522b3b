package io.rebundle.codec.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.LocalFileIO;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointVerifierTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String prefix;

  @BeforeEach
  void write() {
    prefix = dir.resolve("ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, 2, false)) {
      w.add(0, "a", Tensor.of(DType.FLOAT, TensorShape.of(2), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
      w.add(1, "b", Tensor.ofStrings(TensorShape.of(2),
          List.of("xy".getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xFF})));
      w.addSlice(0, "emb", TensorShape.of(2, 2), TensorSlice.parse("0,1:-"),
          Tensor.of(DType.INT32, TensorShape.of(1, 2), new byte[8]));
      w.addSlice(1, "emb", TensorShape.of(2, 2), TensorSlice.parse("1,1:-"),
          Tensor.of(DType.INT32, TensorShape.of(1, 2), new byte[] {1, 0, 0, 0, 2, 0, 0, 0}));
      w.finish();
    }
  }

  @Test
  void passesAnIntactCheckpoint() {
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertTrue(s.ok(), s.findings().toString());
    assertEquals(2, s.numShards());
    assertEquals(3, s.tensors());
    assertEquals(5, s.entries());
  }

  /** The promise of verify: any single damaged byte, anywhere, is found. */
  @Test
  void findsEverySingleFlippedByteInEveryFile() throws IOException {
    for (String file : List.of(Naming.indexFile(prefix), Naming.dataFile(prefix, 0, 2), Naming.dataFile(prefix, 1, 2))) {
      Path p = Path.of(file);
      byte[] original = Files.readAllBytes(p);
      for (int mask : new int[] {0x01, 0x80}) {
        for (int i = 0; i < original.length; i++) {
          final int i2 = i;
          byte[] damaged = original.clone();
          damaged[i] ^= (byte) mask;
          Files.write(p, damaged);
          CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
          assertFalse(s.ok(), () -> "flip 0x" + Integer.toHexString(mask) + " at byte " + i2 + " of " + file + " (" + original.length + " bytes) went unnoticed: " + hex(damaged));
          if (false) assertFalse(s.ok(), "flip 0x" + Integer.toHexString(mask) + " at byte " + i + " of " + file + " went unnoticed");
        }
      }
      Files.write(p, original);
    }
  }

  static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }

  @Test
  void reportsAllProblemsNotJustTheFirst() throws IOException {
    Path d0 = Path.of(Naming.dataFile(prefix, 0, 2));
    byte[] b = Files.readAllBytes(d0);
    b[0] ^= 1;
    Files.write(d0, b);
    Files.delete(Path.of(Naming.dataFile(prefix, 1, 2)));
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    List<String> messages = s.findings().stream().map(CheckpointVerifier.Finding::toString).toList();
    assertTrue(messages.stream().anyMatch(m -> m.contains("[a]") && m.contains("Checksum mismatch")), messages.toString());
    assertTrue(messages.stream().anyMatch(m -> m.contains("data file (shard 1 of 2) is missing")), messages.toString());
    assertTrue(messages.stream().anyMatch(m -> m.contains("[b]")), messages.toString());
  }

  @Test
  void reportsBytesNoEntryCovers() throws IOException {
    Path d1 = Path.of(Naming.dataFile(prefix, 1, 2));
    Files.write(d1, new byte[] {9, 9, 9}, java.nio.file.StandardOpenOption.APPEND);
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, prefix, null);
    assertEquals(1, s.findings().size(), s.findings().toString());
    long len = Files.size(d1);
    assertEquals(d1 + " @" + (len - 3) + ": bytes [" + (len - 3) + ", " + len
        + ") at the end are covered by no entry", s.findings().get(0).toString());
  }
}
