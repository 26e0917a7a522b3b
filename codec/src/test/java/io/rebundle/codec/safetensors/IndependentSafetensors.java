package io.rebundle.codec.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors reader written for the tests from the format's description alone, sharing no code
 * with the production reader: a tiny JSON parser and raw byte slicing. It asserts the layout rules
 * the reference writer follows (8-byte little-endian length, JSON padded with spaces to 8 bytes,
 * contiguous offsets ending at the end of the file) as it parses.
 */
final class IndependentSafetensors {
  /** One tensor as the test sees it. */
  record T(String name, String dtype, List<Long> shape, long begin, long end, byte[] bytes) {}

  /** A parsed file: header text, metadata, tensors in header (JSON) order. */
  record Parsed(String headerText, Map<String, String> metadata, List<T> tensors) {}

  static Parsed parse(byte[] file) {
    long n = 0;
    for (int i = 7; i >= 0; i--) {
      n = (n << 8) | (file[i] & 0xFF);
    }
    assertEquals(0, n % 8, "header length is a multiple of 8");
    assertTrue(8 + n <= file.length, "header fits in the file");
    String text = new String(file, 8, (int) n, StandardCharsets.UTF_8);
    String trimmed = text.stripTrailing();
    for (int i = trimmed.length(); i < text.length(); i++) {
      assertEquals(' ', text.charAt(i), "header padding is spaces");
    }
    assertTrue(text.length() - trimmed.length() < 8, "padding is less than 8 bytes");
    int[] at = {0};
    @SuppressWarnings("unchecked")
    Map<String, Object> root = (Map<String, Object>) value(trimmed, at);
    assertEquals(trimmed.length(), at[0], "nothing after the JSON object but padding");
    Map<String, String> metadata = null;
    List<T> tensors = new ArrayList<>();
    long expectedBegin = 0;
    long dataStart = 8 + n;
    for (Map.Entry<String, Object> e : root.entrySet()) {
      if (e.getKey().equals("__metadata__")) {
        metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : ((Map<?, ?>) e.getValue()).entrySet()) {
          metadata.put((String) kv.getKey(), (String) kv.getValue());
        }
        continue;
      }
      Map<?, ?> info = (Map<?, ?>) e.getValue();
      assertEquals(
          List.of("dtype", "shape", "data_offsets"), new ArrayList<>(info.keySet()), "field order");
      List<?> offsets = (List<?>) info.get("data_offsets");
      long begin = (Long) offsets.get(0);
      long end = (Long) offsets.get(1);
      assertEquals(
          expectedBegin, begin, "tensor " + e.getKey() + " starts where the previous ended");
      expectedBegin = end;
      List<Long> shape = new ArrayList<>();
      for (Object d : (List<?>) info.get("shape")) {
        shape.add((Long) d);
      }
      tensors.add(
          new T(
              e.getKey(),
              (String) info.get("dtype"),
              shape,
              begin,
              end,
              Arrays.copyOfRange(file, (int) (dataStart + begin), (int) (dataStart + end))));
    }
    assertEquals(
        file.length, dataStart + expectedBegin, "the last tensor ends at the end of the file");
    return new Parsed(text, metadata, tensors);
  }

  private static Object value(String s, int[] at) {
    char c = s.charAt(at[0]);
    if (c == '{') {
      Map<String, Object> m = new LinkedHashMap<>();
      at[0]++;
      if (s.charAt(at[0]) == '}') {
        at[0]++;
        return m;
      }
      while (true) {
        String k = (String) value(s, at);
        assertEquals(':', s.charAt(at[0]++));
        m.put(k, value(s, at));
        char d = s.charAt(at[0]++);
        if (d == '}') {
          return m;
        }
        assertEquals(',', d);
      }
    }
    if (c == '[') {
      List<Object> l = new ArrayList<>();
      at[0]++;
      if (s.charAt(at[0]) == ']') {
        at[0]++;
        return l;
      }
      while (true) {
        l.add(value(s, at));
        char d = s.charAt(at[0]++);
        if (d == ']') {
          return l;
        }
        assertEquals(',', d);
      }
    }
    if (c == '"') {
      StringBuilder sb = new StringBuilder();
      at[0]++;
      while (s.charAt(at[0]) != '"') {
        char x = s.charAt(at[0]++);
        if (x == '\\') {
          char y = s.charAt(at[0]++);
          sb.append(y == 'n' ? '\n' : y == 't' ? '\t' : y);
        } else {
          sb.append(x);
        }
      }
      at[0]++;
      return sb.toString();
    }
    int start = at[0];
    while (at[0] < s.length() && (Character.isDigit(s.charAt(at[0])) || s.charAt(at[0]) == '-')) {
      at[0]++;
    }
    return Long.parseLong(s.substring(start, at[0]));
  }
}
