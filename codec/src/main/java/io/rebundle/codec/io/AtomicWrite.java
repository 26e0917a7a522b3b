package io.rebundle.codec.io;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes a small file so that readers see the previous version or the new one, never a part of
 * either: the one way state files, staging leases and commit journals are written.
 */
public final class AtomicWrite {
  private AtomicWrite() {}

  /**
   * Writes {@code bytes} to {@code target}. Where renames are atomic they go to {@code temp} (on
   * the same file system, and not otherwise in use) which then {@linkplain FileIO#replace replaces}
   * the target; on object stores, where one upload replaces an object whole, they go to the target
   * directly. A failure leaves the previous target as it was and no temporary file.
   */
  public static void write(FileIO io, String target, String temp, byte[] bytes) {
    boolean viaTemp = io.renameIsAtomic(target);
    String written = viaTemp ? temp : target;
    PositionOutputStream out =
        viaTemp
            ? io.newOutputFile(temp).createOrOverwrite()
            : io.newOutputFile(target).createOrOverwrite();
    boolean done = false;
    try {
      out.write(bytes);
      out.close();
      if (viaTemp) {
        io.replace(temp, target);
      }
      done = true;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + written + ": " + e.getMessage(), e);
    } finally {
      if (!done && viaTemp) {
        io.discard(out, temp);
      } else if (!done) {
        // Never delete the target here: it may still be the previous, intact version.
        try {
          out.abort();
        } catch (RuntimeException ignored) {
          // The failure being propagated matters more.
        }
      }
    }
  }
}
