package io.rebundle.codec.layout;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.MigrationPlan;
import io.rebundle.codec.plan.PlannedTensor;
import io.rebundle.codec.plan.SourceIndex;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which source data files a migration can reuse whole, and the output layout that follows (README
 * "fast paths"). Pure metadata work on the driver, like the planner: no tensor bytes are read.
 *
 * <p>A source data file qualifies when every byte of it belongs to exactly one index entry (no
 * gaps, no overlaps, nothing past its end) and every one of those entries is the source of a plain
 * {@link PlannedTensor.Kind#COPY} from the migration's main source: stored bytes unchanged (key
 * renamed, dtype and shape kept), no transform, no slice merge, not dropped. Such a file can be
 * copied as a whole, or hard-linked, and its entries keep their offset, size and CRC32C under their
 * new keys; only the shard id changes. A source entry copied to several targets stays in place for
 * the first and is streamed for the others.
 *
 * <p>Output layout: the reused files first, as shards {@code 0..k-1} in their source order, then
 * the new shards {@code k..k+m-1} that the {@link Scheduler} fills with everything else (generated
 * tensors such as {@code save_counter} and the object graph, transformed and merged tensors, the
 * tensors of files that did not qualify), written by the {@link ShardExecutor} as before.
 */
public final class FileReuse {
  /**
   * {@link Mode#AUTO} reuses files only when they hold at least this many bytes: below it streaming
   * takes milliseconds, checks every CRC and keeps the output in as few files as asked.
   */
  public static final long AUTO_MIN_BYTES = 64L << 20;

  private FileReuse() {}

