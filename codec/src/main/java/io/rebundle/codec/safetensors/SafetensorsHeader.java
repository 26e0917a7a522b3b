package io.rebundle.codec.safetensors;

import io.rebundle.codec.bundle.TensorShape;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header of a safetensors file: an 8-byte little-endian length N, then N bytes of UTF-8 JSON
 * mapping each tensor name to {@link SafetensorsEntry} fields, plus an optional {@code
 * "__metadata__"} map of strings. The reference writer pads the JSON with spaces so the data starts
 * on an 8-byte boundary, and refuses headers over {@link #MAX_HEADER_SIZE} bytes.
 *
 * <p>{@link #parse} is the strict reader: every number is checked before it is used, the entries
 * must tile the data region exactly (sorted by offset, each starting where the previous ended, the
 * last ending at the end of the file), and every entry's size must equal elements × element size.
 * {@link #encode} is the writer's mirror. Immutable; entries are in data-offset order.
 */
public record SafetensorsHeader(Map<String, String> metadata, List<SafetensorsEntry> entries) {
  /** The reference implementation's limit on N (safetensors {@code MAX_HEADER_SIZE}). */
  public static final int MAX_HEADER_SIZE = 100_000_000;

  /** The key of the free-form string map. */
  public static final String METADATA_KEY = "__metadata__";

  /** Bytes of the length prefix. */
  public static final int LENGTH_BYTES = 8;

  public SafetensorsHeader {
    metadata = metadata == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    entries = List.copyOf(entries);
    Set<String> names = new HashSet<>();
    long at = 0;
    for (SafetensorsEntry e : entries) {
      if (!names.add(e.name())) {
        throw new IllegalArgumentException(
            "Invalid safetensors header: duplicate tensor name " + e.name());
      }
      if (e.name().equals(METADATA_KEY)) {
        throw new IllegalArgumentException(
            "Invalid safetensors header: a tensor cannot be named " + METADATA_KEY);
      }
      if (e.begin() != at) {
        throw new IllegalArgumentException(
            "Invalid safetensors header: tensor "
                + e.name()
                + " starts at "
                + e.begin()
                + ", expected "
                + at);
      }
      at = e.end();
    }
  }

  /** Bytes of the data region: the end of the last entry. */
  public long dataLength() {
    return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).end();
  }

  /** The entry named {@code name}, or null. */
  public SafetensorsEntry entry(String name) {
    for (SafetensorsEntry e : entries) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    return null;
  }

  /**
   * The order the reference writer lays tensors out in: element type by decreasing alignment (the
   * reverse of {@link SafetensorsDType}'s declaration order), then name (byte order of UTF-8, which
   * for Java strings is code point order).
   */
  public static final Comparator<SafetensorsEntry> WRITER_ORDER =
      Comparator.comparing((SafetensorsEntry e) -> e.dtype().ordinal(), Comparator.reverseOrder())
          .thenComparing(SafetensorsEntry::name, SafetensorsHeader::compareUtf8);

  static int compareUtf8(String a, String b) {
    return java.util.Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Checks and decodes the length prefix: at least 2 (the smallest JSON object), at most {@link
   * #MAX_HEADER_SIZE}, and inside a file of {@code fileLength} bytes.
   */
  public static int headerLength(String file, byte[] prefix, long fileLength) {
    if (fileLength < LENGTH_BYTES) {
      throw SafetensorsErrors.corrupt(
          file, "file is " + fileLength + " bytes, too short for the 8-byte header length");
    }
    long n = 0;
    for (int i = LENGTH_BYTES - 1; i >= 0; i--) {
      n = (n << 8) | (prefix[i] & 0xFF);
    }
    if (n < 0 || n > MAX_HEADER_SIZE) {
      throw SafetensorsErrors.corruptAt(
          file,
          0,
          "header length "
              + Long.toUnsignedString(n)
              + " exceeds the format's limit of "
              + MAX_HEADER_SIZE
              + " bytes");
    }
    if (n < 2) {
      throw SafetensorsErrors.corruptAt(
          file, 0, "header length " + n + " is too small for a JSON object");
    }
    if (n > fileLength - LENGTH_BYTES) {
      throw SafetensorsErrors.corruptAt(
          file,
          0,
          "header length " + n + " runs past the end of the file (" + fileLength + " bytes)");
    }
    return (int) n;
  }

  /**
   * Parses the {@code json} bytes of a header read from {@code file} and checks them against a file
   * of {@code fileLength} bytes. Throws a corruption naming the file (and the tensor) on any
   * violation, and an unsupported-input error for a dtype Rebundle does not know.
   */
  public static SafetensorsHeader parse(String file, byte[] json, long fileLength) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(json))
              .toString();
    } catch (CharacterCodingException e) {
      throw SafetensorsErrors.corrupt(file, "header is not valid UTF-8");
    }
    if (!text.startsWith("{")) {
      throw SafetensorsErrors.corruptAt(file, LENGTH_BYTES, "header does not start with '{'");
    }
    Object root;
    try {
      root = HeaderJson.parse(text);
    } catch (HeaderJson.SyntaxException e) {
      throw SafetensorsErrors.corruptAt(
          file,
          LENGTH_BYTES + utf8Offset(text, e.position),
          "header is not valid JSON: " + e.getMessage());
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw SafetensorsErrors.corrupt(file, "header is not a JSON object");
    }
    Map<String, String> metadata = null;
    List<SafetensorsEntry> entries = new ArrayList<>(top.size());
    for (Map.Entry<?, ?> kv : top.entrySet()) {
      String name = (String) kv.getKey();
      if (name.equals(METADATA_KEY)) {
        metadata = metadata(file, kv.getValue());
      } else {
        entries.add(entry(file, name, kv.getValue()));
      }
    }
    // The reference reader sorts by offsets before checking that they tile the data: files written
    // by other tools may list tensors in any order.
    entries.sort(
        Comparator.comparingLong(SafetensorsEntry::begin).thenComparingLong(SafetensorsEntry::end));
    long dataLength = fileLength - LENGTH_BYTES - json.length;
    long at = 0;
    for (SafetensorsEntry e : entries) {
      if (e.begin() != at) {
        throw SafetensorsErrors.corruptTensor(
            file,
            e.name(),
            e.begin() < at
                ? "overlaps the previous tensor: data_offsets start at "
                    + e.begin()
                    + ", previous tensor ends at "
                    + at
                : "leaves a hole: data_offsets start at "
                    + e.begin()
                    + ", previous tensor ends at "
                    + at);
      }
      if (e.end() > dataLength) {
        throw SafetensorsErrors.corruptTensor(
            file,
            e.name(),
            "has data_offsets ["
                + e.begin()
                + ", "
                + e.end()
                + "] past the end of the data ("
                + dataLength
                + " bytes)");
      }
      at = e.end();
    }
    if (at != dataLength) {
      throw SafetensorsErrors.corrupt(
          file,
          "tensors cover "
              + at
              + " of the "
              + dataLength
              + " data bytes; the last tensor must end at the end of the file");
    }
    return new SafetensorsHeader(metadata, entries);
  }

  private static Map<String, String> metadata(String file, Object value) {
    if (!(value instanceof Map<?, ?> m)) {
      throw SafetensorsErrors.corrupt(file, METADATA_KEY + " is not a JSON object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> kv : m.entrySet()) {
      if (!(kv.getValue() instanceof String s)) {
        throw SafetensorsErrors.corrupt(
            file, METADATA_KEY + " value for '" + kv.getKey() + "' is not a string");
      }
      out.put((String) kv.getKey(), s);
    }
    return out;
  }

  private static SafetensorsEntry entry(String file, String name, Object value) {
    if (!(value instanceof Map<?, ?> m)) {
      throw SafetensorsErrors.corruptTensor(
          file, name, "is not a JSON object {dtype, shape, data_offsets}");
    }
    for (Object k : m.keySet()) {
      if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
        throw SafetensorsErrors.corruptTensor(file, name, "has unknown field '" + k + "'");
      }
    }
    if (!(m.get("dtype") instanceof String dtypeName)) {
      throw SafetensorsErrors.corruptTensor(file, name, "has no dtype string");
    }
    SafetensorsDType dtype = SafetensorsDType.byName(dtypeName);
    if (dtype == null) {
      throw SafetensorsErrors.unknownDtype(file, name, dtypeName);
    }
    if (!(m.get("shape") instanceof List<?> shapeList)) {
      throw SafetensorsErrors.corruptTensor(file, name, "has no shape list");
    }
    if (shapeList.size() > TensorShape.MAX_RANK) {
      throw SafetensorsErrors.corruptTensor(
          file, name, "has rank " + shapeList.size() + ", more than " + TensorShape.MAX_RANK);
    }
    long[] dims = new long[shapeList.size()];
    BigInteger elements = BigInteger.ONE;
    for (int i = 0; i < dims.length; i++) {
      Object d = shapeList.get(i);
      if (!(d instanceof Long l) || l < 0) {
        throw SafetensorsErrors.corruptTensor(
            file, name, "has invalid dimension " + d + " in its shape");
      }
      dims[i] = l;
      elements = elements.multiply(BigInteger.valueOf(l));
    }
    if (!(m.get("data_offsets") instanceof List<?> offsets)
        || offsets.size() != 2
        || !(offsets.get(0) instanceof Long begin)
        || !(offsets.get(1) instanceof Long end)) {
      throw SafetensorsErrors.corruptTensor(
          file, name, "has no data_offsets [begin, end] of two integers");
    }
    if (begin < 0 || end < begin) {
      throw SafetensorsErrors.corruptTensor(
          file, name, "has invalid data_offsets [" + begin + ", " + end + "]");
    }
    BigInteger expected = elements.multiply(BigInteger.valueOf(dtype.elementSize()));
    if (!expected.equals(BigInteger.valueOf(end - begin))) {
      throw SafetensorsErrors.corruptTensor(
          file,
          name,
          "holds "
              + (end - begin)
              + " bytes but dtype "
              + dtypeName
              + " and shape "
              + java.util.Arrays.toString(dims)
              + " need "
              + expected);
    }
    TensorShape shape;
    try {
      shape = TensorShape.of(dims);
    } catch (IllegalArgumentException e) {
      throw SafetensorsErrors.corruptTensor(file, name, "has an invalid shape: " + e.getMessage());
    }
    return new SafetensorsEntry(name, dtype, shape, begin, end);
  }

  private static long utf8Offset(String text, int charPosition) {
    int end = Math.min(charPosition, text.length());
    return text.substring(0, end).getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * The bytes a file starts with: the length prefix, then the JSON (the metadata first, then the
   * entries in their order), padded with spaces to a multiple of 8 bytes as the reference writer
   * pads.
   */
  public byte[] encode() {
    StringBuilder sb = new StringBuilder(64 + entries.size() * 96);
    sb.append('{');
    boolean first = true;
    if (metadata != null) {
      HeaderJson.quote(sb, METADATA_KEY).append(":{");
      boolean firstMeta = true;
      for (Map.Entry<String, String> kv : metadata.entrySet()) {
        if (!firstMeta) {
          sb.append(',');
        }
        firstMeta = false;
        HeaderJson.quote(sb, kv.getKey()).append(':');
        HeaderJson.quote(sb, kv.getValue());
      }
      sb.append('}');
      first = false;
    }
    for (SafetensorsEntry e : entries) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      HeaderJson.quote(sb, e.name()).append(":{\"dtype\":");
      HeaderJson.quote(sb, e.dtype().name()).append(",\"shape\":[");
      long[] dims = e.shape().dims();
      for (int i = 0; i < dims.length; i++) {
        sb.append(i == 0 ? "" : ",").append(dims[i]);
      }
      sb.append("],\"data_offsets\":[").append(e.begin()).append(',').append(e.end()).append("]}");
    }
    sb.append('}');
    byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    if (padded > MAX_HEADER_SIZE) {
      throw new IllegalArgumentException(
          "Cannot write safetensors header: "
              + padded
              + " bytes exceed the format's "
              + "limit of "
              + MAX_HEADER_SIZE
              + " (split the tensors over more shards)");
    }
    byte[] out = new byte[LENGTH_BYTES + padded];
    long n = padded;
    for (int i = 0; i < LENGTH_BYTES; i++) {
      out[i] = (byte) (n >>> (8 * i));
    }
    System.arraycopy(json, 0, out, LENGTH_BYTES, json.length);
    java.util.Arrays.fill(out, LENGTH_BYTES + json.length, out.length, (byte) ' ');
    return out;
  }

  /**
   * A header for tensors laid out as the reference writer lays them: sorted by {@link
   * #WRITER_ORDER}, contiguous from offset 0. {@code specs} need only name, dtype and shape; their
   * offsets are ignored.
   */
  public static SafetensorsHeader layout(Map<String, String> metadata, List<TensorSpec> specs) {
    List<TensorSpec> sorted = new ArrayList<>(specs);
    sorted.sort(TensorSpec.WRITER_ORDER);
    List<SafetensorsEntry> entries = new ArrayList<>(sorted.size());
    long at = 0;
    for (TensorSpec s : sorted) {
      long size = s.size();
      entries.add(
          new SafetensorsEntry(s.name(), s.dtype(), s.shape(), at, Math.addExact(at, size)));
      at += size;
    }
    return new SafetensorsHeader(metadata, entries);
  }

  /** What the writer needs to know of a tensor before its bytes: name, dtype, shape. */
  public record TensorSpec(String name, SafetensorsDType dtype, TensorShape shape) {
    public static final Comparator<TensorSpec> WRITER_ORDER =
        Comparator.comparing((TensorSpec e) -> e.dtype().ordinal(), Comparator.reverseOrder())
            .thenComparing(TensorSpec::name, SafetensorsHeader::compareUtf8);

    public TensorSpec {
      if (name == null || name.isEmpty() || dtype == null || shape == null) {
        throw new IllegalArgumentException(
            "Invalid tensor spec: name, dtype and shape are required");
      }
    }

    /** Bytes of the tensor: elements × element size. */
    public long size() {
      return Math.multiplyExact(shape.numElements(), (long) dtype.elementSize());
    }
  }
}
