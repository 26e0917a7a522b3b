package io.rebundle.jobs.cli;

import io.rebundle.codec.bundle.CheckpointLocator;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.io.FileIO;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verify}: every byte of a checkpoint, every checksum, every shard. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Check every block of the index and every tensor of every shard; report all problems.",
        "Stricter than TensorFlow: also checks bytes TensorFlow never reads (metaindex, footer padding, "
            + "data-file bytes no entry covers).", "Exit 0 when clean, 1 when problems were found."})
public final class VerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "PATH",
      description = "A checkpoint prefix, a model directory with a 'checkpoint' file, a SavedModel directory, "
          + "a .safetensors file or a directory of safetensors shards (no checksums exist there: "
          + "headers, sizes and file lengths are checked).")
  String path;

  @Option(names = "--json", description = "Print one JSON object on stdout.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    FileIO io = StorageOptions.forLocation(path);
    if (SafetensorsCommands.isSafetensors(io, path)) {
      return SafetensorsCommands.verify(out, err, io, path, json);
    }
    CheckpointLocator.Resolved resolved = CheckpointLocator.resolve(io, path);
    resolved.warnings().forEach(w -> err.println("rebundle: warning: " + w));
    Progress progress = new Progress(err, "verify");
    CheckpointVerifier.Summary s = CheckpointVerifier.verify(io, resolved.prefix(), progress::bytes);
    progress.done();
    if (json) {
      Json j = new Json().beginObject().field("prefix", s.prefix()).field("ok", s.ok())
          .field("num_shards", s.numShards()).field("tensors", s.tensors()).field("entries", s.entries())
          .field("data_bytes", s.dataBytes());
      j.key("findings").beginArray();
      for (CheckpointVerifier.Finding f : s.findings()) {
        j.beginObject().field("file", f.file()).field("offset", f.offset()).field("key", f.key())
            .field("message", f.message()).endObject();
      }
      out.println(j.endArray().endObject());
    } else {
      for (CheckpointVerifier.Finding f : s.findings()) {
        out.println("PROBLEM " + f);
      }
      out.printf("%s: %s — %d tensors (%d entries), %d data bytes in %d shard%s checked%s%n",
          s.prefix(), s.ok() ? "OK" : s.findings().size() + " problem" + (s.findings().size() == 1 ? "" : "s"),
          s.tensors(), s.entries(), s.dataBytes(), s.numShards(), s.numShards() == 1 ? "" : "s",
          s.ok() ? "" : "");
    }
    out.flush();
    return s.ok() ? ExitCodes.OK : ExitCodes.FINDINGS;
  }
}
