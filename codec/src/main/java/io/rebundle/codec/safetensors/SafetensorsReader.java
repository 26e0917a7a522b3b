package io.rebundle.codec.safetensors;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.source.TensorSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors model over {@link FileIO}: one {@code .safetensors} file, or a directory
 * holding {@code model.safetensors.index.json} and the shards it names (or holding exactly one
 * {@code .safetensors} file). Every header is parsed strictly when the reader opens ({@link
 * SafetensorsHeader#parse}); a directory's weight map must agree with its shards' headers. Headers
 * are read in one positioned read each, bounded by the format's 100 MB limit and the file's length,
 * so no number from a file sizes an allocation unchecked.
 *
 * <p>The caller owns and closes the reader; data files are opened on first use and closed with it.
 * Not thread-safe.
 */
public final class SafetensorsReader implements TensorSource {
  /** The file extension of a safetensors file. */
  public static final String EXTENSION = ".safetensors";

  /** One file of the model: its location, parsed header, and where its data starts. */
  public record Shard(String location, SafetensorsHeader header, long dataStart, long fileLength) {}

  private final FileIO io;
  private final String location;
  private final List<Shard> shards;
  private final SafetensorsIndex index;
  private final Map<String, SourceTensor> byName;
  private final Map<String, SafetensorsEntry> entries;
  private final List<String> warnings;
  private final Map<Integer, RangeReader> open = new HashMap<>();

  private SafetensorsReader(
      FileIO io,
      String location,
      List<Shard> shards,
      SafetensorsIndex index,
      List<String> warnings) {
    this.io = io;
    this.location = location;
    this.shards = List.copyOf(shards);
    this.index = index;
    this.warnings = List.copyOf(warnings);
    this.byName = new LinkedHashMap<>();
    this.entries = new HashMap<>();
    for (int i = 0; i < shards.size(); i++) {
      Shard s = shards.get(i);
      for (SafetensorsEntry e : s.header().entries()) {
        if (byName.containsKey(e.name())) {
          throw SafetensorsErrors.corrupt(
              s.location(),
              "tensor '"
                  + e.name()
                  + "' is also stored in "
                  + shards.get(byName.get(e.name()).file()).location());
        }
        byName.put(
            e.name(), new SourceTensor(e.name(), e.dtype().tfType(), e.shape(), e.size(), i));
        entries.put(e.name(), e);
      }
    }
  }

  /**
   * Whether {@code path} names safetensors input: a {@code .safetensors} file, an index json, or a
   * directory with an index json or a {@code .safetensors} file (and no TensorFlow {@code
   * checkpoint} file or {@code .index} files, which make it a TensorFlow model directory).
   */
  public static boolean isSafetensors(FileIO io, String path) {
    if (path.endsWith(EXTENSION) || path.endsWith(SafetensorsIndex.FILE_NAME)) {
      return true;
    }
    if (!io.isDirectory(path)) {
      return false;
    }
    List<String> names = io.list(path);
    if (names.contains("checkpoint") || names.stream().anyMatch(n -> n.endsWith(".index"))) {
      return false;
    }
    return names.contains(SafetensorsIndex.FILE_NAME)
        || names.stream().anyMatch(n -> n.endsWith(EXTENSION));
  }

  /** Opens a safetensors file, an index json, or a model directory (see the class comment). */
  public static SafetensorsReader open(FileIO io, String path) {
    if (path.endsWith(SafetensorsIndex.FILE_NAME)) {
      return openIndex(io, path, io.parent(path));
    }
    if (io.isDirectory(path)) {
      List<String> names = io.list(path);
      if (names.contains(SafetensorsIndex.FILE_NAME)) {
        return openIndex(io, io.join(path, SafetensorsIndex.FILE_NAME), path);
      }
      List<String> files = names.stream().filter(n -> n.endsWith(EXTENSION)).toList();
      if (files.size() == 1) {
        String file = io.join(path, files.get(0));
        return new SafetensorsReader(io, path, List.of(readShard(io, file)), null, List.of());
      }
      throw new CheckpointNotFoundException(
          "Cannot open "
              + path
              + " as safetensors: "
              + (files.isEmpty()
                  ? "it holds no " + EXTENSION + " file"
                  : "it holds "
                      + files.size()
                      + " "
                      + EXTENSION
                      + " files but no "
                      + SafetensorsIndex.FILE_NAME));
    }
    return new SafetensorsReader(io, path, List.of(readShard(io, path)), null, List.of());
  }

  private static SafetensorsReader openIndex(FileIO io, String indexFile, String directory) {
    InputFile in = io.newInputFile(indexFile);
    long length = in.length();
    if (length > SafetensorsHeader.MAX_HEADER_SIZE) {
      throw SafetensorsErrors.corrupt(
          indexFile,
          "index is " + length + " bytes, more than " + SafetensorsHeader.MAX_HEADER_SIZE);
    }
    byte[] bytes;
    try (RangeReader r = in.open()) {
      bytes = r.readFully(0, (int) length);
    }
    SafetensorsIndex index = SafetensorsIndex.parse(indexFile, bytes);
    List<Shard> shards = new ArrayList<>();
    Map<String, Integer> shardOf = new HashMap<>();
    for (String name : index.shardFiles()) {
      String file = io.join(directory, name);
      if (!io.exists(file)) {
        throw new CheckpointNotFoundException(
            "Cannot open " + indexFile + ": shard " + name + " named by its weight_map is missing");
      }
      shardOf.put(name, shards.size());
      shards.add(readShard(io, file));
    }
    long total = 0;
    for (int i = 0; i < shards.size(); i++) {
      Shard s = shards.get(i);
      String shardName = io.fileName(s.location());
      for (SafetensorsEntry e : s.header().entries()) {
        String listed = index.weightMap().get(e.name());
        if (!shardName.equals(listed)) {
          throw SafetensorsErrors.corrupt(
              indexFile,
              "tensor '"
                  + e.name()
                  + "' is stored in "
                  + shardName
                  + " but the weight_map "
                  + (listed == null ? "does not list it" : "places it in " + listed));
        }
        total += e.size();
      }
    }
    for (Map.Entry<String, String> kv : index.weightMap().entrySet()) {
      Shard s = shards.get(shardOf.get(kv.getValue()));
      if (s.header().entry(kv.getKey()) == null) {
        throw SafetensorsErrors.corrupt(
            indexFile,
            "weight_map places tensor '"
                + kv.getKey()
                + "' in "
                + kv.getValue()
                + ", whose header does not hold it");
      }
    }
    List<String> warnings = new ArrayList<>();
    if (!index.hasTotalSize()) {
      warnings.add(indexFile + " has no metadata.total_size");
    } else if (index.totalSize() != total) {
      warnings.add(
          indexFile
              + " says metadata.total_size "
              + index.totalSize()
              + " but its shards hold "
              + total
              + " tensor bytes");
    }
    return new SafetensorsReader(io, directory, shards, index, warnings);
  }

  /** Reads and checks one file's header: the 8-byte length, then the JSON in one read. */
  public static Shard readShard(FileIO io, String file) {
    try (RangeReader r = io.newInputFile(file).open()) {
      long fileLength = r.length();
      byte[] prefix = new byte[SafetensorsHeader.LENGTH_BYTES];
      if (fileLength >= prefix.length) {
        r.readFully(0, prefix, 0, prefix.length);
      }
      int n = SafetensorsHeader.headerLength(file, prefix, fileLength);
      byte[] json = r.readFully(SafetensorsHeader.LENGTH_BYTES, n);
      SafetensorsHeader header = SafetensorsHeader.parse(file, json, fileLength);
      return new Shard(file, header, SafetensorsHeader.LENGTH_BYTES + (long) n, fileLength);
    }
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public String format() {
    return "safetensors";
  }

  @Override
  public int numFiles() {
    return shards.size();
  }

  /** The files, in index order (shard names sorted) or the single file. */
  public List<Shard> shards() {
    return shards;
  }

  /** The index of a sharded model, or null for a single file. */
  public SafetensorsIndex index() {
    return index;
  }

  /** Non-fatal disagreements found while opening (an index's total_size). */
  public List<String> warnings() {
    return warnings;
  }

  /** The {@code __metadata__} of the first file (empty if it has none). */
  public Map<String, String> metadata() {
    Map<String, String> m = shards.isEmpty() ? null : shards.get(0).header().metadata();
    return m == null ? Map.of() : m;
  }

  @Override
  public Iterable<SourceTensor> tensors() {
    return Collections.unmodifiableCollection(byName.values());
  }

  @Override
  public SourceTensor find(String name) {
    return byName.get(name);
  }

  /** The header entry of a tensor, or null. */
  public SafetensorsEntry entry(String name) {
    return entries.get(name);
  }

  @Override
  public void readRange(
      SourceTensor t, long offsetInTensor, byte[] buffer, int offset, int length) {
    TensorSource.checkRange(t, offsetInTensor, length);
    SafetensorsEntry e = entries.get(t.name());
    if (e == null) {
      throw new CheckpointNotFoundException("Tensor " + t.name() + " not found in " + location);
    }
    Shard s = shards.get(t.file());
    RangeReader r = open.computeIfAbsent(t.file(), i -> io.newInputFile(s.location()).open());
    r.readFully(s.dataStart() + e.begin() + offsetInTensor, buffer, offset, length);
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (RangeReader r : open.values()) {
      try {
        r.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    open.clear();
    if (first != null) {
      throw first;
    }
  }
}
