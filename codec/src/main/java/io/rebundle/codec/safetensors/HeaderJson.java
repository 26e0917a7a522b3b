package io.rebundle.codec.safetensors;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small, strict JSON reader and writer the safetensors header and index need (RFC 8259).
 * Objects become insertion-ordered maps and duplicate keys are refused (the reference reader's maps
 * would keep one silently); integers become {@link Long} when they fit, {@link BigInteger}
 * otherwise; other numbers {@link Double}. Nesting is bounded, so a hostile header cannot exhaust
 * the stack. Not thread-safe; one instance per document.
 */
final class HeaderJson {
  /** Deeper than any header or index needs (they nest three levels). */
  static final int MAX_DEPTH = 64;

  /** A syntax error at a character position of the document. */
  static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;
    final int position;

    SyntaxException(String message, int position) {
      super(message);
      this.position = position;
    }
  }

  private final String text;
  private int at;

  private HeaderJson(String text) {
    this.text = text;
  }

  /** Parses one JSON document; trailing whitespace is allowed, anything else after it is not. */
  static Object parse(String text) throws SyntaxException {
    HeaderJson p = new HeaderJson(text);
    p.skipSpace();
    Object v = p.value(0);
    p.skipSpace();
    if (p.at != text.length()) {
      throw new SyntaxException(
          "unexpected '" + text.charAt(p.at) + "' after the JSON value", p.at);
    }
    return v;
  }

  private Object value(int depth) throws SyntaxException {
    if (depth > MAX_DEPTH) {
      throw new SyntaxException("JSON nested deeper than " + MAX_DEPTH + " levels", at);
    }
    if (at >= text.length()) {
      throw new SyntaxException("unexpected end of JSON", at);
    }
    char c = text.charAt(at);
    switch (c) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"':
        return string();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return null;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw new SyntaxException("unexpected '" + c + "'", at);
    }
  }

  private Map<String, Object> object(int depth) throws SyntaxException {
    Map<String, Object> map = new LinkedHashMap<>();
    at++;
    skipSpace();
    if (peek() == '}') {
      at++;
      return map;
    }
    while (true) {
      skipSpace();
      if (peek() != '"') {
        throw new SyntaxException("expected a string key", at);
      }
      int keyAt = at;
      String key = string();
      skipSpace();
      expect(':');
      skipSpace();
      Object v = value(depth + 1);
      if (map.containsKey(key)) {
        throw new SyntaxException("duplicate key '" + key + "'", keyAt);
      }
      map.put(key, v);
      skipSpace();
      char c = peek();
      at++;
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        throw new SyntaxException("expected ',' or '}'", at - 1);
      }
    }
  }

  private List<Object> array(int depth) throws SyntaxException {
    List<Object> list = new ArrayList<>();
    at++;
    skipSpace();
    if (peek() == ']') {
      at++;
      return list;
    }
    while (true) {
      skipSpace();
      list.add(value(depth + 1));
      skipSpace();
      char c = peek();
      at++;
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        throw new SyntaxException("expected ',' or ']'", at - 1);
      }
    }
  }

  private String string() throws SyntaxException {
    int start = at;
    at++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (at >= text.length()) {
        throw new SyntaxException("unterminated string", start);
      }
      char c = text.charAt(at++);
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw new SyntaxException("control character in a string", at - 1);
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (at >= text.length()) {
        throw new SyntaxException("unterminated string", start);
      }
      char e = text.charAt(at++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          if (at + 4 > text.length()) {
            throw new SyntaxException("truncated \\u escape", at - 2);
          }
          int code = 0;
          for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(at + i), 16);
            if (d < 0) {
              throw new SyntaxException("invalid \\u escape", at - 2);
            }
            code = code * 16 + d;
          }
          at += 4;
          sb.append((char) code);
        }
        default -> throw new SyntaxException("invalid escape '\\" + e + "'", at - 2);
      }
    }
  }

  private Object number() throws SyntaxException {
    int start = at;
    if (peek() == '-') {
      at++;
    }
    int digits = at;
    while (at < text.length() && Character.isDigit(text.charAt(at))) {
      at++;
    }
    if (at == digits || (text.charAt(digits) == '0' && at - digits > 1)) {
      throw new SyntaxException("invalid number", start);
    }
    boolean integral = true;
    if (at < text.length() && text.charAt(at) == '.') {
      integral = false;
      at++;
      int frac = at;
      while (at < text.length() && Character.isDigit(text.charAt(at))) {
        at++;
      }
      if (at == frac) {
        throw new SyntaxException("invalid number", start);
      }
    }
    if (at < text.length() && (text.charAt(at) == 'e' || text.charAt(at) == 'E')) {
      integral = false;
      at++;
      if (at < text.length() && (text.charAt(at) == '+' || text.charAt(at) == '-')) {
        at++;
      }
      int exp = at;
      while (at < text.length() && Character.isDigit(text.charAt(at))) {
        at++;
      }
      if (at == exp) {
        throw new SyntaxException("invalid number", start);
      }
    }
    String s = text.substring(start, at);
    if (!integral) {
      return Double.parseDouble(s);
    }
    if (at - digits <= 18) {
      return Long.parseLong(s);
    }
    BigInteger big = new BigInteger(s);
    return big.bitLength() < 64 ? (Object) big.longValue() : big;
  }

  private void literal(String word) throws SyntaxException {
    if (!text.startsWith(word, at)) {
      throw new SyntaxException("unexpected '" + text.charAt(at) + "'", at);
    }
    at += word.length();
  }

  private void expect(char c) throws SyntaxException {
    if (peek() != c) {
      throw new SyntaxException("expected '" + c + "'", at);
    }
    at++;
  }

  private char peek() throws SyntaxException {
    if (at >= text.length()) {
      throw new SyntaxException("unexpected end of JSON", at);
    }
    return text.charAt(at);
  }

  private void skipSpace() {
    while (at < text.length()) {
      char c = text.charAt(at);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      at++;
    }
  }

  /** Appends {@code s} as a JSON string literal, escaping what RFC 8259 requires. */
  static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }
}
