package io.rebundle.jobs.util;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer: enough for reports and {@code --json} output, no dependency. Keys
 * and values are written in call order; commas are placed automatically. Not thread-safe.
 */
public final class Json {
  private final StringBuilder out = new StringBuilder();
  private final Deque<Boolean> first = new ArrayDeque<>();
  private boolean afterKey;

  public Json beginObject() {
    value();
    out.append('{');
    first.push(true);
    return this;
  }

  public Json endObject() {
    first.pop();
    out.append('}');
    return this;
  }

  public Json beginArray() {
    value();
    out.append('[');
    first.push(true);
    return this;
  }

  public Json endArray() {
    first.pop();
    out.append(']');
    return this;
  }

  public Json key(String name) {
    comma();
    string(name);
    out.append(':');
    afterKey = true;
    return this;
  }

  public Json value(String s) {
    value();
    if (s == null) {
      out.append("null");
    } else {
      string(s);
    }
    return this;
  }

  public Json value(long v) {
    value();
    out.append(v);
    return this;
  }

  public Json value(double v) {
    value();
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      out.append("null");
    } else {
      out.append(v);
    }
    return this;
  }

  public Json value(boolean v) {
    value();
    out.append(v);
    return this;
  }

  public Json field(String name, String v) {
    return key(name).value(v);
  }

  public Json field(String name, long v) {
    return key(name).value(v);
  }

  public Json field(String name, double v) {
    return key(name).value(v);
  }

  public Json field(String name, boolean v) {
    return key(name).value(v);
  }

  private void value() {
    if (afterKey) {
      afterKey = false;
      return;
    }
    comma();
  }

  private void comma() {
    if (!first.isEmpty()) {
      if (first.peek()) {
        first.pop();
        first.push(false);
      } else {
        out.append(',');
      }
    }
  }

  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
