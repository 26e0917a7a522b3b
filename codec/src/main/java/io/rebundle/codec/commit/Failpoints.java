package io.rebundle.codec.commit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Named points in the commit protocol where a test can stop the process (docs/commit-protocol.md,
 * "Kill tests"). Off unless the system property {@code rebundle.failpoint} names a point; then, on
 * reaching it, the process creates the file named by {@code rebundle.failpoint.file} (so a harness
 * knows it is there) and waits to be killed. Costs one property lookup per point otherwise.
 */
public final class Failpoints {
  private Failpoints() {}

  /** The points, in the order a commit reaches them. */
  public static final java.util.List<String> POINTS =
      java.util.List.of(
          "staged",
          "writing-shard",
          "index-staged",
          "journal-written",
          "old-index-moved",
          "old-moved",
          "first-data-renamed",
          "data-renamed",
          "index-renamed",
          "state-file-written");

  /** Stops here if a test asked for {@code point} (see the class comment). */
  public static void reached(String point) {
    String wanted = System.getProperty("rebundle.failpoint");
    if (wanted == null || !wanted.equals(point)) {
      return;
    }
    String file = System.getProperty("rebundle.failpoint.file");
    try {
      if (file != null) {
        Files.writeString(Path.of(file), point);
      }
      Thread.sleep(Long.MAX_VALUE);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
