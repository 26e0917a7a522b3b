package io.rebundle.jobs.cli;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.diff.CheckpointDiff;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.safetensors.SafetensorsEntry;
import io.rebundle.codec.safetensors.SafetensorsReader;
import io.rebundle.codec.source.BundleSource;
import io.rebundle.codec.source.SourceDiff;
import io.rebundle.codec.source.TensorSource;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code inspect}, {@code verify} and {@code diff} do when a path is a safetensors file or
 * model directory ({@link SafetensorsReader#isSafetensors}). The commands keep their options and
 * output shapes; only the source differs.
 */
final class SafetensorsCommands {
  private SafetensorsCommands() {}

  /** Whether {@code path} is safetensors input. */
  static boolean isSafetensors(FileIO io, String path) {
    return SafetensorsReader.isSafetensors(io, path);
  }

  /** Opens either kind of input as a {@link TensorSource}; the caller closes it. */
  static TensorSource open(FileIO io, String path) {
    return isSafetensors(io, path)
        ? SafetensorsReader.open(io, path)
        : new BundleSource(CheckpointReader.open(io, path));
  }

  /**
   * {@code inspect PATH}: one row per tensor (key, dtype, shape, bytes, file), or one JSON object.
   */
  static int inspect(
      PrintWriter out,
      PrintWriter err,
      FileIO io,
      String path,
      boolean json,
      boolean values,
      int maxElements) {
    try (SafetensorsReader r = SafetensorsReader.open(io, path)) {
      r.warnings().forEach(w -> err.println("rebundle: warning: " + w));
      if (json) {
        Json.write(
            out,
            g -> {
              g.writeStartObject();
              g.writeStringField("path", r.location());
              g.writeStringField("format", "safetensors");
              g.writeNumberField("num_files", r.numFiles());
              g.writeArrayFieldStart("files");
              for (var shard : r.shards()) {
                g.writeString(shard.location());
              }
              g.writeEndArray();
              g.writeObjectFieldStart("metadata");
              for (var m : r.metadata().entrySet()) {
                g.writeStringField(m.getKey(), m.getValue());
              }
              g.writeEndObject();
              g.writeArrayFieldStart("tensors");
              for (TensorSource.SourceTensor t : r.tensors()) {
                SafetensorsEntry e = r.entry(t.name());
                g.writeStartObject();
                g.writeStringField("key", t.name());
                g.writeStringField("dtype", e.dtype().name());
                g.writeStringField("tf_dtype", t.dtype().displayName());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape().dims()) {
                  g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeNumberField("bytes", t.size());
                g.writeNumberField("file", t.file());
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(e.begin());
                g.writeNumber(e.end());
                g.writeEndArray();
                if (values) {
                  g.writeStringField("value", valueOf(r, t, maxElements));
                }
                g.writeEndObject();
              }
              g.writeEndArray();
              g.writeEndObject();
            });
        out.println();
      } else {
        long bytes = 0;
        int count = 0;
        int keyWidth = 3;
        int shapeWidth = 5;
        for (TensorSource.SourceTensor t : r.tensors()) {
          bytes += t.size();
          count++;
          keyWidth = Math.max(keyWidth, t.name().length());
          shapeWidth = Math.max(shapeWidth, t.shape().toString().length());
        }
        out.println("path: " + r.location());
        out.println(
            "format: safetensors, "
                + r.numFiles()
                + " file"
                + (r.numFiles() == 1 ? "" : "s")
                + ", "
                + count
                + " tensors, "
                + bytes
                + " bytes");
        if (!r.metadata().isEmpty()) {
          List<String> kv = new ArrayList<>();
          r.metadata().forEach((k, v) -> kv.add(k + "=" + v));
          out.println("metadata: " + String.join(", ", kv));
        }
        String fmt = "%-" + keyWidth + "s  %-8s  %-" + shapeWidth + "s  %12s  %4s%n";
        out.printf(fmt, "KEY", "DTYPE", "SHAPE", "BYTES", "FILE");
        for (TensorSource.SourceTensor t : r.tensors()) {
          out.printf(
              fmt, t.name(), r.entry(t.name()).dtype().name(), t.shape(), t.size(), t.file());
          if (values) {
            out.println("    " + valueOf(r, t, maxElements).replace("\n", "\n    "));
          }
        }
      }
      out.flush();
    }
    return ExitCodes.OK;
  }

  private static String valueOf(SafetensorsReader r, TensorSource.SourceTensor t, int maxElements) {
    if (t.size() > CheckpointReader.MAX_IN_MEMORY) {
      return "(" + t.size() + " bytes: too large to print)";
    }
    try {
      byte[] data = new byte[(int) t.size()];
      r.readRange(t, 0, data, 0, data.length);
      return ValueFormatter.format(Tensor.of(t.dtype(), t.shape(), data), maxElements);
    } catch (RebundleException e) {
      return "(cannot read: " + e.getMessage() + ")";
    }
  }

  /**
   * {@code verify PATH}: every header parsed strictly (a malformed one is exit 3), the weight map
   * checked against the shards, every tensor's bytes read. safetensors has no checksums, so the
   * values themselves cannot be checked; the summary says so.
   */
  static int verify(PrintWriter out, PrintWriter err, FileIO io, String path, boolean json) {
    List<String> findings = new ArrayList<>();
    long bytes = 0;
    int tensors = 0;
    String location;
    int files;
    try (SafetensorsReader r = SafetensorsReader.open(io, path)) {
      location = r.location();
      files = r.numFiles();
      findings.addAll(r.warnings());
      long total = 0;
      for (TensorSource.SourceTensor t : r.tensors()) {
        total += t.size();
      }
      Progress progress = Progress.create(err, "verify", total, false);
      byte[] buffer = new byte[1 << 20];
      for (TensorSource.SourceTensor t : r.tensors()) {
        tensors++;
        for (long pos = 0; pos < t.size(); pos += buffer.length) {
          int len = (int) Math.min(buffer.length, t.size() - pos);
          r.readRange(t, pos, buffer, 0, len);
          progress.update(bytes + pos + len);
        }
        bytes += t.size();
      }
      progress.finish();
    }
    boolean ok = findings.isEmpty();
    String note =
        "safetensors stores no checksums: headers, sizes and file lengths were checked, values cannot be";
    if (json) {
      final int numFiles = files;
      final long numTensors = tensors;
      final long dataBytes = bytes;
      out.println(
          Json.toString(
              g -> {
                g.writeStartObject();
                g.writeStringField("path", location);
                g.writeStringField("format", "safetensors");
                g.writeBooleanField("ok", ok);
                g.writeNumberField("num_files", numFiles);
                g.writeNumberField("tensors", numTensors);
                g.writeNumberField("data_bytes", dataBytes);
                g.writeStringField("note", note);
                g.writeArrayFieldStart("findings");
                for (String f : findings) {
                  g.writeStartObject();
                  g.writeStringField("message", f);
                  g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
              }));
    } else {
      findings.forEach(f -> out.println("PROBLEM " + f));
      out.printf(
          "%s: %s — %d tensors, %d data bytes in %d file%s checked (%s)%n",
          location,
          ok ? "OK" : findings.size() + " problem" + (findings.size() == 1 ? "" : "s"),
          tensors,
          bytes,
          files,
          files == 1 ? "" : "s",
          note);
    }
    out.flush();
    return ok ? ExitCodes.OK : ExitCodes.FINDINGS;
  }

  /** {@code diff A B} when either side is safetensors: in-process, every pair compared by value. */
  static CheckpointDiff.Result diff(
      FileIO io, String a, String b, MappingRules rules, String[] locations) {
    try (TensorSource sa = open(io, a);
        TensorSource sb = open(io, b)) {
      locations[0] = sa.location();
      locations[1] = sb.location();
      return SourceDiff.run(sa, sb, rules, 1 << 20);
    }
  }
}
