package io.rebundle.jobs.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.jobs.util.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code inspect}: what a checkpoint holds, from its index (and its object graph). */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "List the tensors of a checkpoint: key, dtype, shape, bytes, shard, slices.",
      "Reads only the index (values and the TF2 object graph need the data files).",
      "Like TensorFlow's inspect_checkpoint: --tensor NAME prints one tensor's values, --keys REGEX a subset."
    },
    footer = {
      "",
      "Examples:",
      "  rebundle inspect /models/run7/model.ckpt-1000",
      "  rebundle inspect /models/run7                  (a model directory: its latest checkpoint)",
      "  rebundle inspect --all-checkpoints /models/run7 (every checkpoint: steps, which is latest)",
      "  rebundle inspect --tensor dense/kernel model.ckpt-1000",
      "  rebundle inspect --keys 'adam' --jsonl 'hdfs://nn/models/run*/ckpt-*' | jq .key",
      "  rebundle inspect --tree --values tf2-ckpt/ckpt-1"
    })
public final class InspectCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin StorageOptions storageOptions = new StorageOptions();

  /**
   * The storage for a location; tests substitute a decorator; null: the --conf settings' storage.
   */
  private final Function<String, FileIO> storageOverride;

  public InspectCommand() {
    this(null);
  }

  InspectCommand(Function<String, FileIO> storage) {
    this.storageOverride = storage;
  }

  private FileIO storage(String location) {
    return storageOverride != null
        ? storageOverride.apply(location)
        : storageOptions.forLocations(location);
  }

  @Parameters(
      paramLabel = "PATH",
      arity = "1..*",
      description = {
        "One or more checkpoints: a prefix, a model directory with a 'checkpoint' file, a SavedModel "
            + "directory, a .safetensors file or a directory of safetensors shards. A data file, .index or .meta path means its prefix. The last path component may be a glob "
            + "(*, ?, [..]) matched against the checkpoints of its directory (quote it to keep the shell off)."
      })
  List<String> paths;

  @Option(
      names = "--tensor",
      paramLabel = "NAME",
      description = "Only this tensor, with its values (TensorFlow's --tensor_name).")
  String tensor;

  @Option(
      names = "--keys",
      paramLabel = "REGEX",
      description = "Only tensors whose key contains a match of REGEX.")
  String keys;

  @Option(
      names = "--all-checkpoints",
      description =
          "For a model directory: list every checkpoint (its state file's and any other prefix in it) "
              + "with its step, tensor count and size, marking the latest.")
  boolean allCheckpoints;

  @Option(names = "--values", description = "Print each tensor's values, numpy style.")
  boolean values;

  @Option(
      names = "--max-elements",
      paramLabel = "N",
      defaultValue = "10",
      description = "With --values, elide after N elements (default: ${DEFAULT-VALUE}).")
  int maxElements;

  @Option(names = "--tree", description = "Print the TF2 object graph as a tree.")
  boolean tree;

  @Option(
      names = "--json",
      description = "Print one JSON object per checkpoint on stdout instead of tables.")
  boolean json;

  @Option(
      names = "--jsonl",
      description = "JSON Lines: one JSON object per tensor (with its prefix), for pipelines.")
  boolean jsonl;

  /** The first value --values could not read: reported (exit 3) once the listing is printed. */
  private RebundleException unreadable;

  /** One row: a tensor, with its slice entries folded in. */
  record Row(String key, BundleEntry entry, long bytes, int shard, int slices) {}

  private Pattern keyPattern;

  @Override
  public Integer call() {
    if (maxElements < 1) {
      throw new UsageException("Invalid --max-elements: " + maxElements + " (must be at least 1)");
    }
    if (json && jsonl) {
      throw new UsageException("Invalid options: give --json or --jsonl, not both");
    }
    if (tensor != null && keys != null) {
      throw new UsageException("Invalid options: give --tensor or --keys, not both");
    }
    if (keys != null) {
      try {
        keyPattern = Pattern.compile(keys);
      } catch (PatternSyntaxException e) {
        throw new UsageException("Invalid --keys regex '" + keys + "': " + e.getDescription());
      }
    }
    if (tensor != null) {
      values = true;
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean quiet = Main.quiet(spec);
    List<String> expanded = new ArrayList<>();
    for (String p : paths) {
      expanded.addAll(expand(storage(p), p));
    }
    boolean first = true;
    for (String p : expanded) {
      FileIO io = storage(p);
      if (SafetensorsCommands.isSafetensors(io, p)) {
        int rc = SafetensorsCommands.inspect(out, err, io, p, json || jsonl, values, maxElements);
        if (rc != ExitCodes.OK) {
          return rc;
        }
        continue;
      }
      if (allCheckpoints) {
        listCheckpoints(out, io, p);
        continue;
      }
      Target t = target(io, p);
      if (t.note() != null && !quiet) {
        err.println("rebundle: note: " + t.note());
      }
      if (!first && !json && !jsonl) {
        out.println();
      }
      first = false;
      inspect(out, err, io, t.path(), quiet);
    }
    out.flush();
    if (unreadable != null) {
      throw unreadable;
    }
    return ExitCodes.OK;
  }

  private void inspect(PrintWriter out, PrintWriter err, FileIO io, String path, boolean quiet) {
    try (CheckpointReader reader = CheckpointReader.open(io, path)) {
      if (!quiet) {
        reader.warnings().forEach(w -> err.println("rebundle: warning: " + w));
      }
      if (tensor != null && findRow(reader, tensor) == null) {
        throw new UsageException(
            "Invalid --tensor: "
                + reader.prefix()
                + " has no tensor '"
                + tensor
                + "'"
                + similarKeys(reader, tensor));
      }
      boolean tf2 = reader.isObjectBased();
      if (jsonl) {
        jsonLines(out, reader);
        return;
      }
      ObjectGraph graph = null;
      String graphError = null;
      if (tf2 && (tree || json)) {
        try {
          graph = reader.objectGraph();
        } catch (RebundleException e) {
          if (!json) {
            // --tree asked for the graph: an unreadable one is the command's failure (exit 3).
            throw e;
          }
          graphError = e.getMessage();
          if (!quiet) {
            err.println("rebundle: warning: cannot read the object graph: " + e.getMessage());
          }
        }
      }
      if (json) {
        json(out, reader, tf2, graph, graphError);
        out.println();
      } else {
        printTable(out, reader, tf2);
        if (tree && graph != null) {
          out.println();
          java.util.NavigableSet<String> keys = new java.util.TreeSet<>();
          reader
              .records()
              .forEach(
                  rec -> {
                    if (!rec.isSliceEntry()) {
                      keys.add(rec.name());
                    }
                  });
          ObjectGraphTree.print(out, graph, keys);
        } else if (tree && !tf2) {
          out.println();
          out.println("(no object graph: a TF1 name-based checkpoint)");
        }
      }
    }
  }

  /**
   * A path to inspect and, when it was a file of a checkpoint rather than its prefix, a note saying
   * so.
   */
  record Target(String path, String note) {}

  private static final Pattern DATA_FILE = Pattern.compile("(.*)\\.data-\\d{5}-of-\\d{5}");

  /**
   * Resolves a data file, {@code .index} or {@code .meta} path to its prefix (users paste what
   * {@code ls} shows), with a note; any other path is the locator's to resolve.
   */
  static Target target(FileIO io, String path) {
    String prefix = null;
    String kind = null;
    java.util.regex.Matcher m = DATA_FILE.matcher(path);
    if (m.matches()) {
      prefix = m.group(1);
      kind = "a data file";
    } else if (path.endsWith(".meta")) {
      prefix = path.substring(0, path.length() - ".meta".length());
      kind = "a MetaGraph file";
    } else if (path.endsWith(Naming.INDEX_SUFFIX)) {
      prefix = path.substring(0, path.length() - Naming.INDEX_SUFFIX.length());
      kind = "an index file";
    }
    if (prefix == null || prefix.isEmpty() || !io.exists(Naming.indexFile(prefix))) {
      return new Target(path, null);
    }
    return new Target(
        prefix, path + " is " + kind + " of checkpoint " + prefix + "; inspecting the checkpoint");
  }

  /**
   * Expands a glob in the last component of {@code path} against the checkpoints (prefixes of
   * {@code .index} files) and directories of its parent, sorted; a path without a glob is itself.
   */
  static List<String> expand(FileIO io, String path) {
    String name = io.fileName(path);
    if (!name.matches(".*[*?\\[].*")) {
      return List.of(path);
    }
    String parent = io.parent(path);
    PathMatcher matcher;
    try {
      matcher = FileSystems.getDefault().getPathMatcher("glob:" + name);
    } catch (IllegalArgumentException e) {
      throw new UsageException("Invalid glob '" + name + "': " + e.getMessage());
    }
    TreeSet<String> matches = new TreeSet<>();
    for (String entry : io.list(parent.isEmpty() ? "." : parent)) {
      String candidate =
          entry.endsWith(Naming.INDEX_SUFFIX)
              ? entry.substring(0, entry.length() - Naming.INDEX_SUFFIX.length())
              : entry;
      String full = parent.isEmpty() ? candidate : io.join(parent, candidate);
      boolean isCheckpoint = entry.endsWith(Naming.INDEX_SUFFIX) || io.isDirectory(full);
      if (isCheckpoint && matcher.matches(Path.of(candidate))) {
        matches.add(full);
      }
    }
    if (matches.isEmpty()) {
      throw new CheckpointNotFoundException(
          "Cannot find checkpoints matching "
              + path
              + ": no prefix or directory in "
              + (parent.isEmpty() ? "." : parent)
              + " matches '"
              + name
              + "'");
    }
    return new ArrayList<>(matches);
  }

  /**
   * {@code --all-checkpoints}: every checkpoint of a model directory, with step and which is
   * latest.
   */
  private void listCheckpoints(PrintWriter out, FileIO io, String dir) {
    String d = dir.endsWith("/") && dir.length() > 1 ? dir.substring(0, dir.length() - 1) : dir;
    if (!io.isDirectory(d)) {
      throw new UsageException("Invalid --all-checkpoints: " + d + " is not a model directory");
    }
    String stateFile = io.join(d, Naming.STATE_FILE);
    String latest = null;
    java.util.LinkedHashSet<String> prefixes = new java.util.LinkedHashSet<>();
    if (io.exists(stateFile)) {
      CheckpointState state = CheckpointState.read(io, stateFile);
      latest = absolute(io, d, state.modelCheckpointPath());
      for (String p : state.allModelCheckpointPaths()) {
        prefixes.add(absolute(io, d, p));
      }
      prefixes.add(latest);
    }
    for (String name : io.list(d)) {
      if (name.endsWith(Naming.INDEX_SUFFIX)) {
        prefixes.add(io.join(d, name.substring(0, name.length() - Naming.INDEX_SUFFIX.length())));
      }
    }
    if (prefixes.isEmpty()) {
      throw new CheckpointNotFoundException(
          "Cannot find checkpoints in "
              + d
              + ": no 'checkpoint' state file and no "
              + ".index files");
    }
    List<String[]> rows = new ArrayList<>();
    for (String p : prefixes) {
      String step = step(io.fileName(p));
      if (!io.exists(Naming.indexFile(p))) {
        rows.add(
            new String[] {
              p,
              step,
              "-",
              "-",
              p.equals(latest) ? "latest" : "",
              "missing (named by the state file)"
            });
        continue;
      }
      long tensors = 0;
      long bytes = 0;
      try (CheckpointReader r = CheckpointReader.openPrefix(io, p)) {
        for (IndexRecord rec : r.records()) {
          if (!rec.isSliceEntry()) {
            tensors++;
          }
          if (!rec.entry().isSliced()) {
            bytes += rec.entry().size();
          }
        }
      }
      rows.add(
          new String[] {
            p,
            step,
            Long.toString(tensors),
            Long.toString(bytes),
            p.equals(latest) ? "latest" : "",
            ""
          });
    }
    String latestPrefix = latest;
    if (json || jsonl) {
      Json.write(
          out,
          g -> {
            if (json) {
              g.writeStartObject();
              g.writeStringField("directory", d);
              Json.string(g, "latest", latestPrefix);
              g.writeArrayFieldStart("checkpoints");
            }
            for (String[] row : rows) {
              g.writeStartObject();
              g.writeStringField("prefix", row[0]);
              if (row[1].isEmpty()) {
                g.writeNullField("step");
              } else {
                g.writeNumberField("step", Long.parseLong(row[1]));
              }
              g.writeBooleanField("latest", !row[4].isEmpty());
              g.writeBooleanField("exists", row[5].isEmpty());
              if (row[5].isEmpty()) {
                g.writeNumberField("tensors", Long.parseLong(row[2]));
                g.writeNumberField("bytes", Long.parseLong(row[3]));
              }
              g.writeEndObject();
              if (jsonl) {
                g.writeRaw('\n');
              }
            }
            if (json) {
              g.writeEndArray();
              g.writeEndObject();
              g.writeRaw('\n');
            }
          });
      return;
    }
    out.println(
        "model directory: "
            + d
            + " ("
            + rows.size()
            + " checkpoint"
            + (rows.size() == 1 ? "" : "s")
            + (latest == null ? ", no state file" : "")
            + ")");
    int w = rows.stream().mapToInt(r -> r[0].length()).max().orElse(6);
    String fmt = "%-" + Math.max(6, w) + "s  %8s  %8s  %14s  %s";
    out.println(String.format(fmt, "PREFIX", "STEP", "TENSORS", "BYTES", "").stripTrailing());
    for (String[] r : rows) {
      out.println(
          String.format(
                  fmt, r[0], r[1].isEmpty() ? "-" : r[1], r[2], r[3], (r[4] + " " + r[5]).strip())
              .stripTrailing());
    }
  }

  private static String absolute(FileIO io, String dir, String p) {
    return io.isAbsolute(p) ? p : io.join(dir, p);
  }

  /**
   * The global step of a checkpoint name ({@code ckpt-12}, {@code model.ckpt-1000}), or "" if it
   * has none.
   */
  static String step(String name) {
    java.util.regex.Matcher m = Pattern.compile("-(\\d{1,18})$").matcher(name);
    return m.find() ? m.group(1) : "";
  }

  private boolean selected(Row r) {
    if (tensor != null) {
      return r.key().equals(tensor);
    }
    return keyPattern == null || keyPattern.matcher(r.key()).find();
  }

  private static Row findRow(CheckpointReader reader, String key) {
    Row[] found = new Row[1];
    forEachRow(
        reader,
        r -> {
          if (found[0] == null && r.key().equals(key)) {
            found[0] = r;
          }
        });
    return found[0];
  }

  /** Up to three keys that contain the name asked for, as a hint. */
  private static String similarKeys(CheckpointReader reader, String name) {
    List<String> similar = new ArrayList<>();
    String needle = name.toLowerCase(java.util.Locale.ROOT);
    forEachRow(
        reader,
        r -> {
          String k = r.key().toLowerCase(java.util.Locale.ROOT);
          if (similar.size() < 3 && (k.contains(needle) || needle.contains(k))) {
            similar.add(r.key());
          }
        });
    return similar.isEmpty() ? "" : " (similar: " + String.join(", ", similar) + ")";
  }

  /**
   * --jsonl: one object per selected tensor, each on its own line and carrying its checkpoint's
   * prefix.
   */
  private void jsonLines(PrintWriter out, CheckpointReader reader) {
    Json.write(
        out,
        g ->
            forEachRow(
                reader,
                r -> {
                  if (selected(r)) {
                    writeRow(g, reader, r);
                    try {
                      g.writeRaw('\n');
                    } catch (IOException e) {
                      throw new UncheckedIOException("Cannot write JSON: " + e.getMessage(), e);
                    }
                  }
                }));
  }

  /**
   * Streams one row per tensor, in index order, to {@code sink}: the index is read block by block
   * and rows are never collected, so a million entries need no more memory than one. Slice entries
   * sort before every tensor name (their keys start with 0x00), so their sizes are summed before
   * their tensor's row is made.
   */
  static void forEachRow(CheckpointReader reader, Consumer<Row> sink) {
    Map<String, long[]> sliceBytes = new HashMap<>();
    Map<String, TreeSet<Integer>> sliceShards = new HashMap<>();
    for (IndexRecord r : reader.records()) {
      if (r.isSliceEntry()) {
        String name = SliceKeys.decode(r.key()).name();
        sliceBytes.computeIfAbsent(name, k -> new long[1])[0] += r.entry().size();
        sliceShards.computeIfAbsent(name, k -> new TreeSet<>()).add(r.entry().shardId());
        continue;
      }
      String key = r.name();
      BundleEntry e = r.entry();
      if (e.isSliced()) {
        long[] b = sliceBytes.getOrDefault(key, new long[1]);
        TreeSet<Integer> shards = sliceShards.getOrDefault(key, new TreeSet<>());
        sink.accept(
            new Row(key, e, b[0], shards.isEmpty() ? 0 : shards.first(), e.slices().size()));
      } else {
        sink.accept(new Row(key, e, e.size(), e.shardId(), 0));
      }
    }
  }

  /**
   * Two passes over the index: the first sizes the columns and totals, the second prints. Without
   * --tensor or --keys the first pass needs no row: a key of ASCII bytes is as many characters
   * long, and a shape's text is kept by the shape (consecutive entries of the same dims share it).
   */
  private void printTable(PrintWriter out, CheckpointReader reader, boolean tf2) {
    long[] totals = new long[4]; // rows, bytes, key width, shape width
    totals[2] = 3;
    totals[3] = 5;
    if (tensor == null && keyPattern == null) {
      widthsOfAll(reader, totals);
    } else {
      forEachRow(
          reader,
          r -> {
            if (!selected(r)) {
              return;
            }
            totals[0]++;
            totals[1] += r.bytes();
            totals[2] = Math.max(totals[2], r.key().length());
            totals[3] = Math.max(totals[3], r.entry().shape().toString().length());
          });
    }
    out.print("prefix: " + reader.prefix() + "\n");
    out.print(
        "format: "
            + (tf2 ? "tf2 (object-based)" : "tf1 (name-based)")
            + ", "
            + reader.header().numShards()
            + " shard"
            + (reader.header().numShards() == 1 ? "" : "s")
            + ", "
            + totals[0]
            + " tensors, "
            + totals[1]
            + " bytes"
            + (tensor != null || keyPattern != null
                ? " (selected by " + (tensor != null ? "--tensor" : "--keys") + ")"
                : "")
            + "\n");
    int keyWidth = (int) totals[2];
    int shapeWidth = (int) totals[3];
    TableLines lines = new TableLines(out, keyWidth, shapeWidth);
    lines.row("KEY", "DTYPE", "SHAPE", "BYTES", "SHARD", "SLICES");
    forEachRow(
        reader,
        r -> {
          if (!selected(r)) {
            return;
          }
          lines.row(r);
          if (values) {
            lines.flush();
            out.println(indent(valueOf(reader, r)));
          }
        });
    lines.flush();
  }

  /**
   * The first pass of {@link #printTable} when every row is printed: the same totals and widths as
   * one made from {@link #forEachRow}'s rows (whose bytes for a sliced tensor are its slices' sum).
   */
  static void widthsOfAll(CheckpointReader reader, long[] totals) {
    Map<String, long[]> sliceBytes = new HashMap<>();
    for (IndexRecord r : reader.records()) {
      BundleEntry e = r.entry();
      if (r.isSliceEntry()) {
        String name = SliceKeys.decode(r.key()).name();
        sliceBytes.computeIfAbsent(name, k -> new long[1])[0] += e.size();
        continue;
      }
      totals[0]++;
      if (e.isSliced()) {
        long[] b = sliceBytes.get(r.name());
        totals[1] += b == null ? 0 : b[0];
      } else {
        totals[1] += e.size();
      }
      totals[2] = Math.max(totals[2], keyLength(r.key()));
      totals[3] = Math.max(totals[3], e.shape().toString().length());
    }
  }

  /** The length of {@code new String(key, UTF_8)}, without making it for an ASCII key. */
  private static int keyLength(byte[] key) {
    for (byte b : key) {
      if (b < 0) {
        return new String(key, java.nio.charset.StandardCharsets.UTF_8).length();
      }
    }
    return key.length;
  }

  /**
   * Table lines in the layout {@code %-Ks %-10s %-Ss %12s %5s %6s}, laid out in a character buffer
   * that goes to the writer a block at a time (no Formatter, no String per line).
   */
  static final class TableLines {
    private final PrintWriter out;
    private final int keyWidth;
    private final int shapeWidth;
    private char[] buf = new char[1 << 16];
    private int n;

    TableLines(PrintWriter out, int keyWidth, int shapeWidth) {
      this.out = out;
      this.keyWidth = keyWidth;
      this.shapeWidth = shapeWidth;
    }

    void row(Row r) {
      row(
          r.key(),
          r.entry().dtypeName(),
          r.entry().shape().toString(),
          Long.toString(r.bytes()),
          Integer.toString(r.shard()),
          Integer.toString(r.slices()));
    }

    void row(String key, String dtype, String shape, String bytes, String shard, String slices) {
      int most =
          Math.max(key.length(), keyWidth)
              + Math.max(dtype.length(), 10)
              + Math.max(shape.length(), shapeWidth)
              + Math.max(bytes.length(), 12)
              + Math.max(shard.length(), 5)
              + Math.max(slices.length(), 6)
              + 12; // two spaces after each column (the last two become the newline)
      if (buf.length - n < most) {
        flush();
        if (buf.length < most) {
          buf = new char[most];
        }
      }
      left(key, keyWidth);
      left(dtype, 10);
      left(shape, shapeWidth);
      right(bytes, 12);
      right(shard, 5);
      right(slices, 6);
      buf[n - 2] = '\n'; // the two spaces after the last column: one newline instead
      n--;
    }

    private void left(String s, int width) {
      s.getChars(0, s.length(), buf, n);
      n += s.length();
      pad(Math.max(width - s.length(), 0) + 2);
    }

    private void right(String s, int width) {
      pad(width - s.length());
      s.getChars(0, s.length(), buf, n);
      n += s.length();
      pad(2);
    }

    private void pad(int count) {
      if (count > 0) {
        java.util.Arrays.fill(buf, n, n + count, ' ');
        n += count;
      }
    }

    void flush() {
      out.write(buf, 0, n);
      n = 0;
    }
  }

  private String valueOf(CheckpointReader reader, Row r) {
    if (r.key().equals(Naming.OBJECT_GRAPH_KEY)) {
      return "(serialized object graph, " + r.bytes() + " bytes; see --tree)";
    }
    try {
      // Reads only the elements printed (issue 9): a huge or lying tensor costs what is shown.
      Tensor head = reader.readHead(r.key(), r.entry(), maxElements);
      return ValueFormatter.format(r.entry().shape(), head, maxElements);
    } catch (RebundleException e) {
      if (unreadable == null) {
        unreadable = e;
      }
      return "(cannot read: " + e.getMessage() + ")";
    }
  }

  private static String indent(String s) {
    return "    " + s.replace("\n", "\n    ");
  }

  private void json(
      PrintWriter out, CheckpointReader reader, boolean tf2, ObjectGraph graph, String graphError) {
    Json.write(
        out,
        g -> {
          g.writeStartObject();
          g.writeStringField("prefix", reader.prefix());
          g.writeStringField("format", tf2 ? "tf2" : "tf1");
          g.writeNumberField("num_shards", reader.header().numShards());
          g.writeArrayFieldStart("tensors");
          forEachRow(
              reader,
              r -> {
                if (selected(r)) {
                  writeRow(g, reader, r);
                }
              });
          g.writeEndArray();
          if (tf2) {
            if (graph == null) {
              g.writeNullField("object_graph");
              Json.string(g, "object_graph_error", graphError);
            } else {
              g.writeFieldName("object_graph");
              ObjectGraphTree.json(g, graph);
            }
          }
          g.writeEndObject();
        });
  }

  // A row's field names, quoted and escaped once rather than for each of a million rows.
  private static final SerializedString PREFIX = new SerializedString("prefix");
  private static final SerializedString KEY = new SerializedString("key");
  private static final SerializedString DTYPE = new SerializedString("dtype");
  private static final SerializedString SHAPE = new SerializedString("shape");
  private static final SerializedString BYTES = new SerializedString("bytes");
  private static final SerializedString SHARD = new SerializedString("shard");
  private static final SerializedString SLICES = new SerializedString("slices");

  /** One tensor as a JSON object (an element of "tensors", or a line of --jsonl). */
  private void writeRow(JsonGenerator g, CheckpointReader reader, Row r) {
    try {
      g.writeStartObject();
      if (jsonl) {
        g.writeFieldName(PREFIX);
        g.writeString(reader.prefix());
      }
      g.writeFieldName(KEY);
      g.writeString(r.key());
      g.writeFieldName(DTYPE);
      g.writeString(r.entry().dtypeName());
      g.writeFieldName(SHAPE);
      g.writeStartArray();
      TensorShape shape = r.entry().shape();
      for (int i = 0; i < shape.rank(); i++) {
        g.writeNumber(shape.dim(i));
      }
      g.writeEndArray();
      g.writeFieldName(BYTES);
      g.writeNumber(r.bytes());
      g.writeFieldName(SHARD);
      g.writeNumber(r.shard());
      g.writeFieldName(SLICES);
      g.writeNumber(r.slices());
      if (values) {
        g.writeStringField("value", valueOf(reader, r));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write JSON: " + e.getMessage(), e);
    }
  }
}
