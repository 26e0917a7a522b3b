package io.rebundle.jobs.convert;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.Location;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.plan.MigrationPlan;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The naming a conversion used, read back from its convert report ({@code convert --report FILE},
 * see {@link ConvertReport}): the {@code renamed} pairs and the {@code dropped} keys of the
 * conversion whose destination is the checkpoint being checked. For {@code diff --as-converted
 * --report FILE}.
 */
public final class ReportNaming {
  /** Reports are read whole; a report this large is not one convert wrote. */
  static final long MAX_REPORT_BYTES = 1L << 30;

  private ReportNaming() {}

  /** One conversion's naming: A's key to B's, and A's keys left out on purpose. */
  public record Naming(
      String source,
      String destination,
      List<MigrationPlan.Renamed> renamed,
      List<String> dropped) {
    public Naming {
      renamed = List.copyOf(renamed);
      dropped = List.copyOf(dropped);
    }
  }

  /**
   * Reads the report at {@code location} and returns the conversion into {@code destination} (the
   * checkpoint prefix B was resolved to, or B as given): the only conversion of the report, or the
   * one whose destination names the same checkpoint. Malformed reports, failed runs and reports
   * that converted into something else are refused with {@link IllegalArgumentException} ({@code
   * Invalid convert report ...}).
   */
  public static Naming read(FileIO io, String location, String... destination) {
    byte[] bytes;
    try (RangeReader r = io.newInputFile(location).open()) {
      long length = r.length();
      if (length > MAX_REPORT_BYTES) {
        throw new IllegalArgumentException(
            "Invalid convert report "
                + location
                + ": "
                + length
                + " bytes, more than a convert report holds ("
                + MAX_REPORT_BYTES
                + ")");
      }
      bytes = r.readFully(0, (int) length);
    }
    return parse(location, bytes, destination);
  }

  /** {@link #read} on bytes already loaded; {@code location} names them in messages. */
  static Naming parse(String location, byte[] bytes, String... destination) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(bytes);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? location : location + ":" + at.getLineNr() + ":" + at.getColumnNr();
      throw new IllegalArgumentException(
          "Invalid convert report " + where + ": " + e.getOriginalMessage(), e);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "Invalid convert report " + location + ": " + e.getMessage(), e);
    }
    if (root == null || !root.isObject() || !root.path("conversions").isArray()) {
      throw new IllegalArgumentException(
          "Invalid convert report "
              + location
              + ": no \"conversions\" list (is it the --report of convert?)");
    }
    if ("failed".equals(root.path("status").asText())) {
      throw new IllegalArgumentException(
          "Invalid convert report "
              + location
              + ": the conversion failed ("
              + root.path("error").path("message").asText("no message")
              + "), so it names nothing to check");
    }
    JsonNode conversions = root.get("conversions");
    JsonNode chosen = null;
    if (conversions.size() == 1) {
      chosen = conversions.get(0);
    } else {
      for (JsonNode c : conversions) {
        for (String d : destination) {
          if (d != null && sameLocation(c.path("destination").asText(), d)) {
            chosen = c;
          }
        }
      }
    }
    if (chosen == null) {
      List<String> into = new ArrayList<>();
      conversions.forEach(c -> into.add(c.path("destination").asText()));
      throw new IllegalArgumentException(
          "Invalid convert report "
              + location
              + ": "
              + (into.isEmpty()
                  ? "it records no conversion"
                  : "none of its conversions wrote "
                      + destination[0]
                      + " (they wrote "
                      + into
                      + ")"));
    }
    List<MigrationPlan.Renamed> renamed = new ArrayList<>();
    for (JsonNode r : chosen.path("renamed")) {
      if (!r.path("from").isTextual() || !r.path("to").isTextual()) {
        throw new IllegalArgumentException(
            "Invalid convert report "
                + location
                + ": a \"renamed\" entry without from and to: "
                + r);
      }
      renamed.add(new MigrationPlan.Renamed(r.get("from").asText(), r.get("to").asText()));
    }
    List<String> dropped = new ArrayList<>();
    for (JsonNode d : chosen.path("dropped")) {
      if (!d.path("key").isTextual()) {
        throw new IllegalArgumentException(
            "Invalid convert report " + location + ": a \"dropped\" entry without a key: " + d);
      }
      dropped.add(d.get("key").asText());
    }
    return new Naming(
        chosen.path("source_prefix").asText(chosen.path("source").asText()),
        chosen.path("destination").asText(),
        renamed,
        dropped);
  }

  /**
   * Whether two locations name the same checkpoint: equal, or local paths (plain or {@code file:})
   * equal once absolute and normalised.
   */
  static boolean sameLocation(String x, String y) {
    if (x.equals(y)) {
      return true;
    }
    if (!Location.isLocal(x) || !Location.isLocal(y)) {
      return strip(x).equals(strip(y));
    }
    return localPath(x).equals(localPath(y));
  }

  private static String strip(String x) {
    return x.endsWith("/") ? x.substring(0, x.length() - 1) : x;
  }

  private static Path localPath(String x) {
    String path = Location.scheme(x).equals("file") ? URI.create(x).getPath() : x;
    return Path.of(path).toAbsolutePath().normalize();
  }
}
