package io.rebundle.codec.safetensors;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code model.safetensors.index.json}, the index of a sharded safetensors model as transformers
 * writes it: {@code {"metadata": {"total_size": BYTES}, "weight_map": {TENSOR: SHARD_FILE}}}, where
 * {@code total_size} is the sum of the tensors' data bytes (headers excluded). Immutable; the
 * weight map is sorted by tensor name, as transformers writes it ({@code sort_keys=True}). A {@code
 * totalSize} of -1 means a parsed index had none.
 */
public record SafetensorsIndex(
    long totalSize, Map<String, String> weightMap, Map<String, Object> otherMetadata) {
  /** The index's file name in a model directory. */
  public static final String FILE_NAME = "model.safetensors.index.json";

  /**
   * More shards than any real model has; bounds the shard list a hostile index can make us open.
   */
  public static final int MAX_SHARDS = 100_000;

  public SafetensorsIndex {
    if (totalSize < -1) {
      throw new IllegalArgumentException("Invalid safetensors index: total_size " + totalSize);
    }
    weightMap = Collections.unmodifiableMap(new TreeMap<>(weightMap));
    otherMetadata =
        otherMetadata == null
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(otherMetadata));
  }

  /** The shard file names, in name order. */
  public List<String> shardFiles() {
    return new ArrayList<>(new java.util.TreeSet<>(weightMap.values()));
  }

  /** The shard file name transformers uses: {@code model-00001-of-00003.safetensors} (1-based). */
  public static String shardFileName(int index, int count) {
    return String.format("model-%05d-of-%05d.safetensors", index + 1, count);
  }

  /** Parses an index read from {@code file}; any deviation is a corruption naming the file. */
  public static SafetensorsIndex parse(String file, byte[] bytes) {
    Object root;
    try {
      root = HeaderJson.parse(new String(bytes, StandardCharsets.UTF_8));
    } catch (HeaderJson.SyntaxException e) {
      throw SafetensorsErrors.corrupt(
          file, "not valid JSON: " + e.getMessage() + " at character " + e.position);
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw SafetensorsErrors.corrupt(file, "not a JSON object");
    }
    if (!(top.get("weight_map") instanceof Map<?, ?> wm)) {
      throw SafetensorsErrors.corrupt(file, "no \"weight_map\" object");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    java.util.Set<String> shards = new java.util.HashSet<>();
    for (Map.Entry<?, ?> kv : wm.entrySet()) {
      if (!(kv.getValue() instanceof String shard)
          || shard.isEmpty()
          || shard.contains("/")
          || shard.contains("\\")
          || shard.equals("..")
          || shard.equals(".")) {
        throw SafetensorsErrors.corrupt(
            file,
            "weight_map entry '"
                + kv.getKey()
                + "' does not name a file in the "
                + "index's directory: "
                + kv.getValue());
      }
      shards.add(shard);
      if (shards.size() > MAX_SHARDS) {
        throw SafetensorsErrors.corrupt(
            file, "weight_map names more than " + MAX_SHARDS + " shard files");
      }
      weightMap.put((String) kv.getKey(), shard);
    }
    long totalSize = -1;
    Map<String, Object> other = new LinkedHashMap<>();
    if (top.get("metadata") instanceof Map<?, ?> meta) {
      for (Map.Entry<?, ?> kv : meta.entrySet()) {
        if (kv.getKey().equals("total_size")) {
          if (!(kv.getValue() instanceof Long l) || l < 0) {
            throw SafetensorsErrors.corrupt(
                file, "metadata.total_size is not a non-negative integer: " + kv.getValue());
          }
          totalSize = l;
        } else {
          other.put((String) kv.getKey(), kv.getValue());
        }
      }
    } else if (top.containsKey("metadata") && top.get("metadata") != null) {
      throw SafetensorsErrors.corrupt(file, "\"metadata\" is not an object");
    }
    return new SafetensorsIndex(totalSize, weightMap, other);
  }

  /** Whether the parsed index carried {@code metadata.total_size}. */
  public boolean hasTotalSize() {
    return totalSize >= 0;
  }

  /**
   * The JSON text, indented by two spaces and keys sorted, as transformers writes it, with a final
   * newline.
   */
  public byte[] encode() {
    if (totalSize < 0) {
      throw new IllegalStateException("Cannot write safetensors index: total_size is unknown");
    }
    StringBuilder sb = new StringBuilder(64 + weightMap.size() * 80);
    sb.append("{\n  \"metadata\": {\n    \"total_size\": ")
        .append(totalSize)
        .append("\n  },\n  \"weight_map\": {");
    boolean first = true;
    for (Map.Entry<String, String> kv : weightMap.entrySet()) {
      sb.append(first ? "\n    " : ",\n    ");
      first = false;
      HeaderJson.quote(sb, kv.getKey()).append(": ");
      HeaderJson.quote(sb, kv.getValue());
    }
    sb.append(first ? "}\n}\n" : "\n  }\n}\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