  /** How reusable source data files reach the output. */
  public enum Mode {
    /**
     * {@link #COPY} when the plan is rename-only, no shard layout was asked for and enough bytes
     * qualify.
     */
    AUTO,
    /** Whole-file copies: in the kernel on a local disk, streamed on other storage. */
    COPY,
    /** Hard links: a local disk only, source and destination on one file system. */
    LINK,
    /** Every tensor streamed into new shards, each source CRC verified on the way. */
    NEVER;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code auto}, {@code copy}, {@code link} or {@code never}. */
    public static Mode parse(String id) {
      for (Mode m : values()) {
        if (m.id().equals(id)) {
          return m;
        }
      }
      throw new IllegalArgumentException(
          "Invalid file reuse mode: " + id + " (expected auto, copy, link or never)");
    }
  }

  /**
   * What the caller asked for: a mode, and whether reused files' tensors are CRC-checked by a read
   * pass.
   */
  public record Policy(Mode mode, boolean verifyCopies) implements Serializable {
    public Policy {
      if (mode == null) {
        throw new IllegalArgumentException("Invalid file reuse policy: no mode");
      }
    }

    public static Policy of(Mode mode) {
      return new Policy(mode, false);
    }

    public static Policy never() {
      return of(Mode.NEVER);
    }

    public Policy withVerification() {
      return new Policy(mode, true);
    }
  }

  /**
   * Source data file {@code sourceShard} (of {@code sourceShards}) kept whole as output shard
   * {@code targetShard}: {@code bytes} long, holding {@code tensors} (plain copies, in offset
   * order).
   */
  public record ReusedFile(
      int sourceShard,
      int sourceShards,
      int targetShard,
      long bytes,
      List<PlannedTensor.Copy> tensors)
      implements Serializable {
    public ReusedFile {
      tensors = List.copyOf(tensors);
    }

    /** The file's location under the source prefix {@code prefix}. */
    public String sourceFile(String prefix) {
      return Naming.dataFile(prefix, sourceShard, sourceShards);
    }

    /**
     * The output index entries: each source entry's offset, size and CRC under its new key and
     * shard.
     */
    public List<IndexRecord> entries() {
      List<IndexRecord> entries = new ArrayList<>(tensors.size());
      for (PlannedTensor.Copy t : tensors) {
        BundleEntry e = t.sourceEntry();
        entries.add(new IndexRecord(t.targetKey(), t.toEntry(targetShard, e.offset(), e.crc32c())));
      }
      return entries;
    }
  }

  /** A source data file that cannot be reused whole, and why. */
  public record Rejected(int sourceShard, String reason) implements Serializable {}

  /**
   * Every source data file that qualifies (target shards numbered from 0 in source order), every
   * one that does not with its reason, the planned tensors left for new shards (in plan order), and
   * whether the plan is rename-only: every tensor with bytes is a plain copy from the main source
   * or generated by the planner.
   */
  public record Analysis(
      List<ReusedFile> reusable,
      List<Rejected> rejected,
      List<PlannedTensor> rest,
      boolean renameOnly) {
    public Analysis {
      reusable = List.copyOf(reusable);
      rejected = List.copyOf(rejected);
      rest = List.copyOf(rest);
    }

    public long reusableBytes() {
      return reusable.stream().mapToLong(ReusedFile::bytes).sum();
    }
  }

  /**
   * Whether every tensor of {@code plan} that has bytes is a plain copy from the main source or
   * generated by the planner (no transform, no merge, nothing read from a template).
   */
  public static boolean renameOnly(MigrationPlan plan) {
    for (PlannedTensor t : plan.tensors()) {
      boolean plain =
          t instanceof PlannedTensor.Copy c
              ? c.sourcePrefix() == null
              : t instanceof PlannedTensor.Literal || t instanceof PlannedTensor.SlicedEntry;
      if (!plain) {
        return false;
      }
    }
    return true;
  }

  /**
   * The length of every data file of {@code source}, -1 for a missing one (the streaming path then
   * reports it as it always has). One metadata call per file.
   */
  public static long[] fileLengths(FileIO io, SourceIndex source) {
    long[] lengths = new long[source.numShards()];
    for (int s = 0; s < lengths.length; s++) {
      try {
        lengths[s] =
            io.newInputFile(Naming.dataFile(source.prefix(), s, source.numShards())).length();
      } catch (io.rebundle.codec.io.StorageFileNotFoundException e) {
        lengths[s] = -1;
      }
    }
    return lengths;
  }

  /**
   * Decides which data files of {@code source} qualify for reuse under {@code plan}, given each
   * data file's length ({@code lengths[shard]}, -1 if missing).
   */
  public static Analysis analyze(MigrationPlan plan, SourceIndex source, long[] lengths) {
    int n = source.numShards();
    if (lengths.length != n) {
      throw new IllegalArgumentException(
          "Invalid file lengths: " + lengths.length + " for " + n + " shards");
    }
    // The first plain copy of each source entry may keep its bytes in place; how other uses treat
    // it,
    // for the reasons of files that do not qualify.
    Map<ByteBuffer, PlannedTensor.Copy> firstCopy = new HashMap<>();
    Map<ByteBuffer, String> otherUse = new HashMap<>();
    for (PlannedTensor t : plan.tensors()) {
      if (t instanceof PlannedTensor.FromSource f && f.sourcePrefix() != null) {
        continue;
      }
      if (t instanceof PlannedTensor.Copy c) {
        firstCopy.putIfAbsent(ByteBuffer.wrap(c.sourceKey()), c);
      } else if (t instanceof PlannedTensor.Transformed x) {
        otherUse.putIfAbsent(
            ByteBuffer.wrap(x.sourceKey()),
            "is transformed (" + x.transform().describe() + ") into " + x.targetName());
      } else if (t instanceof PlannedTensor.MergedSlices m) {
        m.parts()
            .forEach(
                p ->
                    otherUse.putIfAbsent(
                        ByteBuffer.wrap(p.sourceKey()), "is merged into " + m.targetName()));
      }
    }
    Map<String, String> dropReason = new HashMap<>();
    plan.dropped().forEach(d -> dropReason.putIfAbsent(d.key(), d.reason()));

    List<List<IndexRecord>> byShard = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      byShard.add(new ArrayList<>());
    }
    for (IndexRecord r : source.records()) {
      BundleEntry e = r.entry();
      // An entry naming a shard that does not exist is corruption the streaming path reports.
      if (!e.isSliced() && e.shardId() < n) {
        byShard.get(e.shardId()).add(r);
      }
    }

    List<ReusedFile> reusable = new ArrayList<>();
    List<Rejected> rejected = new ArrayList<>();
    Set<PlannedTensor> placed = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int s = 0; s < n; s++) {
      List<IndexRecord> records = byShard.get(s);
      records.sort(
          Comparator.comparingLong((IndexRecord r) -> r.entry().offset())
              .thenComparingLong(r -> r.entry().size()));
      List<PlannedTensor.Copy> kept = new ArrayList<>();
      String reason = check(records, lengths[s], firstCopy, otherUse, dropReason, kept);
      if (reason != null) {
        rejected.add(new Rejected(s, reason));
        continue;
      }
      reusable.add(new ReusedFile(s, n, reusable.size(), lengths[s], kept));
      placed.addAll(kept);
    }
    List<PlannedTensor> rest = new ArrayList<>();
    for (PlannedTensor t : plan.tensors()) {
      if (!placed.contains(t)) {
        rest.add(t);
      }
    }
    return new Analysis(reusable, rejected, rest, renameOnly(plan));
  }

  /**
   * Null if a data file of {@code length} bytes holding {@code records} (sorted by offset) can be
   * reused, filling {@code kept} with the copies that stay in it; otherwise why not.
   */
  private static String check(
      List<IndexRecord> records,
      long length,
      Map<ByteBuffer, PlannedTensor.Copy> firstCopy,
      Map<ByteBuffer, String> otherUse,
      Map<String, String> dropReason,
      List<PlannedTensor.Copy> kept) {
    if (length < 0) {
      return "the data file is missing";
    }
    long at = 0;
    for (IndexRecord r : records) {
      BundleEntry e = r.entry();
      String name = r.name();
      PlannedTensor.Copy copy = firstCopy.get(ByteBuffer.wrap(r.key()));
      if (e.size() == 0) {
        // No bytes in the file: an empty tensor stays here when copied, and matters not otherwise.
        if (copy != null && e.offset() <= length && sizeProblem(name, e) == null) {
          kept.add(copy);
        }
        continue;
      }
      if (copy == null) {
        String use = otherUse.get(ByteBuffer.wrap(r.key()));
        if (use == null) {
          String dropped = dropReason.get(name);
          use = "is not in the output" + (dropped == null ? "" : " (" + dropped + ")");
        }
        return "it holds " + name + ", which " + use;
      }
      String problem = sizeProblem(name, e);
      if (problem != null) {
        return problem;
      }
      if (e.offset() > at) {
        return "bytes [" + at + ", " + e.offset() + ") belong to no entry";
      }
      if (e.offset() < at) {
        return "entries overlap at offset " + e.offset() + " (" + name + ")";
      }
      if (e.size() > length - e.offset()) {
        return "entry "
            + name
            + " ends at offset "
            + (e.offset() + e.size())
            + ", past the end of the file ("
            + length
            + " bytes)";
      }
      at = e.offset() + e.size();
      kept.add(copy);
    }
    if (at < length) {
      return "bytes [" + at + ", " + length + ") belong to no entry";
    }
    if (kept.isEmpty()) {
      return "it holds no tensor of the output";
    }
    return null;
  }

  /**
   * What the streaming path's size check (CheckpointReader#checkSize) would reject, so a reused
   * file never carries an entry that copying would have refused: null if none.
   */
  private static String sizeProblem(String name, BundleEntry e) {
    if (!DType.isKnown(e.dtypeCode())) {
      return "entry " + name + " has dtype code " + e.dtypeCode() + ", unknown to this version";
    }
    DType dtype = e.dtype();
    if (dtype == DType.RESOURCE) {
      return "entry " + name + " is a resource tensor, which cannot be stored";
    }
    long elements = e.shape().numElements();
    if (dtype.isFixedSize()) {
      long expected;
      try {
        expected = Math.multiplyExact(elements, dtype.elementSize());
      } catch (ArithmeticException ex) {
        expected = -1;
      }
      if (expected != e.size()) {
        return "entry "
            + name
            + " holds "
            + e.size()
            + " bytes, its dtype and shape need "
            + expected;
      }
    } else if (e.size() < elements) {
      return "entry "
          + name
          + " holds "
          + e.size()
          + " bytes, fewer than its "
          + elements
          + " elements need";
    }
    return null;
  }

  /**
   * The output layout for {@code plan}: the data files {@code policy} reuses and the new shards for
   * the rest. {@code shards} is the number of new shards (0: from {@code shardSize}). Asking for a
   * layout ({@code shards > 0} or a shard size other than the default) keeps {@link Mode#AUTO} from
   * reusing files, since reused files keep the source's layout. Reads the data files' lengths when
   * reuse is possible (one metadata call per file), never their bytes.
   */
  public static OutputLayout layout(
      FileIO io, MigrationPlan plan, SourceIndex source, Mode mode, int shards, long shardSize) {
    boolean layoutAsked = shards > 0 || shardSize != Scheduler.DEFAULT_SHARD_SIZE;
    if (mode == Mode.NEVER) {
      return streamed(
          plan, "file reuse is off: every tensor is streamed", List.of(), shards, shardSize);
    }
    if (mode == Mode.AUTO && !renameOnly(plan)) {
      return streamed(
          plan,
          "the plan transforms, merges or reads from a template",
          List.of(),
          shards,
          shardSize);
    }
    if (mode == Mode.AUTO && layoutAsked) {
      return streamed(
          plan,
          "a shard layout was asked for (--shards/--shard-size)",
          List.of(),
          shards,
          shardSize);
    }
    if (source.numShards() == 0) {
      return streamed(plan, "the source has no data files", List.of(), shards, shardSize);
    }
    if (mode == Mode.AUTO && io.readsAreRequests(source.prefix())) {
      // No server-side copy there (FileIO#copy streams through this process), so a reused file is
      // read twice, to copy it and to check it; streaming reads each byte once and checks it.
      return streamed(
          plan,
          "the source is on remote storage, where streaming reads each byte once and checks it on"
              + " the way (a whole-file copy would read it twice)",
          List.of(),
          shards,
          shardSize);
    }
    return layout(
        plan, analyze(plan, source, fileLengths(io, source)), mode, shards, shardSize, layoutAsked);
  }

  /**
   * {@link #layout(FileIO, MigrationPlan, SourceIndex, Mode, int, long)} from a finished analysis.
   */
  public static OutputLayout layout(
      MigrationPlan plan,
      Analysis analysis,
      Mode mode,
      int shards,
      long shardSize,
      boolean layoutAsked) {
    Mode effective = mode;
    String reason = null;
    if (mode == Mode.AUTO) {
      if (!analysis.renameOnly()) {
        reason = "the plan transforms, merges or reads from a template";
      } else if (layoutAsked) {
        reason = "a shard layout was asked for (--shards/--shard-size)";
      } else if (analysis.reusable().isEmpty()) {
        reason = "no source data file can be reused whole";
      } else if (analysis.reusableBytes() < AUTO_MIN_BYTES) {
        reason =
            "only "
                + analysis.reusableBytes()
                + " bytes could be reused, below the "
                + (AUTO_MIN_BYTES >> 20)
                + " MiB worth it: every tensor is streamed";
      }
      effective = reason == null ? Mode.COPY : Mode.NEVER;
    }
    if (effective == Mode.NEVER) {
      return streamed(
          plan,
          reason == null ? "file reuse is off: every tensor is streamed" : reason,
          analysis.rejected(),
          shards,
          shardSize);
    }
    if (analysis.reusable().isEmpty()) {
      return streamed(
          plan, "no source data file can be reused whole", analysis.rejected(), shards, shardSize);
    }
    List<PlannedTensor> rest = analysis.rest();
    long restTensors = rest.stream().filter(PlannedTensor::hasData).count();
    long restBytes =
        rest.stream().filter(PlannedTensor::hasData).mapToLong(PlannedTensor::size).sum();
    int m =
        restTensors == 0
            ? 0
            : shards > 0 ? shards : Scheduler.shardCount(restBytes, shardSize, restTensors);
    List<List<PlannedTensor>> fresh = m == 0 ? List.of() : Scheduler.assign(rest, m);
    int k = analysis.reusable().size();
    String how = effective == Mode.LINK ? "hard-linked" : "copied whole";
    reason =
        (mode == Mode.AUTO ? "rename-only plan; " : "")
            + k
            + " of "
            + (k + analysis.rejected().size())
            + " source data files "
            + how;
    return new OutputLayout(effective, reason, analysis.reusable(), fresh, analysis.rejected());
  }

  /**
   * Today's layout: every tensor streamed into {@code shards} new shards (0: from {@code
   * shardSize}).
   */
  private static OutputLayout streamed(
      MigrationPlan plan, String reason, List<Rejected> rejected, int shards, long shardSize) {
    int n =
        shards > 0 ? shards : Scheduler.shardCount(plan.dataBytes(), shardSize, plan.dataTensors());
    return new OutputLayout(
        Mode.NEVER, reason, List.of(), Scheduler.assign(plan.tensors(), n), rejected);
  }
}
