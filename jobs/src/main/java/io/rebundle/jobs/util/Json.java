package io.rebundle.jobs.util;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer: enough for reports and {@code --json} output, no dependency. Keys
 * and values are written in call order; commas are placed automatically. Not thread-safe.
 */
public final class Json {
  private final Appendable sink;
  private final StringBuilder out = new StringBuilder();
  private final boolean streaming;
  private final Deque<Boolean> first = new ArrayDeque<>();
  private boolean afterKey;

  /** Builds the document in memory; {@link #toString()} returns it. */
  public Json() {
    this.sink = null;
    this.streaming = false;
  }

  /** Streams the document to {@code out} as it is written (for documents of any size). */
  public Json(Appendable out) {
    this.sink = out;
    this.streaming = true;
  }

  private void append(char c) {
    out.append(c);
  }

  private void append(CharSequence s) {
    out.append(s);
    if (streaming && out.length() >= 1 << 16) {
      flush();
    }
  }

  /** Hands what is buffered to the sink of a streaming writer. */
  public Json flush() {
    if (streaming && out.length() > 0) {
      try {
        sink.append(out);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      out.setLength(0);
    }
    return this;
  }

  public Json beginObject() {
    value();
    append('{');
    first.push(true);
    return this;
  }

  public Json endObject() {
    first.pop();
    append('}');
    if (first.isEmpty()) {
      flush();
    }
    return this;
  }

  public Json beginArray() {
    value();
    append('[');
    first.push(true);
    return this;
  }

  public Json endArray() {
    first.pop();
    append(']');
    return this;
  }

  public Json key(String name) {
    comma();
    string(name);
    append(':');
    afterKey = true;
    return this;
  }

  public Json value(String s) {
    value();
    if (s == null) {
      append("null");
    } else {
      string(s);
    }
    return this;
  }

  public Json value(long v) {
    value();
    append(Long.toString(v));
    return this;
  }

  public Json value(double v) {
    value();
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      append("null");
    } else {
      append(Double.toString(v));
    }
    return this;
  }

  public Json value(boolean v) {
    value();
    append(Boolean.toString(v));
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
        append(',');
      }
    }
  }

  private void string(String s) {
    append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> append("\\\"");
        case '\\' -> append("\\\\");
        case '\n' -> append("\\n");
        case '\r' -> append("\\r");
        case '\t' -> append("\\t");
        default -> {
          if (c < 0x20) {
            append(String.format("\\u%04x", (int) c));
          } else {
            append(c);
          }
        }
      }
    }
    append('"');
  }

  /** The document, for a writer made with {@link #Json()}. */
  @Override
  public String toString() {
    if (streaming) {
      throw new IllegalStateException("Json streamed to an Appendable has no string form");
    }
    return out.toString();
  }
}
