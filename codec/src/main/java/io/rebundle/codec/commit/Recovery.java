package io.rebundle.codec.commit;

import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.RangeReader;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Cleans up after runs that were killed while writing a destination (docs/commit-protocol.md,
 * "Recovery"): every run does this before it writes. A staging area whose owner is gone is
 *
 * <ul>
 *   <li>without a journal: removed (its commit never started; the destination was not touched);
 *   <li>with a journal and the staged index still in it: rolled back (the new data files renamed so
 *       far are deleted, the previous files moved back, data first and the index last);
 *   <li>with a journal and the staged index gone (renamed into place: the commit point passed):
 *       rolled forward (the state file update is made if it is owed, the previous files deleted).
 * </ul>
 *
 * Then the area is removed. A live owner's area is left alone and reported to the caller, who
 * refuses to write the same destination at the same time.
 */
public final class Recovery {
  private Recovery() {}

  /** What recovery found: the areas of live runs it left alone. */
  public record Outcome(List<String> liveOwners) {}

  /**
   * Recovers every stale staging area of {@code prefix}, reporting each in one line to {@code
   * report}; {@code alive} decides whether a lease's owner still runs ({@link StagingOwner#isAlive}
   * by default). Areas it cannot read an owner from are stale.
   */
  public static Outcome recover(
      FileIO io, String prefix, Consumer<String> report, Predicate<StagingOwner> alive) {
    List<String> live = new java.util.ArrayList<>();
    for (StagingArea area : StagingArea.find(io, prefix)) {
      StagingOwner owner = area.readOwner(io);
      if (owner != null && alive.test(owner)) {
        live.add(area.directory() + " (" + owner.describe() + ")");
        continue;
      }
      String who =
          owner == null
              ? "a run that left no lease"
              : "run " + owner.runId() + ", " + owner.describe();
      String what = recoverOne(io, area, report);
      report.accept(
          "removed the staging directory "
              + area.directory()
              + " of "
              + who
              + ", which is no longer running: "
              + what);
    }
    return new Outcome(live);
  }

  /** {@link #recover} with the default liveness check. */
  public static Outcome recover(FileIO io, String prefix, Consumer<String> report) {
    long now = System.currentTimeMillis();
    return recover(io, prefix, report, o -> o.isAlive(now));
  }

  /** Finishes or undoes the commit of {@code area}, removes the area, and says what it did. */
  static String recoverOne(FileIO io, StagingArea area, Consumer<String> report) {
    CommitJournal journal = readJournal(io, area);
    String what;
    if (journal == null) {
      what = "its commit had not started, the destination was not touched";
    } else if (!committed(io, area, journal)) {
      rollBack(io, area, journal);
      what =
          journal.moved().isEmpty()
              ? "its commit had not finished, its data files were removed"
              : "its commit had not finished, the previous checkpoint was restored";
    } else {
      rollForward(io, area, journal, report);
      what = "its commit had finished, the previous files were removed";
    }
    area.remove(io);
    return what;
  }

  /**
   * Whether the commit of {@code area} passed its commit point. Staged: its index left the area
   * (renamed into place). Direct: the final index is the staged one, byte for byte (the area's
   * index is removed after the journal, so until then it is there to compare).
   */
  static boolean committed(FileIO io, StagingArea area, CommitJournal journal) {
    boolean staged = io.exists(area.indexFile());
    if (!journal.direct()) {
      return !staged;
    }
    String finalIndex = Naming.indexFile(area.prefix());
    return staged && io.exists(finalIndex) && sameBytes(io, area.indexFile(), finalIndex);
  }

  private static boolean sameBytes(FileIO io, String a, String b) {
    try (RangeReader x = io.newInputFile(a).open();
        RangeReader y = io.newInputFile(b).open()) {
      long n = x.length();
      if (n != y.length()) {
        return false;
      }
      byte[] p = new byte[1 << 16];
      byte[] q = new byte[1 << 16];
      for (long at = 0; at < n; ) {
        int k = (int) Math.min(p.length, n - at);
        x.readFully(at, p, 0, k);
        y.readFully(at, q, 0, k);
        if (!java.util.Arrays.equals(p, 0, k, q, 0, k)) {
          return false;
        }
        at += k;
      }
      return true;
    }
  }

  static CommitJournal readJournal(FileIO io, StagingArea area) {
    String file = area.journalFile();
    if (!io.exists(file)) {
      return null;
    }
    try (RangeReader r = io.newInputFile(file).open()) {
      if (r.length() > CommitJournal.MAX_BYTES) {
        return null;
      }
      return CommitJournal.parse(r.readFully(0, (int) r.length()));
    }
  }

  /**
   * Puts the destination back as it was before the commit of {@code area} began. The journal's
   * order makes this decidable from the files alone: the previous files all move aside before the
   * first new one is renamed in, so while any previous file is still in place no new file has
   * arrived, and once all are aside every final-named data file of the new shard count is new.
   */
  static void rollBack(FileIO io, StagingArea area, CommitJournal journal) {
    String prefix = area.prefix();
    String dir = parentDir(io, prefix);
    String moved = area.movedDirectory();
    boolean allAside = true;
    for (String name : journal.moved()) {
      if (!io.exists(io.join(moved, name))) {
        allAside = false;
        break;
      }
    }
    if (allAside) {
      // New data files renamed in so far go; they are new because every previous file is aside.
      for (int i = 0; i < journal.shards(); i++) {
        String f = Naming.dataFile(prefix, i, journal.shards());
        if (io.exists(f)) {
          io.delete(f);
        }
      }
    }
    // Back in reverse order of leaving: data files, then the index.
    for (int i = journal.moved().size() - 1; i >= 0; i--) {
      String name = journal.moved().get(i);
      String aside = io.join(moved, name);
      if (io.exists(aside)) {
        io.rename(aside, io.join(dir, name));
      }
    }
  }

  /** Completes the commit of {@code area} after its commit point: the state file, then cleanup. */
  static void rollForward(
      FileIO io, StagingArea area, CommitJournal journal, Consumer<String> report) {
    String dir = parentDir(io, area.prefix());
    for (String name : journal.superseded()) {
      io.delete(io.join(dir, name));
    }
    Committer.updateStateFile(io, area, journal.stateFile(), report);
    String moved = area.movedDirectory();
    for (String name : journal.moved()) {
      io.delete(io.join(moved, name));
    }
  }

  static String parentDir(FileIO io, String prefix) {
    String parent = io.parent(prefix);
    return parent.isEmpty() ? "." : parent;
  }
}
