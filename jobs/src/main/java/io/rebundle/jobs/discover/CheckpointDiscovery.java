package io.rebundle.jobs.discover;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.table.Footer;
import io.rebundle.codec.table.TableReader;
import io.rebundle.jobs.io.HadoopFileIO;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.hadoop.fs.Path;

/**
 * Finds every checkpoint under some roots on any Hadoop file system, at any depth: every prefix
 * with an {@code .index} (all steps of a model directory, not only the latest), model-directory
 * state files (the latest and every kept checkpoint they name, and the ones that are gone),
 * SavedModel {@code variables/}, V1 checkpoints, and data files whose index is missing.
 *
 * <p>Directories are listed level by level, each level in parallel on a small thread pool (object
 * stores answer one listing per request; parallel requests hide their latency). Reads nothing but
 * listings, state files (a few hundred bytes each) and, for files that may be V1 checkpoints, their
 * 48-byte footer and first block. Depth and the number of directories are bounded. Reusable: the
 * batch command discovers its inputs with it.
 */
public final class CheckpointDiscovery {
  private static final Pattern DATA_FILE = Pattern.compile("(.+)\\.data-(\\d{5,})-of-(\\d{5,})");

  /** V1 shard names: {@code model.ckpt-1000-00000-of-00001}. */
  private static final Pattern V1_SHARD = Pattern.compile(".+-\\d{5,}-of-\\d{5,}");

  private static final Set<String> SAVED_MODEL_FILES =
      Set.of("saved_model.pb", "saved_model.pbtxt");

  /** What to discover. */
  public record Options(
      boolean recursive,
      String pathGlobFilter,
      long modifiedAfter,
      long modifiedBefore,
      int maxDepth,
      int maxDirectories,
      int threads) {
    public static final Options DEFAULT =
        new Options(true, null, Long.MIN_VALUE, Long.MAX_VALUE, 64, 1_000_000, 8);

    public Options {
      if (maxDepth < 0 || maxDirectories < 1 || threads < 1) {
        throw new IllegalArgumentException(
            "Invalid discovery options: depth "
                + maxDepth
                + ", directories "
                + maxDirectories
                + ", threads "
                + threads);
      }
    }

    public Options withRecursive(boolean r) {
      return new Options(
          r, pathGlobFilter, modifiedAfter, modifiedBefore, maxDepth, maxDirectories, threads);
    }

    public Options withPathGlobFilter(String glob) {
      return new Options(
          recursive, glob, modifiedAfter, modifiedBefore, maxDepth, maxDirectories, threads);
    }

    /** Keeps checkpoints whose index was modified strictly after/before these times (ms). */
    public Options withModified(long after, long before) {
      return new Options(
          recursive, pathGlobFilter, after, before, maxDepth, maxDirectories, threads);
    }
  }

  /** The result: everything found, sorted by prefix, and problems with the roots themselves. */
  public record Result(List<DiscoveredCheckpoint> checkpoints, List<String> rootProblems) {
    public Result {
      checkpoints = List.copyOf(checkpoints);
      rootProblems = List.copyOf(rootProblems);
    }
  }

  private final Configuration conf;
  private final Options options;
  private final HadoopFileIO io;
  private final GlobFilter glob;

  private CheckpointDiscovery(Configuration conf, Options options) {
    this.conf = conf;
    this.options = options;
    this.io = new HadoopFileIO(conf);
    try {
      this.glob =
          options.pathGlobFilter() == null ? null : new GlobFilter(options.pathGlobFilter());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Invalid pathGlobFilter " + options.pathGlobFilter() + ": " + e.getMessage(), e);
    }
  }

  /** Discovers everything under {@code roots} (directories, prefixes or index files). */
  public static Result discover(Configuration conf, List<String> roots, Options options) {
    return new CheckpointDiscovery(conf, options).run(roots);
  }

  private record Listing(Path dir, int depth, FileStatus[] entries, String problem) {}

