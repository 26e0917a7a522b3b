package io.rebundle.codec.commit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a commit is about to do to its destination, written into the staging area before the first
 * file there moves (docs/commit-protocol.md, "Commit"): the number of new data files, the
 * destination's previous files that are moved aside first (index first), those that stay in place
 * until the new index has replaced the old one and are then deleted ({@code superseded}), the state
 * file update still owed, and whether the data files are written under their final names ({@link
 * StagingArea#direct}; then the journal is written before the tasks start). With it, a later run
 * finishes or undoes an interrupted commit: {@link Recovery}.
 */
record CommitJournal(
    int shards,
    List<String> moved,
    List<String> superseded,
    StateFileUpdate stateFile,
    boolean direct) {
  static final String FILE = "journal";
  private static final String MAGIC = "rebundle-commit-journal 1";

  /** Largest journal read: a destination with this many files was not written by us. */
  static final int MAX_BYTES = 1 << 20;

  CommitJournal {
    moved = List.copyOf(moved);
    superseded = List.copyOf(superseded);
  }

  byte[] toBytes() {
    StringBuilder b = new StringBuilder(MAGIC).append('\n');
    b.append("shards ").append(shards).append('\n');
    b.append("state_file ").append(stateFile.name()).append('\n');
    b.append("mode ").append(direct ? "direct" : "staged").append('\n');
    for (String m : moved) {
      b.append("moved ").append(m).append('\n');
    }
    for (String m : superseded) {
      b.append("superseded ").append(m).append('\n');
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The journal in {@code bytes}, or null if they are not a whole one. */
  static CommitJournal parse(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      return null;
    }
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 4 || !lines[0].equals(MAGIC)) {
      return null;
    }
    try {
      int shards = Integer.parseInt(value(lines[1], "shards "));
      StateFileUpdate state = StateFileUpdate.valueOf(value(lines[2], "state_file "));
      String mode = value(lines[3], "mode ");
      if (!mode.equals("direct") && !mode.equals("staged")) {
        return null;
      }
      List<String> moved = new ArrayList<>();
      List<String> superseded = new ArrayList<>();
      for (int i = 4; i < lines.length; i++) {
        boolean isMoved = lines[i].startsWith("moved ");
        String name = value(lines[i], isMoved ? "moved " : "superseded ");
        if (name.isEmpty() || name.contains("/")) {
          return null;
        }
        (isMoved ? moved : superseded).add(name);
      }
      return shards < 0
          ? null
          : new CommitJournal(shards, moved, superseded, state, mode.equals("direct"));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String value(String line, String key) {
    if (!line.startsWith(key)) {
      throw new IllegalArgumentException(line);
    }
    return line.substring(key.length());
  }
}
