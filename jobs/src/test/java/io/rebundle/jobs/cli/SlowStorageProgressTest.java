package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.ForwardingFileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.RangeReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify through a slow storage decorator with stderr not a terminal (as under Airflow): periodic
 * log lines with bytes of the total, a rate and, once enough moved, an ETA; -q silences them.
 */
class SlowStorageProgressTest {
  /** Sleeps before each positioned read of a data file, like a distant object store. */
  static final class SlowFileIO extends ForwardingFileIO {
    private static final long serialVersionUID = 1L;
    private final long millis;

    SlowFileIO(FileIO delegate, long millis) {
      super(delegate);
      this.millis = millis;
    }

    @Override
    public InputFile newInputFile(String location) {
      InputFile f = super.newInputFile(location);
      if (!location.contains(".data-")) {
        return f;
      }
      return new InputFile() {
        @Override
        public String location() {
          return f.location();
        }

        @Override
        public long length() {
          return f.length();
        }

        @Override
        public boolean exists() {
          return f.exists();
        }

        @Override
        public RangeReader open() {
          RangeReader r = f.open();
          return new SlowReader(r, millis);
        }
      };
    }
  }

  /**
   * One read at a time across threads, each after a pause: the run's length does not depend on
   * cores.
   */
  static final class SlowReader implements RangeReader {
    private static final Object LOCK = new Object();
    private final RangeReader r;
    private final long millis;

    SlowReader(RangeReader r, long millis) {
      this.r = r;
      this.millis = millis;
    }

    @Override
    public String location() {
      return r.location();
    }

    @Override
    public long length() {
      return r.length();
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) {
      synchronized (LOCK) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        r.readFully(position, buffer, offset, length);
      }
    }

    @Override
    public void close() {
      r.close();
    }
  }

  @Test
  void verifyOnASlowStoreLogsPeriodicProgressLines() {
    String before = System.getProperty(Progress.INTERVAL_PROPERTY);
    System.setProperty(Progress.INTERVAL_PROPERTY, "1");
    try {
      String prefix = CliRunner.example("tf1-ckpt");
      CliRunner r =
          CliRunner.runWithStorage(new SlowFileIO(new LocalFileIO(), 900), "verify", prefix);
      assertEquals(0, r.exitCode(), r.err());
      List<String> lines = r.err().lines().toList();
      assertTrue(lines.size() >= 2, r.err());
      for (String l : lines.subList(0, lines.size() - 1)) {
        assertTrue(
            l.matches("verify: \\d+ B of 12 B \\(\\d+%\\), \\d+(\\.\\d)? (B|KiB)/s, ETA (-|\\d+s)"),
            l);
      }
      assertTrue(
          lines.get(lines.size() - 1).matches("verify: 12 B in [2-9]s \\(\\d+ B/s\\)"), r.err());
      assertEquals(
          prefix + ": OK — 3 tensors (3 entries), 12 data bytes in 1 shard checked\n", r.out());

      CliRunner quiet =
          CliRunner.runWithStorage(new SlowFileIO(new LocalFileIO(), 900), "-q", "verify", prefix);
      assertEquals(0, quiet.exitCode(), quiet.err());
      assertEquals("", quiet.err());
    } finally {
      if (before == null) {
        System.clearProperty(Progress.INTERVAL_PROPERTY);
      } else {
        System.setProperty(Progress.INTERVAL_PROPERTY, before);
      }
    }
  }

  /**
   * convert as a Spark job (three shard tasks, each reading from the slow store; the TF2 output has
   * 374 bytes in 5 tensors with the object graph and save counter) with stderr not a terminal: the
   * progress listener prints log lines with bytes, rate, ETA and tasks every interval, and nothing
   * with -q.
   */
  @Test
  void convertAsASparkJobOnASlowStoreLogsPeriodicProgressLines(@TempDir Path dir) {
    String before = System.getProperty(Progress.INTERVAL_PROPERTY);
    System.setProperty(Progress.INTERVAL_PROPERTY, "1");
    try {
      String prefix = CliRunner.example("tf1-ckpt");
      CliRunner r =
          CliRunner.runWithSharedSparkAndStorage(
              io -> new SlowFileIO(io, 1500),
              "convert",
              "--to",
              "tf2",
              "--shards",
              "3",
              prefix,
              dir.resolve("out/ckpt").toString());
      assertEquals(0, r.exitCode(), r.err());
      List<String> lines = r.err().lines().filter(l -> l.startsWith("convert: ")).toList();
      assertTrue(lines.size() >= 3, r.err());
      for (String l : lines.subList(0, lines.size() - 1)) {
        assertTrue(
            l.matches(
                "convert: \\d+ B of 374 B \\(\\d+%\\), \\d+(\\.\\d)? B/s, ETA (-|\\d+s),"
                    + " [0-5] of 5 tensors, tasks [0-3]/3"),
            r.err());
      }
      assertTrue(
          lines.stream().anyMatch(l -> l.matches("convert: [1-9]\\d* B of 374 B .*")), r.err());
      assertTrue(
          lines
              .get(lines.size() - 1)
              .matches("convert: 374 B in \\d+s \\(\\d+ B/s\\), 5 of 5 tensors, tasks 3/3"),
          r.err());

      CliRunner quiet =
          CliRunner.runWithSharedSparkAndStorage(
              io -> new SlowFileIO(io, 1500),
              "-q",
              "convert",
              "--to",
              "tf2",
              "--shards",
              "3",
              prefix,
              dir.resolve("quiet/ckpt").toString());
      assertEquals(0, quiet.exitCode(), quiet.err());
      assertEquals("", quiet.err());
    } finally {
      if (before == null) {
        System.clearProperty(Progress.INTERVAL_PROPERTY);
      } else {
        System.setProperty(Progress.INTERVAL_PROPERTY, before);
      }
    }
  }
}