  private Result run(List<String> roots) {
    List<String> rootProblems = new ArrayList<>();
    List<Path> level = new ArrayList<>();
    Map<Path, FileStatus[]> singleFiles = new LinkedHashMap<>();
    for (String root : roots) {
      Path p = new Path(root);
      FileSystem fs = fs(p);
      p = fs.makeQualified(p);
      try {
        FileStatus st = fs.getFileStatus(p);
        if (st.isDirectory()) {
          level.add(p);
        } else {
          // A prefix's index or data file given directly: look at its directory, keep its prefix
          // only.
          singleFiles.put(p.getParent(), fs.listStatus(p.getParent()));
          singleRoots.add(stripToPrefix(p.toString()));
        }
      } catch (FileNotFoundException e) {
        // Maybe a prefix: prefix.index exists.
        Path index = new Path(p + Naming.INDEX_SUFFIX);
        try {
          fs.getFileStatus(index);
          singleFiles.put(p.getParent(), fs.listStatus(p.getParent()));
          singleRoots.add(p.toString());
        } catch (FileNotFoundException e2) {
          rootProblems.add(
              "Cannot discover checkpoints under " + root + ": no such file or directory");
        } catch (IOException e2) {
          rootProblems.add("Cannot discover checkpoints under " + root + ": " + e2.getMessage());
        }
      } catch (IOException e) {
        rootProblems.add("Cannot discover checkpoints under " + root + ": " + e.getMessage());
      }
    }
    Map<String, DiscoveredCheckpoint> found = new java.util.TreeMap<>();
    for (Map.Entry<Path, FileStatus[]> e : singleFiles.entrySet()) {
      for (DiscoveredCheckpoint c : examine(e.getKey(), e.getValue())) {
        if (singleRoots.contains(c.prefix())) {
          found.put(c.kind().label() + " " + c.prefix(), c);
        }
      }
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            options.threads(),
            r -> {
              Thread t = new Thread(r, "rebundle-discover");
              t.setDaemon(true);
              return t;
            });
    Set<Path> seen = new HashSet<>();
    int directories = 0;
    try {
      int depth = 0;
      while (!level.isEmpty()) {
        List<Future<Listing>> futures = new ArrayList<>();
        for (Path dir : level) {
          if (!seen.add(dir)) {
            continue;
          }
          if (++directories > options.maxDirectories()) {
            rootProblems.add(
                "Cannot discover all checkpoints: more than "
                    + options.maxDirectories()
                    + " directories; stopped before "
                    + dir);
            break;
          }
          int d = depth;
          futures.add(pool.submit(() -> list(dir, d)));
        }
        List<Path> next = new ArrayList<>();
        for (Future<Listing> f : futures) {
          Listing l = get(f);
          if (l.problem() != null) {
            rootProblems.add(l.problem());
            continue;
          }
          for (DiscoveredCheckpoint c : examine(l.dir(), l.entries())) {
            found.put(c.kind().label() + " " + c.prefix(), c);
          }
          boolean descend = options.recursive();
          for (FileStatus s : l.entries()) {
            if (!s.isDirectory()) {
              continue;
            }
            String name = s.getPath().getName();
            boolean variables = name.equals("variables");
            if (name.startsWith(".") || name.startsWith("_")) {
              continue; // hidden and staging directories (Spark's, Hadoop's, ours)
            }
            if (descend || variables) {
              if (l.depth() + 1 > options.maxDepth()) {
                rootProblems.add(
                    "Cannot discover checkpoints below "
                        + s.getPath()
                        + ": deeper than "
                        + options.maxDepth()
                        + " directories");
              } else {
                next.add(s.getPath());
              }
            }
          }
        }
        level = next;
        depth++;
      }
    } finally {
      pool.shutdownNow();
    }
    return new Result(new ArrayList<>(found.values()), rootProblems);
  }

  private final Set<String> singleRoots = new HashSet<>();

  private static String stripToPrefix(String location) {
    if (location.endsWith(Naming.INDEX_SUFFIX)) {
      return location.substring(0, location.length() - Naming.INDEX_SUFFIX.length());
    }
    Matcher m = DATA_FILE.matcher(location);
    return m.matches() ? m.group(1) : location;
  }

