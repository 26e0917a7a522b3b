package io.rebundle.jobs.cli;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.synth.SyntheticCheckpoint;
import io.rebundle.jobs.util.Json;
import io.rebundle.jobs.util.Sizes;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code synth}: write a synthetic checkpoint of a chosen size and shape, for demos and benchmarks.
 */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Write a valid synthetic checkpoint of a chosen size, deterministically from a seed: a few huge "
          + "embedding tables and many small dense layers, values streamed (memory does not grow with tensor sizes).",
      "DST: the output prefix; its directory gets a 'checkpoint' state file."
    },
    footer = {
      "",
      "Examples:",
      "  rebundle synth --size 4g /tmp/synth/ckpt-1",
      "  rebundle synth --format tf1 --size 512m --shards 4 --seed 7 hdfs://nn/bench/model.ckpt-1"
    })
public final class SynthCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DST", description = "The output prefix.")
  String destination;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "tf2",
      description =
          "tf1 (name-based) or tf2 (object-based, Checkpoint(model=...)) (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--size",
      paramLabel = "BYTES",
      defaultValue = "64m",
      description =
          "Total size of the data files (suffixes k, m, g, t; default: ${DEFAULT-VALUE}).")
  String size;

  @Option(
      names = "--tensors",
      paramLabel = "N",
      defaultValue = "100",
      description = "Number of variables (default: ${DEFAULT-VALUE}).")
  int tensors;

  @Option(
      names = "--max-tensor",
      paramLabel = "BYTES",
      defaultValue = "2g",
      description = "Largest tensor (default: ${DEFAULT-VALUE}).")
  String maxTensor;

  @Option(
      names = "--dtypes",
      paramLabel = "LIST",
      defaultValue = "float32",
      split = ",",
      description =
          "dtypes drawn per tensor, e.g. float32,bfloat16 (fixed-size types; default: ${DEFAULT-VALUE}).")
  List<String> dtypes = new ArrayList<>();

  @Option(
      names = "--shards",
      paramLabel = "M",
      defaultValue = "1",
      description = "Number of data files (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(
      names = "--sliced",
      paramLabel = "K",
      defaultValue = "0",
      description =
          "Partition the K largest variables along dimension 0 into 2-8 slices (default: ${DEFAULT-VALUE}).")
  int sliced;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description =
          "Seed: the same options and seed give the same bytes (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Mixin StorageOptions storage = new StorageOptions();

  @Option(names = "--overwrite", description = "Replace an existing checkpoint at DST.")
  boolean overwrite;

  @Option(
      names = "--no-state-file",
      description = "Do not write the 'checkpoint' state file beside DST.")
  boolean noStateFile;

  @Option(names = "--json", description = "Print one JSON object on stdout.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SyntheticCheckpoint.Options options;
    try {
      List<DType> types = new ArrayList<>();
      for (String d : dtypes) {
        types.add(DType.parse(d.trim()));
      }
      options =
          new SyntheticCheckpoint.Options(
              CheckpointFormat.parse(format),
              ConvertCommand.parseSize(size),
              tensors,
              ConvertCommand.parseSize(maxTensor),
              types,
              shards,
              sliced,
              seed);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    FileIO io = storage.forLocations(destination);
    SyntheticCheckpoint.Summary s =
        SyntheticCheckpoint.write(io, destination, options, overwrite, !noStateFile);
    SyntheticCheckpoint.Layout l = s.layout();
    long sliceCount = l.variables().stream().filter(v -> v.partitions() > 0).count();
    double rate = s.seconds() > 0 ? l.dataBytes() / s.seconds() : 0;
    if (json) {
      Json.write(
          out,
          g -> {
            g.writeStartObject();
            g.writeStringField("prefix", s.prefix());
            g.writeStringField("format", options.format().id());
            g.writeNumberField("num_shards", options.shards());
            g.writeNumberField("tensors", l.variables().size());
            g.writeNumberField("sliced_tensors", sliceCount);
            g.writeNumberField("entries", l.entries());
            g.writeNumberField("data_bytes", l.dataBytes());
            g.writeNumberField("largest_tensor_bytes", l.largestTensorBytes());
            g.writeNumberField("seed", options.seed());
            Json.number(g, "seconds", s.seconds());
            Json.number(g, "bytes_per_second", rate);
            g.writeObjectFieldStart("dtypes");
            for (Map.Entry<String, Integer> e : s.dtypeCounts().entrySet()) {
              g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
          });
      out.println();
    } else {
      out.printf(
          "wrote %s (%s): %d tensors (%d sliced), %d entries, %s in %d shard%s%n",
          s.prefix(),
          options.format().id(),
          l.variables().size(),
          sliceCount,
          l.entries(),
          Sizes.human(l.dataBytes()),
          options.shards(),
          options.shards() == 1 ? "" : "s");
      out.printf(
          "  largest tensor %s; dtypes %s; seed %d%n",
          Sizes.human(l.largestTensorBytes()), s.dtypeCounts(), options.seed());
      out.printf("  %.2f s (%s/s)%n", s.seconds(), Sizes.human((long) rate));
    }
    out.flush();
    return ExitCodes.OK;
  }
}
