package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Bytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inspect --values} reads only what it prints (issue 9): in a JVM with a 48 MiB heap, a
 * sliced tensor that claims 2 GiB but has no slice entries is refused at once (exit 3, one line
 * naming the key), while a normal 8 MiB tensor next to it is printed, elided, as before.
 */
class InspectValuesBoundIT {
  @TempDir Path dir;

  private static final long HUGE = 536_870_000L; // float32 elements: 2,147,480,000 bytes

  @Test
  void aTwoGibSlicedTensorWithNoSlicesExits3QuicklyInASmallHeap() throws Exception {
    String prefix = dir.resolve("ckpt").toString();
    ByteBuffer b = ByteBuffer.allocate(4 << 21).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 1 << 21; i++) {
      b.putFloat(i);
    }
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix)) {
      w.addEntry(
          Bytes.utf8("emb/huge"),
          BundleEntry.sliced(
              DType.FLOAT,
              TensorShape.of(HUGE),
              List.of(
                  TensorSlice.parse("0," + HUGE / 2),
                  TensorSlice.parse(HUGE / 2 + "," + HUGE / 2))));
      w.add("big", Tensor.of(DType.FLOAT, TensorShape.of(1 << 11, 1 << 10), b.array()));
      w.finish();
    }

    long start = System.nanoTime();
    Process p = cli(dir.resolve("out.txt"), dir.resolve("err.txt"), "inspect", "--values", prefix);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "inspect did not finish");
    long ms = (System.nanoTime() - start) / 1_000_000;
    String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
    List<String> err =
        Files.readAllLines(dir.resolve("err.txt"), StandardCharsets.UTF_8).stream()
            .filter(l -> !l.isBlank())
            .toList();
    assertEquals(3, p.exitValue(), out + err);
    assertEquals(1, err.size(), String.join("\n", err));
    assertEquals(
        "rebundle: Cannot read sliced tensor emb/huge: the entry for slice 0,268435000 is missing"
            + " from "
            + prefix
            + ".index",
        err.get(0));
    assertTrue(ms < 20_000, "took " + ms + " ms");
    // The normal tensor's values print as before: numpy style, elided after 10 elements.
    assertTrue(out.contains("\n    [[0. 1. 2. 3. 4. 5. 6. 7. 8. 9. ...]]\n"), out);
  }

  private static Process cli(Path stdout, Path stderr, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx48m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile())
        .start();
  }
}
