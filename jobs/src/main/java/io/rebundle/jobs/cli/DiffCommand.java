package io.rebundle.jobs.cli;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.diff.CheckpointDiff;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MappingRules;
import io.rebundle.jobs.spark.SparkContexts;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diff}: what differs between two checkpoints, keys and values. */
@Command(name = "diff", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Compare two checkpoints: keys only in A or only in B (A's keys taken through --map), dtype/shape "
        + "mismatches, and value differences (equal CRC and size count as equal; otherwise max absolute and "
        + "relative difference for floating types, count of differing elements for all).",
        "Exit 0 when identical, 1 when they differ. Big comparisons run as a Spark job."})
public final class DiffCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "A") String a;

  @Parameters(index = "1", paramLabel = "B") String b;

  @Option(names = "--map", paramLabel = "FILE", description = "Mapping file applied to A's keys before comparing.")
  Path mapFile;

  @CommandLine.Mixin PresetOption preset = new PresetOption();

  @Option(names = "--json", description = "Print one JSON object on stdout.")
  boolean json;

  @Option(names = "--distributed-above", paramLabel = "BYTES", defaultValue = "1g",
      description = "Compare values in a Spark job when more than this many bytes differ by CRC (default: ${DEFAULT-VALUE}).")
  String threshold;

  @Option(names = "--master", paramLabel = "URL", description = "Spark master for the distributed comparison.")
  String master;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (preset.listed(out)) {
      return ExitCodes.OK;
    }
    if (a == null || b == null) {
      throw new UsageException("Missing checkpoints: diff compares two, A and B");
    }
    MappingRules rules = preset.rules(mapFile);
    long limit = ConvertCommand.parseSize(threshold);
    FileIO io = StorageOptions.forLocations(new Configuration(), a, b);
    if (SafetensorsCommands.isSafetensors(io, a) || SafetensorsCommands.isSafetensors(io, b)) {
      String[] locations = new String[2];
      CheckpointDiff.Result r = SafetensorsCommands.diff(io, a, b, rules, locations);
      if (json) {
        out.println(json(locations[0], locations[1], r));
      } else {
        print(out, locations[0], locations[1], r);
      }
      out.flush();
      return r.same() ? ExitCodes.OK : ExitCodes.FINDINGS;
    }
    CheckpointDiff.KeyDiff keys;
    List<CheckpointDiff.ValueDiff> different;
    String prefixA;
    String prefixB;
    try (CheckpointReader ra = CheckpointReader.open(io, a); CheckpointReader rb = CheckpointReader.open(io, b)) {
      keys = CheckpointDiff.compareKeys(ra, rb, rules);
      prefixA = ra.prefix();
      prefixB = rb.prefix();
      long bytes = keys.toCompare().stream().mapToLong(p -> p.a().size()).sum();
      different = bytes > limit || master != null ? null : CheckpointDiff.compareAll(ra, rb, keys.toCompare().iterator());
    }
    if (different == null) {
      different = distributed(prefixA, prefixB, keys.toCompare());
    }
    CheckpointDiff.Result r = new CheckpointDiff.Result(keys, different);
    if (json) {
      out.println(json(prefixA, prefixB, r));
    } else {
      print(out, prefixA, prefixB, r);
    }
    out.flush();
    return r.same() ? ExitCodes.OK : ExitCodes.FINDINGS;
  }

  private List<CheckpointDiff.ValueDiff> distributed(String prefixA, String prefixB,
      List<CheckpointDiff.Pair> pairs) {
    try (JavaSparkContext sc = SparkContexts.create("rebundle diff", master, Map.of())) {
      FileIO dio = StorageOptions.forLocations(sc.hadoopConfiguration(), prefixA, prefixB);
      sc.setJobDescription("rebundle diff " + prefixA + " vs " + prefixB + ": " + pairs.size() + " tensors");
      int parts = Math.max(1, Math.min(pairs.size(), sc.defaultParallelism() * 4));
      return sc.parallelize(pairs, parts).mapPartitions(it -> {
        try (CheckpointReader ra = CheckpointReader.openPrefix(dio, prefixA);
            CheckpointReader rb = CheckpointReader.openPrefix(dio, prefixB)) {
          return CheckpointDiff.compareAll(ra, rb, it).iterator();
        }
      }).collect();
    }
  }

  private static void print(PrintWriter out, String a, String b, CheckpointDiff.Result r) {
    out.printf("A: %s%nB: %s%n", a, b);
    CheckpointDiff.KeyDiff k = r.keys();
    if (!k.onlyInA().isEmpty()) {
      out.printf("only in A (%d): %s%n", k.onlyInA().size(), String.join(", ", k.onlyInA()));
    }
    if (!k.onlyInB().isEmpty()) {
      out.printf("only in B (%d): %s%n", k.onlyInB().size(), String.join(", ", k.onlyInB()));
    }
    for (CheckpointDiff.Mismatch m : k.mismatches()) {
      out.printf("mismatch %s: %s %s vs %s %s%s%n", m.key(), m.dtypeA(), m.shapeA(), m.dtypeB(), m.shapeB(),
          m.key().equals(m.keyInB()) ? "" : " (B: " + m.keyInB() + ")");
    }
    if (!r.different().isEmpty()) {
      int w = Math.max(3, r.different().stream().mapToInt(d -> d.key().length()).max().orElse(3));
      String fmt = "%-" + w + "s  %-9s  %10s  %10s  %12s  %12s%n";
      out.printf(fmt, "KEY", "DTYPE", "ELEMENTS", "DIFFERING", "MAX_ABS", "MAX_REL");
      for (CheckpointDiff.ValueDiff d : r.different()) {
        out.printf(fmt, d.key(), d.dtype(), d.elements(), d.differing(), num(d.maxAbs()), num(d.maxRel()));
      }
    }
    out.printf("%s: %d equal tensors, %d with different values, %d mismatched, %d only in A, %d only in B%n",
        r.same() ? "identical" : "different", r.equalTensors(), r.different().size(), k.mismatches().size(),
        k.onlyInA().size(), k.onlyInB().size());
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format("%.6g", v);
  }

  private static String json(String a, String b, CheckpointDiff.Result r) {
    Json j = new Json().beginObject().field("a", a).field("b", b).field("identical", r.same())
        .field("equal", r.equalTensors());
    j.key("only_in_a").beginArray();
    r.keys().onlyInA().forEach(j::value);
    j.endArray().key("only_in_b").beginArray();
    r.keys().onlyInB().forEach(j::value);
    j.endArray().key("mismatches").beginArray();
    for (CheckpointDiff.Mismatch m : r.keys().mismatches()) {
      j.beginObject().field("key", m.key()).field("key_in_b", m.keyInB()).field("a_dtype", m.dtypeA())
          .field("a_shape", m.shapeA()).field("b_dtype", m.dtypeB()).field("b_shape", m.shapeB()).endObject();
    }
    j.endArray().key("different").beginArray();
    for (CheckpointDiff.ValueDiff d : r.different()) {
      j.beginObject().field("key", d.key()).field("dtype", d.dtype()).field("elements", d.elements())
          .field("differing", d.differing());
      if (!Double.isNaN(d.maxAbs())) {
        j.field("max_abs_diff", d.maxAbs()).field("max_rel_diff", d.maxRel());
      }
      j.endObject();
    }
    return j.endArray().endObject().toString();
  }
}
