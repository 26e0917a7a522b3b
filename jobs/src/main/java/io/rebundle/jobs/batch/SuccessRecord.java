package io.rebundle.jobs.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.InputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.io.RangeReader;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The small file a batch writes beside each output checkpoint, {@code
 * <prefix>.rebundle-batch.json}: which source (fingerprint) and spec (hash) made the output, which
 * version of Rebundle wrote it, and the output's own fingerprint ({@link Fingerprints#checkpoint}:
 * its index bytes and data file lengths). A rerun skips the row when all three still match, reading
 * only indexes and this file.
 *
 * <p>{@code state} is {@value #STARTED} while the row runs (written before its output is staged)
 * and {@value #COMMITTED} once the output is complete. A record in any state, even unreadable,
 * marks the output as one a batch wrote: a rerun may replace it (a killed run's half-committed
 * output). Immutable.
 */
public record SuccessRecord(
    String state,
    String tool,
    String source,
    String destination,
    String sourceFingerprint,
    String specHash,
    String outputFingerprint,
    String runId,
    long writtenAtMillis) {
  public static final String SUFFIX = ".rebundle-batch.json";
  public static final String STARTED = "started";
  public static final String COMMITTED = "committed";

  /** Version of this file's layout. */
  static final int FORMAT = 1;

  /** Bound on a record's size: a few hundred bytes in practice. */
  static final int MAX_BYTES = 1 << 16;

  private static final JsonFactory JSON = new JsonFactory();

  public SuccessRecord {
    if (!STARTED.equals(state) && !COMMITTED.equals(state)) {
      throw new IllegalArgumentException("Invalid success record state: " + state);
    }
  }

  /** Where the record of the output at {@code prefix} lives. */
  public static String location(String prefix) {
    return prefix + SUFFIX;
  }

  /**
   * Whether this record says the output was committed from exactly this source and spec, and is
   * still intact.
   */
  public boolean matches(String currentSource, String currentSpec, String currentOutput) {
    return COMMITTED.equals(state)
        && sourceFingerprint.equals(currentSource)
        && specHash.equals(currentSpec)
        && outputFingerprint != null
        && outputFingerprint.equals(currentOutput);
  }

  public SuccessRecord committed(String output, long atMillis) {
    return new SuccessRecord(
        COMMITTED, tool, source, destination, sourceFingerprint, specHash, output, runId, atMillis);
  }

  public String toJson() {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeNumberField("format", FORMAT);
      g.writeStringField("state", state);
      g.writeStringField("tool", tool);
      g.writeStringField("src", source);
      g.writeStringField("dst", destination);
      g.writeStringField("source_fingerprint", sourceFingerprint);
      g.writeStringField("spec_hash", specHash);
      if (outputFingerprint != null) {
        g.writeStringField("output_fingerprint", outputFingerprint);
      }
      g.writeStringField("run_id", runId);
      g.writeNumberField("written_at_ms", writtenAtMillis);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /**
   * Parses a record; a malformed one is an {@link IllegalArgumentException} naming {@code
   * location}.
   */
  public static SuccessRecord parse(String json, String location) {
    Map<String, String> f = new HashMap<>();
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException(
            "Invalid success record " + location + ": not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (v.isStructStart()) {
          p.skipChildren();
        } else {
          f.put(name, p.getText());
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Invalid success record " + location + ": " + e.getMessage(), e);
    }
    if (!String.valueOf(FORMAT).equals(f.get("format"))) {
      throw new IllegalArgumentException(
          "Invalid success record "
              + location
              + ": format "
              + f.get("format")
              + " (this version reads "
              + FORMAT
              + ")");
    }
    for (String required :
        new String[] {"state", "src", "dst", "source_fingerprint", "spec_hash", "run_id"}) {
      if (f.get(required) == null) {
        throw new IllegalArgumentException(
            "Invalid success record " + location + ": no " + required);
      }
    }
    long at;
    try {
      at = Long.parseLong(f.getOrDefault("written_at_ms", "0"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Invalid success record " + location + ": written_at_ms " + f.get("written_at_ms"));
    }
    return new SuccessRecord(
        f.get("state"),
        f.getOrDefault("tool", "unknown"),
        f.get("src"),
        f.get("dst"),
        f.get("source_fingerprint"),
        f.get("spec_hash"),
        f.get("output_fingerprint"),
        f.get("run_id"),
        at);
  }

  /** What a read found: nothing, a record, or a file that is there but unreadable as one. */
  public record Found(Optional<SuccessRecord> record, boolean present, String problem) {
    static final Found NONE = new Found(Optional.empty(), false, null);
  }

  /** Reads the record at {@code location}; a missing file is {@link Found#NONE}. */
  public static Found read(FileIO io, String location) {
    InputFile in = io.newInputFile(location);
    if (!in.exists()) {
      return Found.NONE;
    }
    try (RangeReader r = in.open()) {
      long length = r.length();
      if (length > MAX_BYTES) {
        return new Found(
            Optional.empty(),
            true,
            "Invalid success record "
                + location
                + ": "
                + length
                + " bytes (at most "
                + MAX_BYTES
                + ")");
      }
      byte[] bytes = r.readFully(0, (int) length);
      return new Found(
          Optional.of(parse(new String(bytes, StandardCharsets.UTF_8), location)), true, null);
    } catch (IllegalArgumentException e) {
      return new Found(Optional.empty(), true, e.getMessage());
    }
  }

  /** Writes (or replaces) the record at {@code location}. */
  public void write(FileIO io, String location) {
    byte[] bytes = (toJson() + "\n").getBytes(StandardCharsets.UTF_8);
    try (PositionOutputStream out = io.newOutputFile(location).createOrOverwrite()) {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write success record " + location + ": " + e.getMessage(), e);
    }
  }
}
