package io.rebundle.jobs.convert;

import io.rebundle.codec.layout.OutputLayout;
import io.rebundle.jobs.util.Sizes;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.layout.FileReuse;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.jobs.util.Json;
import java.io.PrintWriter;
import java.util.List;

/** The human summary, the dry-run plan and the JSON report of a conversion. */
public final class ConvertReport {
  private ConvertReport() {}

  public static void printSummary(PrintWriter out, ConvertJob.Result r) {
    MigrationPlan p = r.plan();
    out.printf("converted %s (%s) -> %s (%s)%n", r.sourcePrefix(), p.sourceFormat().id(),
        r.destination(), p.targetFormat().id());
    out.printf("  %d entries, %d tensors with data, %s in %d shard%s; %d renamed, %d dropped%n",
        p.tensors().size(), p.dataTensors(), Sizes.human(p.dataBytes()), r.numShards(),
        r.numShards() == 1 ? "" : "s", p.renamed().size(), p.dropped().size());
    for (MigrationPlan.Dropped d : p.dropped()) {
      out.printf("  dropped %s: %s%n", d.key(), d.reason());
    }
    for (String n : p.notes()) {
      out.printf("  note: %s%n", n);
    }
    OutputLayout layout = r.layout();
    if (!layout.reused().isEmpty()) {
      out.printf("  %d source data file%s (%s) %s, keeping their layout; %d new shard%s%n", layout.reused().size(),
          layout.reused().size() == 1 ? "" : "s", Sizes.human(layout.reusedBytes()),
          layout.mode() == FileReuse.Mode.LINK ? "hard-linked" : "copied whole", layout.newShards().size(),
          layout.newShards().size() == 1 ? "" : "s");
      if (!r.verified()) {
        out.printf("  note: the reused files' CRC32Cs were not checked; run `rebundle verify %s` to check every "
            + "byte (or convert with --verify-copies)%n", r.destination());
      }
    }
    double rate = r.copySeconds() > 0 ? p.dataBytes() / r.copySeconds() : 0;
    out.printf("  plan %.2f s, copy and commit %.2f s (%s/s)%n", r.planSeconds(), r.copySeconds(),
        Sizes.human((long) rate));
  }

  public static void printPlan(PrintWriter out, ConvertJob.Result r) {
    MigrationPlan p = r.plan();
    out.printf("plan: %s (%s) -> %s (%s), %d shard%s (dry run: nothing written)%n", r.sourcePrefix(),
        p.sourceFormat().id(), r.destination(), p.targetFormat().id(), r.numShards(),
        r.numShards() == 1 ? "" : "s");
    for (PlannedTensor t : p.tensors()) {
      String before = t instanceof PlannedTensor.FromSource f
          ? f.sourceEntry().dtypeName() + " " + f.sourceEntry().shape() + " -> " : "";
      out.printf("  %-9s %s -> %s  %s%s %s, %d bytes%s%n", t.kind().name().toLowerCase(java.util.Locale.ROOT),
          t.sourceName(), t.targetName(), before, t.dtypeName(), t.shape(), t.size(),
          t instanceof PlannedTensor.Transformed x ? " (" + x.transform().describe() + ")" : "");
    }
    for (MigrationPlan.Dropped d : p.dropped()) {
      out.printf("  dropped  %s: %s%n", d.key(), d.reason());
    }
    for (String n : p.notes()) {
      out.printf("  note: %s%n", n);
    }
    OutputLayout layout = r.layout();
    out.printf("  file reuse (%s): %s%n", r.options().reuse().mode().id(), layout.reason());
    for (FileReuse.Rejected x : layout.rejected()) {
      out.printf("  not reused: source shard %d: %s%n", x.sourceShard(), x.reason());
    }
    for (int i = 0; i < r.numShards(); i++) {
      String from = i < layout.reused().size() ? String.format(" (%s of %s, %s)",
          layout.mode() == FileReuse.Mode.LINK ? "a hard link" : "a copy",
          layout.reused().get(i).sourceFile(r.sourcePrefix()),
          r.verified() ? "CRC-checked" : "not CRC-checked") : "";
      out.printf("  shard %d: %d tensors, %d bytes%s%n", i, r.shardTensors()[i], r.shardBytes()[i], from);
    }
  }

  public static String json(List<ConvertJob.Result> results, double totalSeconds) {
    Json j = new Json().beginObject().field("total_seconds", totalSeconds);
    j.key("conversions").beginArray();
    for (ConvertJob.Result r : results) {
      MigrationPlan p = r.plan();
      j.beginObject()
          .field("source", r.options().source())
          .field("source_prefix", r.sourcePrefix())
          .field("destination", r.destination())
          .field("source_format", p.sourceFormat().id())
          .field("target_format", p.targetFormat().id())
          .field("dry_run", r.options().dryRun())
          .field("entries", p.tensors().size())
          .field("tensors", p.dataTensors())
          .field("bytes", p.dataBytes())
          .field("num_shards", r.numShards())
          .field("plan_seconds", r.planSeconds())
          .field("copy_seconds", r.copySeconds())
          .field("bytes_per_second", r.copySeconds() > 0 ? p.dataBytes() / r.copySeconds() : 0.0);
      OutputLayout layout = r.layout();
      j.key("reuse").beginObject()
          .field("requested", r.options().reuse().mode().id())
          .field("mode", layout.mode().id())
          .field("reason", layout.reason())
          .endObject();
      j.field("verified", r.verified());
      j.key("reused_files").beginArray();
      for (FileReuse.ReusedFile f : layout.reused()) {
        j.beginObject()
            .field("source", f.sourceFile(r.sourcePrefix()))
            .field("target", Naming.dataFile(r.destination(), f.targetShard(), r.numShards()))
            .field("mode", layout.mode().id())
            .field("bytes", f.bytes())
            .field("tensors", f.tensors().size())
            .endObject();
      }
      j.endArray().key("not_reused").beginArray();
      for (FileReuse.Rejected x : layout.rejected()) {
        j.beginObject().field("source_shard", x.sourceShard()).field("reason", x.reason()).endObject();
      }
      j.endArray();
      j.key("shards").beginArray();
      for (int i = 0; i < r.numShards(); i++) {
        j.beginObject().field("shard", i).field("tensors", r.shardTensors()[i]).field("bytes", r.shardBytes()[i]).endObject();
      }
      j.endArray().key("renamed").beginArray();
      for (MigrationPlan.Renamed x : p.renamed()) {
        j.beginObject().field("from", x.from()).field("to", x.to()).endObject();
      }
      j.endArray().key("dropped").beginArray();
      for (MigrationPlan.Dropped d : p.dropped()) {
        j.beginObject().field("key", d.key()).field("reason", d.reason()).endObject();
      }
      j.endArray().key("notes").beginArray();
      for (String n : p.notes()) {
        j.value(n);
      }
      j.endArray().endObject();
    }
    return j.endArray().endObject().toString();
  }
}
