package io.rebundle.jobs.cli;

import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.CheckpointLocator;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.FileIO;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verify}: every byte of a checkpoint, every checksum, every shard. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    footer = {
      "",
      "Examples:",
      "  rebundle verify /models/bert/model.ckpt-1000",
      "  rebundle verify hdfs://nn/models/run7          (a model directory: its latest checkpoint)",
      "  rebundle verify --json gs://bucket/ckpt/ckpt-12 > verify.json"
    },
    description = {
      "Check every block of the index and every tensor of every shard; report all problems.",
      "Stricter than TensorFlow: also checks bytes TensorFlow never reads (metaindex, footer padding, "
          + "data-file bytes no entry covers).",
      "Exit 0 when clean, 1 when problems were found."
    })
public final class VerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin StorageOptions storageOptions = new StorageOptions();

  /**
   * The storage for a location; tests substitute a decorator; null: the --conf settings' storage.
   */
  private final java.util.function.Function<String, FileIO> storageOverride;

  public VerifyCommand() {
    this(null);
  }

  VerifyCommand(java.util.function.Function<String, FileIO> storage) {
    this.storageOverride = storage;
  }

  private FileIO storage(String location) {
    return storageOverride != null
        ? storageOverride.apply(location)
        : storageOptions.forLocations(location);
  }

  @Parameters(
      paramLabel = "PATH",
      description =
          "A checkpoint prefix, a model directory with a 'checkpoint' file, a SavedModel directory, "
              + "a .safetensors file or a directory of safetensors shards (no checksums exist there: "
              + "headers, sizes and file lengths are checked).")
  String path;

  @Option(names = "--json", description = "Print one JSON object on stdout.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    FileIO io = storage(path);
    if (SafetensorsCommands.isSafetensors(io, path)) {
      return SafetensorsCommands.verify(out, err, io, path, json);
    }
    CheckpointLocator.Resolved resolved = CheckpointLocator.resolve(io, path);
    boolean quiet = Main.quiet(spec);
    if (!quiet) {
      resolved.warnings().forEach(w -> err.println("rebundle: warning: " + w));
    }
    Progress progress = Progress.create(err, "verify", dataBytes(io, resolved.prefix()), quiet);
    CheckpointVerifier.Summary s;
    try {
      s = CheckpointVerifier.verify(io, resolved.prefix(), progress::update);
    } finally {
      progress.finish();
    }
    if (json) {
      Json.write(
          out,
          g -> {
            g.writeStartObject();
            g.writeStringField("prefix", s.prefix());
            g.writeBooleanField("ok", s.ok());
            g.writeNumberField("num_shards", s.numShards());
            g.writeNumberField("tensors", s.tensors());
            g.writeNumberField("entries", s.entries());
            g.writeNumberField("data_bytes", s.dataBytes());
            g.writeArrayFieldStart("findings");
            for (CheckpointVerifier.Finding f : s.findings()) {
              g.writeStartObject();
              g.writeStringField("file", f.file());
              g.writeNumberField("offset", f.offset());
              Json.string(g, "key", f.key());
              g.writeStringField("message", f.message());
              g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
          });
      out.println();
    } else {
      for (CheckpointVerifier.Finding f : s.findings()) {
        out.println("PROBLEM " + f);
      }
      out.printf(
          "%s: %s — %d tensors (%d entries), %d data bytes in %d shard%s checked%s%n",
          s.prefix(),
          s.ok() ? "OK" : s.findings().size() + " problem" + (s.findings().size() == 1 ? "" : "s"),
          s.tensors(),
          s.entries(),
          s.dataBytes(),
          s.numShards(),
          s.numShards() == 1 ? "" : "s",
          s.ok() ? "" : "");
    }
    out.flush();
    return s.ok() ? ExitCodes.OK : ExitCodes.FINDINGS;
  }

  /**
   * The data bytes the index describes, the total for the progress display; 0 (no percentage) when
   * the index cannot be read, which the verifier then reports as a finding.
   */
  static long dataBytes(FileIO io, String prefix) {
    try (CheckpointReader reader = CheckpointReader.openPrefix(io, prefix)) {
      long total = 0;
      for (IndexRecord r : reader.records()) {
        if (!r.entry().isSliced()) {
          total += r.entry().size();
        }
      }
      return total;
    } catch (RebundleException | java.io.UncheckedIOException e) {
      return 0;
    }
  }
}
