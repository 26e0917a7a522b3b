package io.rebundle.codec.safetensors;

import io.rebundle.codec.safetensors.SafetensorsHeader.TensorSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Plans the files of a safetensors export before any byte is written: which tensors go to which
 * file, and each file's header. A single file holds everything; a sharded layout fills shards in
 * the given tensor order up to {@code maxShardBytes} of tensor data each (a larger tensor gets a
 * shard of its own), names them {@code model-00001-of-0000N.safetensors} and adds the index json,
 * as transformers' {@code save_pretrained} does (and, like it, writes a lone {@code
 * model.safetensors} without an index when everything fits in one shard). Within each file tensors
 * are laid out in the reference writer's order. Immutable.
 */
public record SafetensorsLayout(List<PlannedFile> files, SafetensorsIndex index) {
  /** The file name of an unsharded model in a directory. */
  public static final String SINGLE_FILE_NAME = "model.safetensors";

  /**
   * One file to write: its name (relative to the output directory, or the output itself) and
   * header.
   */
  public record PlannedFile(String name, SafetensorsHeader header) {}

  public SafetensorsLayout {
    files = List.copyOf(files);
  }

  /** Everything in one file named {@code name}. Duplicate names are refused. */
  public static SafetensorsLayout single(
      String name, Map<String, String> metadata, List<TensorSpec> specs) {
    checkUnique(specs);
    return new SafetensorsLayout(
        List.of(new PlannedFile(name, SafetensorsHeader.layout(metadata, specs))), null);
  }

  /** Shards of at most {@code maxShardBytes} tensor bytes (see the class comment). */
  public static SafetensorsLayout sharded(
      Map<String, String> metadata, List<TensorSpec> specs, long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException(
          "Invalid shard size: " + maxShardBytes + " (must be positive)");
    }
    checkUnique(specs);
    List<List<TensorSpec>> groups = new ArrayList<>();
    List<TensorSpec> group = new ArrayList<>();
    long bytes = 0;
    for (TensorSpec s : specs) {
      long size = s.size();
      if (!group.isEmpty() && size > maxShardBytes - bytes) {
        groups.add(group);
        group = new ArrayList<>();
        bytes = 0;
      }
      group.add(s);
      bytes += size;
    }
    if (!group.isEmpty() || groups.isEmpty()) {
      groups.add(group);
    }
    if (groups.size() == 1) {
      return single(SINGLE_FILE_NAME, metadata, groups.get(0));
    }
    List<PlannedFile> files = new ArrayList<>();
    Map<String, String> weightMap = new TreeMap<>();
    long total = 0;
    for (int i = 0; i < groups.size(); i++) {
      String name = SafetensorsIndex.shardFileName(i, groups.size());
      files.add(new PlannedFile(name, SafetensorsHeader.layout(metadata, groups.get(i))));
      for (TensorSpec s : groups.get(i)) {
        weightMap.put(s.name(), name);
        total += s.size();
      }
    }
    return new SafetensorsLayout(files, new SafetensorsIndex(total, weightMap, Map.of()));
  }

  private static void checkUnique(List<TensorSpec> specs) {
    Set<String> seen = new HashSet<>();
    for (TensorSpec s : specs) {
      if (s.name().equals(SafetensorsHeader.METADATA_KEY)) {
        throw new IllegalArgumentException(
            "Cannot write tensor "
                + s.name()
                + " to safetensors: the name is "
                + "reserved for the header's metadata");
      }
      if (!seen.add(s.name())) {
        throw new IllegalArgumentException(
            "Cannot write safetensors: two tensors are named " + s.name());
      }
    }
  }
}
