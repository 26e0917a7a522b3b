package io.rebundle.codec.bundle;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.LegacyCheckpointException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.table.Footer;
import io.rebundle.codec.table.TableReader;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns what a user types into a checkpoint prefix: a prefix itself, a SavedModel directory (its
 * {@code variables/variables}), or a model directory whose {@code checkpoint} state file names the
 * latest checkpoint. Recognises legacy V1 checkpoints and says so.
 */
public final class CheckpointLocator {
  private CheckpointLocator() {}

  /** A resolved prefix and anything the user should be warned about. */
  public record Resolved(String prefix, List<String> warnings) {}

  public static Resolved resolve(FileIO io, String path) {
    String p =
        path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    if (p.endsWith(Naming.INDEX_SUFFIX) && io.exists(p) && !io.isDirectory(p)) {
      p = p.substring(0, p.length() - Naming.INDEX_SUFFIX.length());
    }
    if (io.exists(Naming.indexFile(p)) && !io.isDirectory(Naming.indexFile(p))) {
      return new Resolved(p, List.of());
    }
    if (io.isDirectory(p)) {
      return resolveDirectory(io, p);
    }
    if (io.exists(p) && isLegacyV1(io, p)) {
      throw new LegacyCheckpointException(p);
    }
    String v1Shard = p + "-00000-of-";
    for (String name : io.list(io.parent(p).isEmpty() ? "." : io.parent(p))) {
      String full = io.parent(p).isEmpty() ? name : io.join(io.parent(p), name);
      if (full.startsWith(v1Shard) && isLegacyV1(io, full)) {
        throw new LegacyCheckpointException(full);
      }
    }
    throw notFound(io, p);
  }

  private static Resolved resolveDirectory(FileIO io, String dir) {
    String savedModel = io.join(io.join(dir, "variables"), "variables");
    if (io.exists(Naming.indexFile(savedModel))) {
      return new Resolved(savedModel, List.of());
    }
    String stateFile = io.join(dir, Naming.STATE_FILE);
    if (!io.exists(stateFile)) {
      List<String> found = indexesIn(io, dir);
      throw new CheckpointNotFoundException(
          "Cannot find a checkpoint in directory "
              + dir
              + ": no 'checkpoint' state file and no variables/variables.index"
              + (found.isEmpty() ? "" : "; checkpoints present: " + String.join(", ", found)));
    }
    CheckpointState state = CheckpointState.read(io, stateFile);
    String latest = state.modelCheckpointPath();
    String candidate = io.isAbsolute(latest) ? latest : io.join(dir, latest);
    if (io.exists(Naming.indexFile(candidate))) {
      return new Resolved(candidate, List.of());
    }
    if (io.isAbsolute(latest)) {
      String beside = io.join(dir, io.fileName(latest));
      if (io.exists(Naming.indexFile(beside))) {
        return new Resolved(
            beside,
            List.of(
                "The checkpoint state file "
                    + stateFile
                    + " names "
                    + latest
                    + ", which does not exist; using "
                    + beside
                    + " found beside the state file (the directory was probably moved)"));
      }
    }
    if (io.exists(candidate) && isLegacyV1(io, candidate)) {
      throw new LegacyCheckpointException(candidate);
    }
    List<String> found = indexesIn(io, dir);
    throw new CheckpointNotFoundException(
        "Cannot find checkpoint "
            + candidate
            + " named by "
            + stateFile
            + ": no "
            + Naming.indexFile(candidate)
            + (found.isEmpty()
                ? "; the directory holds no checkpoints"
                : "; checkpoints present: " + String.join(", ", found)));
  }

  private static List<String> indexesIn(FileIO io, String dir) {
    List<String> prefixes = new ArrayList<>();
    for (String name : io.list(dir)) {
      if (name.endsWith(Naming.INDEX_SUFFIX)) {
        prefixes.add(io.join(dir, name.substring(0, name.length() - Naming.INDEX_SUFFIX.length())));
      }
    }
    return prefixes;
  }

  private static CheckpointNotFoundException notFound(FileIO io, String prefix) {
    String parent = io.parent(prefix);
    String base = io.fileName(prefix);
    List<String> similar = new ArrayList<>();
    for (String name : io.list(parent.isEmpty() ? "." : parent)) {
      if (name.startsWith(base) && name.endsWith(Naming.INDEX_SUFFIX)) {
        similar.add(name.substring(0, name.length() - Naming.INDEX_SUFFIX.length()));
      }
    }
    return new CheckpointNotFoundException(
        "Cannot find checkpoint "
            + prefix
            + ": no "
            + Naming.indexFile(prefix)
            + " found"
            + (similar.isEmpty()
                ? ""
                : "; did you mean "
                    + String.join(" or ", similar)
                    + "? (a checkpoint suffix such as '-1' may be missing)"));
  }

  /**
   * Whether a file is a V1 checkpoint (§1.4): an SSTable whose first entry has the empty key and a
   * value starting with 0x0A (SavedTensorSlices.meta), where a V2 header would start with 0x08.
   */
  static boolean isLegacyV1(FileIO io, String file) {
    InputFile in = io.newInputFile(file);
    if (!in.exists() || in.length() < Footer.ENCODED_LENGTH) {
      return false;
    }
    try (RangeReader r = in.open()) {
      if (!Footer.hasMagic(
          r.readFully(r.length() - Footer.ENCODED_LENGTH, Footer.ENCODED_LENGTH))) {
        return false;
      }
      TableReader.EntryIterator it = new TableReader(r).iterator();
      return it.next() && it.key().length == 0 && it.value().length > 0 && it.value()[0] == 0x0A;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
