package io.rebundle.codec.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.PositionOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilePartsTest {
  @TempDir Path dir;

  @Test
  void splitCutsNearestTheMiddleByBytes() {
    assertEquals(1, FileParts.split(new long[] {10, 10}));
    assertEquals(2, FileParts.split(new long[] {1, 1, 1, 1}));
    assertEquals(1, FileParts.split(new long[] {100, 1, 1}), "a huge head keeps the rest");
    assertEquals(2, FileParts.split(new long[] {1, 1, 100}), "a huge tail is a part alone");
    assertEquals(2, FileParts.split(new long[] {5, 5, 5, 5, 5}));
    assertEquals(1, FileParts.split(new long[] {0, 0}), "never an empty part of items");
  }

  @Test
  void twoWritersFillOneLocalFileAtTheirOffsets() throws Exception {
    Path file = dir.resolve("f");
    PositionOutputStream out = new LocalFileIO().newOutputFile(file.toString()).create();
    assertTrue(out.canOpenParts());
    out.write(new byte[] {1, 2, 3});
    try (PositionOutputStream part = out.openPart(5)) {
      assertEquals(5, part.position());
      part.write(new byte[] {7, 8});
      assertEquals(7, part.position());
    }
    out.write(new byte[] {4, 5});
    out.skipTo(7);
    out.write(9);
    assertEquals(8, out.position());
    out.close();
    assertEquals(java.util.List.of(1, 2, 3, 4, 5, 7, 8, 9), toList(Files.readAllBytes(file)));
  }

  private static java.util.List<Integer> toList(byte[] b) {
    java.util.List<Integer> l = new java.util.ArrayList<>();
    for (byte x : b) {
      l.add((int) x);
    }
    return l;
  }

  @Test
  void aStreamOfAnotherStorageHasNoParts() throws Exception {
    PositionOutputStream plain =
        new PositionOutputStream() {
          @Override
          public long position() {
            return 0;
          }

          @Override
          public void write(int b) {}
        };
    assertFalse(plain.canOpenParts());
    assertFalse(FileParts.acquireSecondWriter(plain, Long.MAX_VALUE));
    assertThrows(UnsupportedOperationException.class, () -> plain.openPart(0));
  }

  @Test
  void aFailureOfEitherPartStopsTheOtherAndIsThrownAfterBothEnded() {
    IllegalStateException boom = new IllegalStateException("second part failed");
    AtomicReference<Throwable> stop = new AtomicReference<>();
    AtomicBoolean firstSawStop = new AtomicBoolean();
    AtomicBoolean firstEnded = new AtomicBoolean();
    RuntimeException thrown =
        assertThrows(
            RuntimeException.class,
            () ->
                FileParts.run(
                    "f",
                    () -> {
                      try {
                        for (int i = 0; i < 1000; i++) {
                          FileParts.checkStop(stop);
                          Thread.sleep(5);
                        }
                        return "done";
                      } catch (FileParts.Stopped s) {
                        firstSawStop.set(true);
                        throw s;
                      } finally {
                        firstEnded.set(true);
                      }
                    },
                    () -> {
                      throw boom;
                    },
                    stop));
    assertSame(boom, thrown);
    assertTrue(firstSawStop.get(), "the first part must stop between its steps");
    assertTrue(firstEnded.get(), "run must not return before the first part ended");
  }

  @Test
  void bothResultsComeBackInOrder() {
    FileParts.Both<String, Integer> both =
        FileParts.run("f", () -> "head", () -> 42, new AtomicReference<>());
    assertEquals("head", both.first());
    assertEquals(42, both.second());
  }
}
