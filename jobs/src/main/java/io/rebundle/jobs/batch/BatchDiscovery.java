package io.rebundle.jobs.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.jobs.discover.CheckpointDiscovery;
import io.rebundle.jobs.discover.DiscoveredCheckpoint;
import io.rebundle.jobs.io.HadoopFileIO;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * {@code batch --discover}: turns the checkpoints {@link CheckpointDiscovery} finds under a root
 * into manifest rows, each output at the same relative path under the destination root.
 *
 * <ul>
 *   <li>A model directory (one with a {@code checkpoint} state file): one row for its latest
 *       checkpoint, {@code src} the directory itself and {@code dst} the mirrored directory (so the
 *       output keeps the checkpoint's name and gets a state file), as {@code convert DIR DST/}
 *       does. With {@code allCheckpoints}, one row per checkpoint instead, {@code src} its prefix
 *       and {@code dst} the mirrored prefix; only the latest writes the state file.
 *   <li>A SavedModel: {@code src} the SavedModel directory, {@code dst} the mirrored {@code
 *       variables/variables} prefix, no state file (a SavedModel has none).
 *   <li>A bare prefix (no state file beside it): {@code src} and {@code dst} prefixes, no state
 *       file.
 * </ul>
 *
 * Legacy V1 checkpoints, orphan data files and state entries naming missing checkpoints cannot be
 * migrated; they are reported as warnings and left out.
 */
public final class BatchDiscovery {
  private static final JsonFactory JSON = new JsonFactory();

  private BatchDiscovery() {}

  /**
   * The rows for everything under {@code root}, as a JSON Lines manifest (empty when nothing is
   * found).
   */
  public static String manifest(
      FileIO io, String root, String dstRoot, String to, boolean allCheckpoints, PrintWriter err) {
    Configuration conf = io instanceof HadoopFileIO h ? h.conf() : new Configuration();
    CheckpointDiscovery.Result found =
        CheckpointDiscovery.discover(conf, List.of(root), CheckpointDiscovery.Options.DEFAULT);
    if (!found.rootProblems().isEmpty()) {
      throw new UncheckedIOException(
          "Cannot discover checkpoints under "
              + root
              + ": "
              + String.join("; ", found.rootProblems()),
          new IOException("discovery"));
    }
    String qualifiedRoot = strip(qualify(conf, root));
    boolean plain = !root.contains("://") && !root.startsWith("file:");
    String dst = dstRoot.endsWith("/") ? dstRoot.substring(0, dstRoot.length() - 1) : dstRoot;
    Map<String, Boolean> hasState = new HashMap<>();
    StringBuilder out = new StringBuilder();
    for (DiscoveredCheckpoint c : found.checkpoints()) {
      if (!c.hasIndex()
          || (c.kind() != DiscoveredCheckpoint.Kind.CHECKPOINT
              && c.kind() != DiscoveredCheckpoint.Kind.SAVED_MODEL)) {
        err.println(
            "rebundle: warning: not migrated ("
                + c.kind().label()
                + "): "
                + c.prefix()
                + (c.problems().isEmpty() ? "" : ": " + String.join("; ", c.problems())));
        continue;
      }
      String prefix = local(c.prefix(), plain);
      String modelDir = local(c.modelDir(), plain);
      if (c.kind() == DiscoveredCheckpoint.Kind.SAVED_MODEL) {
        out.append(
                row(
                    modelDir,
                    dst + relative(qualifiedRoot, strip(c.modelDir())) + "/variables/variables",
                    to,
                    false))
            .append('\n');
        continue;
      }
      boolean stateFile =
          hasState.computeIfAbsent(modelDir, d -> io.exists(io.join(d, Naming.STATE_FILE)));
      if (stateFile && !allCheckpoints) {
        if (c.isLatest()) {
          out.append(
                  row(modelDir, dst + relative(qualifiedRoot, strip(c.modelDir())) + "/", to, true))
              .append('\n');
        }
        continue;
      }
      out.append(
              row(
                  prefix,
                  dst + relative(qualifiedRoot, strip(c.prefix())),
                  to,
                  stateFile && c.isLatest()))
          .append('\n');
    }
    return out.toString();
  }

  private static String row(String src, String dst, String to, boolean stateFile) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField(ManifestFields.SRC, src);
      g.writeStringField(ManifestFields.DST, dst);
      g.writeStringField(ManifestFields.TO, to);
      if (!stateFile) {
        g.writeBooleanField("no_state_file", true);
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /** {@code location} relative to {@code root}, with a leading '/' ("" for the root itself). */
  static String relative(String root, String location) {
    String r = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    if (location.equals(r)) {
      return "";
    }
    if (!location.startsWith(r + "/")) {
      throw new IllegalStateException("Discovered " + location + " outside its root " + root);
    }
    return location.substring(r.length());
  }

  private static String qualify(Configuration conf, String location) {
    Path p = new Path(location);
    try {
      return p.getFileSystem(conf).makeQualified(p).toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve " + location + ": " + e.getMessage(), e);
    }
  }

  /** A qualified location without a trailing '/'. */
  private static String strip(String location) {
    return location.endsWith("/") && !location.endsWith("://")
        ? location.substring(0, location.length() - 1)
        : location;
  }

  /** A {@code file:} location as a plain path when the user gave plain paths. */
  private static String local(String location, boolean plain) {
    if (!plain || !location.startsWith("file:")) {
      return location;
    }
    String p = location.substring("file:".length());
    while (p.startsWith("//")) {
      p = p.substring(1);
    }
    return p;
  }
}
