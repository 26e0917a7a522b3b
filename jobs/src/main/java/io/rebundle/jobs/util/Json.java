package io.rebundle.jobs.util;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * JSON output through jackson-core's streaming {@link JsonGenerator}: documents of any size are
 * written as they are produced (bounded memory), with Jackson's escaping. This class only
 * configures generators the same way everywhere and turns Jackson's checked {@link IOException}
 * into {@link UncheckedIOException}. Stateless; each generator is single-threaded.
 */
public final class Json {
  private Json() {}

  private static final JsonFactory FACTORY =
      new com.fasterxml.jackson.core.JsonFactoryBuilder()
          // The caller owns the writer (often stdout): closing the generator must not close it.
          .disable(com.fasterxml.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET)
          // JSON Lines: callers end each root value with a newline themselves; no extra space
          // between them.
          .rootValueSeparator("")
          .build();

  /** What writes one document. */
  @FunctionalInterface
  public interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** Streams one document to {@code out} (not closed; flushed at the end). */
  public static void write(Writer out, Body body) {
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      body.write(g);
      g.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write JSON: " + e.getMessage(), e);
    }
  }

  /** One small document as a string (a report, a summary object). */
  public static String toString(Body body) {
    StringWriter w = new StringWriter();
    write(w, body);
    return w.toString();
  }

  /**
   * A floating-point field; JSON has no NaN or infinity, so those are written as null (a NaN
   * difference means "not a floating type", an infinite one "one side is NaN or infinite").
   */
  public static void number(JsonGenerator g, String name, double v) throws IOException {
    g.writeFieldName(name);
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      g.writeNull();
    } else {
      g.writeNumber(v);
    }
  }

  /** A string field that may be null. */
  public static void string(JsonGenerator g, String name, String v) throws IOException {
    if (v == null) {
      g.writeNullField(name);
    } else {
      g.writeStringField(name, v);
    }
  }
}