  private static Listing get(Future<Listing> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while discovering checkpoints", e);
    }
  }

  private Listing list(Path dir, int depth) {
    try {
      FileStatus[] entries = fs(dir).listStatus(dir);
      java.util.Arrays.sort(
          entries, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
      return new Listing(dir, depth, entries, null);
    } catch (FileNotFoundException e) {
      return new Listing(dir, depth, new FileStatus[0], null); // deleted while we listed
    } catch (IOException e) {
      return new Listing(dir, depth, null, "Cannot list " + dir + ": " + e.getMessage());
    }
  }

  private FileSystem fs(Path p) {
    try {
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot access file system of " + p + ": " + e.getMessage(), e);
    }
  }

  private boolean passesFilters(FileStatus index, String prefixName) {
    if (glob != null && !glob.accept(new Path(prefixName)) && !glob.accept(index.getPath())) {
      return false;
    }
    long m = index.getModificationTime();
    return m > options.modifiedAfter() && m < options.modifiedBefore();
  }

  /** Everything one directory's listing shows. */
  private List<DiscoveredCheckpoint> examine(Path dir, FileStatus[] entries) {
    String d = dir.toString();
    Map<String, FileStatus> files = new HashMap<>();
    for (FileStatus s : entries) {
      if (s.isFile()) {
        files.put(s.getPath().getName(), s);
      }
    }
    boolean isVariables =
        dir.getName().equals("variables")
            && dir.getParent() != null
            && hasSavedModelFile(dir.getParent());
    String modelDir = isVariables ? dir.getParent().toString() : d;
    // Data files by prefix name.
    Map<String, Map<String, Long>> dataByPrefix = new HashMap<>();
    for (FileStatus s : files.values()) {
      Matcher m = DATA_FILE.matcher(s.getPath().getName());
      if (m.matches()) {
        dataByPrefix
            .computeIfAbsent(m.group(1), k -> new java.util.TreeMap<>())
            .put(s.getPath().getName(), s.getLen());
      }
    }
    // The state file.
    String latest = null;
    Set<String> kept = new java.util.LinkedHashSet<>();
    List<DiscoveredCheckpoint> out = new ArrayList<>();
    String stateFile = join(d, Naming.STATE_FILE);
    if (files.containsKey(Naming.STATE_FILE)) {
      try {
        CheckpointState state = CheckpointState.read(io, stateFile);
        latest = localName(state.modelCheckpointPath(), d);
        kept.add(latest);
        for (String p : state.allModelCheckpointPaths()) {
          kept.add(localName(p, d));
        }
      } catch (RebundleException | UncheckedIOException e) {
        out.add(
            new DiscoveredCheckpoint(
                stateFile,
                modelDir,
                DiscoveredCheckpoint.Kind.DANGLING_STATE,
                false,
                -1,
                -1,
                Map.of(),
                List.of(e.getMessage())));
      }
    }
    Set<String> prefixes = new java.util.TreeSet<>();
    for (String name : files.keySet()) {
      if (name.endsWith(Naming.INDEX_SUFFIX) && name.length() > Naming.INDEX_SUFFIX.length()) {
        prefixes.add(name.substring(0, name.length() - Naming.INDEX_SUFFIX.length()));
      }
    }
    for (String name : prefixes) {
      FileStatus index = files.get(name + Naming.INDEX_SUFFIX);
      if (!passesFilters(index, name)) {
        continue;
      }
      boolean savedModel = isVariables && name.equals("variables");
      out.add(
          new DiscoveredCheckpoint(
              join(d, name),
              modelDir,
              savedModel
                  ? DiscoveredCheckpoint.Kind.SAVED_MODEL
                  : DiscoveredCheckpoint.Kind.CHECKPOINT,
              savedModel || name.equals(latest),
              index.getLen(),
              index.getModificationTime(),
              dataByPrefix.getOrDefault(name, Map.of()),
              List.of()));
    }
    if (isVariables && !prefixes.contains("variables")) {
      out.add(
          new DiscoveredCheckpoint(
              join(d, "variables"),
              modelDir,
              DiscoveredCheckpoint.Kind.SAVED_MODEL,
              true,
              -1,
              -1,
              dataByPrefix.getOrDefault("variables", Map.of()),
              List.of(
                  "SavedModel "
                      + modelDir
                      + " has no variables/variables.index; it is truncated or was "
                      + "copied incompletely")));
    }
    // Data files without an index (the SavedModel case above already reported its own).
    for (Map.Entry<String, Map<String, Long>> e :
        new java.util.TreeMap<>(dataByPrefix).entrySet()) {
      if (prefixes.contains(e.getKey()) || (isVariables && e.getKey().equals("variables"))) {
        continue;
      }
      for (Map.Entry<String, Long> f : e.getValue().entrySet()) {
        out.add(
            new DiscoveredCheckpoint(
                join(d, e.getKey()),
                modelDir,
                DiscoveredCheckpoint.Kind.ORPHAN_DATA,
                false,
                -1,
                -1,
                Map.of(f.getKey(), f.getValue()),
                List.of(
                    "data file "
                        + join(d, f.getKey())
                        + " has no index "
                        + join(d, e.getKey())
                        + Naming.INDEX_SUFFIX)));
      }
    }
    // V1 checkpoints: files the state file names, and files named like V1 shards.
    Set<String> v1Candidates = new java.util.TreeSet<>();
    for (String name : files.keySet()) {
      if (V1_SHARD.matcher(name).matches() && !DATA_FILE.matcher(name).matches()) {
        v1Candidates.add(name);
      }
    }
    for (String k : kept) {
      if (files.containsKey(k) && !prefixes.contains(k)) {
        v1Candidates.add(k);
      }
    }
    Set<String> v1Prefixes = new HashSet<>();
    for (String name : v1Candidates) {
      FileStatus f = files.get(name);
      if (!passesFilters(f, name) || !isLegacyV1(f.getPath())) {
        continue;
      }
      Matcher shard = Pattern.compile("(.+)-\\d{5,}-of-\\d{5,}").matcher(name);
      String v1Prefix = shard.matches() ? shard.group(1) : name;
      v1Prefixes.add(v1Prefix);
      out.add(
          new DiscoveredCheckpoint(
              join(d, name),
              modelDir,
              DiscoveredCheckpoint.Kind.V1,
              v1Prefix.equals(latest) || name.equals(latest),
              -1,
              f.getModificationTime(),
              Map.of(),
              List.of(
                  "Cannot read checkpoint "
                      + join(d, name)
                      + ": it is a legacy V1 checkpoint "
                      + "(SavedTensorSlices); convert it with TensorFlow first")));
    }
    // Kept checkpoints that are gone.
    for (String k : kept) {
      if (prefixes.contains(k) || v1Prefixes.contains(k) || files.containsKey(k)) {
        continue;
      }
      out.add(
          new DiscoveredCheckpoint(
              join(d, k),
              modelDir,
              DiscoveredCheckpoint.Kind.DANGLING_STATE,
              k.equals(latest),
              -1,
              -1,
              Map.of(),
              List.of(
                  "The checkpoint state file "
                      + stateFile
                      + " names "
                      + k
                      + (k.equals(latest) ? " as its latest checkpoint" : "")
                      + ", which does not exist: no "
                      + join(d, k)
                      + Naming.INDEX_SUFFIX)));
    }
    return out;
  }

  /**
   * A state file path as a name in its directory: relative paths as they are, absolute ones by
   * their last component when they point elsewhere (the directory was moved, as the locator
   * assumes).
   */
  private static String localName(String path, String dir) {
    if (path.startsWith("/") || path.contains("://")) {
      String name = new Path(path).getName();
      return name;
    }
    return path;
  }

  private boolean hasSavedModelFile(Path dir) {
    FileSystem fs = fs(dir);
    for (String f : SAVED_MODEL_FILES) {
      try {
        if (fs.exists(new Path(dir, f))) {
          return true;
        }
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  /**
   * A V1 checkpoint is an SSTable whose first entry has the empty key and a SavedTensorSlices
   * value.
   */
  private boolean isLegacyV1(Path p) {
    try (RangeReader r = io.newInputFile(p.toString()).open()) {
      if (r.length() < Footer.ENCODED_LENGTH
          || !Footer.hasMagic(
              r.readFully(r.length() - Footer.ENCODED_LENGTH, Footer.ENCODED_LENGTH))) {
        return false;
      }
      TableReader.EntryIterator it = new TableReader(r).iterator();
      return it.next() && it.key().length == 0 && it.value().length > 0 && it.value()[0] == 0x0A;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static String join(String dir, String name) {
    return dir.endsWith("/") ? dir + name : dir + "/" + name;
  }
}
