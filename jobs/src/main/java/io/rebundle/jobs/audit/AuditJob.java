package io.rebundle.jobs.audit;

import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.stats.TensorDigest;
import io.rebundle.jobs.discover.CheckpointDiscovery;
import io.rebundle.jobs.discover.DiscoveredCheckpoint;
import io.rebundle.jobs.io.HadoopFileIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The audit: discovers every checkpoint under some roots, scans every tensor (statistics, CRC and
 * fingerprint in one read), and derives the {@code checkpoints} and {@code findings} tables. Never
 * stops at a bad checkpoint: each problem becomes a finding. See README "Audit" for every column
 * and finding kind.
 */
public final class AuditJob {
  /** What to audit and where to put it. */
  public record Options(
      List<String> roots,
      String out,
      String format,
      String tablePrefix,
      boolean incremental,
      boolean stats,
      CheckpointDiscovery.Options discovery) {}

  /** The result: the three tables (collected: the checkpoint and finding tables are small). */
  public record Result(
      List<Row> checkpoints,
      List<Finding> findings,
      Dataset<Row> tensors,
      long tensorCount,
      long checkpointsScanned,
      long checkpointsKept) {}

  public static final StructType CHECKPOINTS_SCHEMA =
      new StructType()
          .add("checkpoint", DataTypes.StringType, false)
          .add("model_dir", DataTypes.StringType, true)
          .add("kind", DataTypes.StringType, false)
          .add("format", DataTypes.StringType, true)
          .add("num_tensors", DataTypes.LongType, true)
          .add("bytes", DataTypes.LongType, true)
          .add("num_shards", DataTypes.IntegerType, true)
          .add("step", DataTypes.LongType, true)
          .add("optimizer_bytes", DataTypes.LongType, true)
          .add("is_latest", DataTypes.BooleanType, false)
          .add("fingerprint", DataTypes.StringType, true)
          .add("index_fingerprint", DataTypes.StringType, true)
          .add("problems", DataTypes.createArrayType(DataTypes.StringType, false), false);

  public static final StructType FINDINGS_SCHEMA =
      new StructType()
          .add("checkpoint", DataTypes.StringType, false)
          .add("key", DataTypes.StringType, true)
          .add("kind", DataTypes.StringType, false)
          .add("severity", DataTypes.StringType, false)
          .add("message", DataTypes.StringType, false);

  /**
   * Tensors smaller than this are not reported as duplicates (zeros and tiny biases repeat
   * everywhere).
   */
  static final long DUPLICATE_TENSOR_MIN_BYTES = 1024;

  private AuditJob() {}

  public static Result run(SparkSession spark, Configuration conf, Options o) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    FileIO io = new HadoopFileIO(conf);
    CheckpointDiscovery.Result found = CheckpointDiscovery.discover(conf, o.roots(), o.discovery());
    List<DiscoveredCheckpoint> all = found.checkpoints();
    List<DiscoveredCheckpoint> indexed =
        all.stream().filter(DiscoveredCheckpoint::hasIndex).toList();
    // Index facts, in parallel on the executors.
    List<CheckpointFacts> factList =
        indexed.isEmpty()
            ? List.of()
            : jsc.parallelize(
                    indexed, Math.max(1, Math.min(indexed.size(), 4 * jsc.defaultParallelism())))
                .map(c -> CheckpointFacts.of(io, c))
                .collect();
    Map<String, CheckpointFacts> facts = new HashMap<>();
    factList.forEach(f -> facts.put(f.prefix(), f));

    // Incremental: keep the rows of checkpoints whose index fingerprint is unchanged.
    Set<String> unchanged = new HashSet<>();
    Dataset<Row> keptTensors = null;
    if (o.incremental()
        && o.out() != null
        && exists(conf, o.out() + "/checkpoints")
        && exists(conf, o.out() + "/tensors")) {
      Dataset<Row> old = spark.read().format(o.format()).load(o.out() + "/checkpoints");
      for (Row r : old.select("checkpoint", "index_fingerprint").collectAsList()) {
        CheckpointFacts f = facts.get(r.getString(0));
        if (f != null
            && f.indexFingerprint() != null
            && f.indexFingerprint().equals(r.getString(1))) {
          unchanged.add(r.getString(0));
        }
      }
      if (!unchanged.isEmpty()) {
        keptTensors =
            spark
                .read()
                .format(o.format())
                .load(o.out() + "/tensors")
                .where(org.apache.spark.sql.functions.col("checkpoint").isin(unchanged.toArray()))
                .localCheckpoint(true); // materialized: the old files are replaced below
      }
    }

    ScanOptions scan =
        new ScanOptions(
            true,
            o.stats(),
            true,
            null,
            null,
            null,
            true,
            ScanOptions.DEFAULT_SPLIT,
            ScanOptions.DEFAULT_OPEN_COST);
    if (!o.stats()) {
      scan =
          new ScanOptions(
              false,
              false,
              true,
              null,
              null,
              null,
              true,
              ScanOptions.DEFAULT_SPLIT,
              ScanOptions.DEFAULT_OPEN_COST);
    }
    final ScanOptions so = scan;
    TensorScanPlanner.Plan plan =
        TensorScanPlanner.plan(
            jsc,
            io,
            new CheckpointDiscovery.Result(indexed, List.of()),
            so,
            p -> !unchanged.contains(p));
    List<List<CheckpointWork>> parts = plan.partitions();
    JavaRDD<Row> rows =
        parts.isEmpty()
            ? jsc.emptyRDD()
            : jsc.parallelize(parts, parts.size())
                .flatMap(works -> toRows(TfCheckpointScan.rows(io, so, works)));
    Dataset<Row> tensors = spark.createDataFrame(rows, TensorColumns.SCHEMA);
    if (keptTensors != null) {
      tensors = tensors.unionByName(keptTensors);
    }
    tensors = tensors.persist(StorageLevel.MEMORY_AND_DISK());

    List<Finding> findings = new ArrayList<>();
    for (String p : found.rootProblems()) {
      findings.add(new Finding(String.join(",", o.roots()), null, "unreadable", Finding.ERROR, p));
    }
    for (DiscoveredCheckpoint c : all) {
      switch (c.kind()) {
        case V1 -> findings.add(Finding.of(c.prefix(), null, "v1_format", c.problems().get(0)));
        case DANGLING_STATE ->
            findings.add(Finding.of(c.prefix(), null, "dangling_state", c.problems().get(0)));
        case ORPHAN_DATA ->
            findings.add(Finding.of(c.prefix(), null, "orphan_data_file", c.problems().get(0)));
        case SAVED_MODEL -> {
          if (!c.hasIndex()) {
            findings.add(Finding.of(c.prefix(), null, "truncated", c.problems().get(0)));
          }
        }
        default -> {}
      }
    }
    factList.forEach(f -> findings.addAll(f.findings()));

    // Per-tensor findings and per-checkpoint sums, from one pass over the (cached) tensor table.
    Dataset<Row> slim =
        tensors.select(
            "checkpoint",
            "key",
            "dtype",
            "elements",
            "bytes",
            "crc_ok",
            "nan_count",
            "posinf_count",
            "neginf_count",
            "zero_count",
            "fingerprint",
            "is_optimizer_slot",
            "problem_kind",
            "problem");
    Map<String, long[]> sums = new TreeMap<>();
    Map<String, List<String[]>> keyPrints = new HashMap<>();
    Map<String, List<String[]>> byFingerprint = new HashMap<>();
    Iterator<Row> it = slim.toLocalIterator();
    long tensorCount = 0;
    while (it.hasNext()) {
      Row r = it.next();
      tensorCount++;
      String cp = r.getString(0);
      String key = r.getString(1);
      long elements = r.getLong(3);
      long bytes = r.getLong(4);
      long[] s = sums.computeIfAbsent(cp, k -> new long[3]);
      s[0]++;
      s[1] += bytes;
      if (r.getBoolean(11)) {
        s[2] += bytes;
      }
      String kind = r.isNullAt(12) ? null : r.getString(12);
      if (kind != null && !kind.equals(TensorScanner.MISSING_SHARD) && !kind.equals("sliced")) {
        findings.add(Finding.of(cp, key, kind, r.getString(13)));
      }
      if (!r.isNullAt(6)) {
        long nan = r.getLong(6);
        long inf = r.getLong(7) + r.getLong(8);
        if (nan > 0) {
          findings.add(
              Finding.of(
                  cp,
                  key,
                  "nan",
                  "tensor "
                      + key
                      + " holds "
                      + nan
                      + " NaN value"
                      + (nan == 1 ? "" : "s")
                      + " among "
                      + elements
                      + " elements"));
        }
        if (inf > 0) {
          findings.add(
              Finding.of(
                  cp,
                  key,
                  "inf",
                  "tensor "
                      + key
                      + " holds "
                      + inf
                      + " infinite value"
                      + (inf == 1 ? "" : "s")
                      + " ("
                      + r.getLong(7)
                      + " +Inf, "
                      + r.getLong(8)
                      + " -Inf) among "
                      + elements
                      + " elements"));
        }
        if (elements > 0 && r.getLong(9) == elements) {
          findings.add(
              Finding.of(
                  cp,
                  key,
                  "all_zero",
                  "tensor " + key + " is all zeros (" + elements + " elements)"));
        }
      }
      String fp = r.isNullAt(10) ? null : r.getString(10);
      keyPrints.computeIfAbsent(cp, k -> new ArrayList<>()).add(new String[] {key, fp});
      if (fp != null
          && bytes >= DUPLICATE_TENSOR_MIN_BYTES
          && !key.equals(Naming.OBJECT_GRAPH_KEY)) {
        byFingerprint
            .computeIfAbsent(fp, k -> new ArrayList<>())
            .add(new String[] {cp, key, Long.toString(bytes)});
      }
    }

    // Checkpoint fingerprints and duplicates.
    Map<String, String> cpFingerprint = new HashMap<>();
    keyPrints.forEach(
        (cp, list) -> {
          if (list.stream().allMatch(x -> x[1] != null)) {
            list.sort(Comparator.comparing(x -> x[0]));
            cpFingerprint.put(
                cp,
                TensorDigest.checkpointFingerprint(
                    list.stream().map(x -> x[0]).toList(), list.stream().map(x -> x[1]).toList()));
          }
        });
    Map<String, List<String>> byCpFingerprint = new TreeMap<>();
    cpFingerprint.forEach(
        (cp, f) -> byCpFingerprint.computeIfAbsent(f, k -> new ArrayList<>()).add(cp));
    Set<String> duplicateCheckpoints = new HashSet<>();
    for (List<String> group : byCpFingerprint.values()) {
      if (group.size() > 1) {
        group.sort(null);
        for (String cp : group.subList(1, group.size())) {
          duplicateCheckpoints.add(cp);
          findings.add(
              Finding.of(
                  cp,
                  null,
                  "duplicate_checkpoint",
                  "checkpoint " + cp + " holds exactly the same tensors as " + group.get(0)));
        }
      }
    }
    for (List<String[]> group : byFingerprint.values()) {
      if (group.size() < 2) {
        continue;
      }
      group.sort(Comparator.comparing((String[] x) -> x[0]).thenComparing(x -> x[1]));
      String[] first = group.get(0);
      for (String[] x : group.subList(1, group.size())) {
        if (duplicateCheckpoints.contains(x[0])) {
          continue; // reported once, as a whole checkpoint
        }
        findings.add(
            Finding.of(
                x[0],
                x[1],
                "duplicate_tensor",
                "tensor "
                    + x[1]
                    + " ("
                    + x[2]
                    + " bytes) has the same dtype, shape and bytes as "
                    + first[1]
                    + " in "
                    + first[0]));
      }
    }
    findings.sort(
        Comparator.comparing(Finding::checkpoint)
            .thenComparing(f -> f.key() == null ? "" : f.key())
            .thenComparing(Finding::kind));

    Map<String, List<String>> problemsOf = new HashMap<>();
    for (Finding f : findings) {
      if (Finding.rank(f.severity()) >= 1) {
        problemsOf
            .computeIfAbsent(f.checkpoint(), k -> new ArrayList<>())
            .add(f.kind() + ": " + f.message());
      }
    }
    List<Row> checkpoints = new ArrayList<>();
    for (DiscoveredCheckpoint c : all) {
      CheckpointFacts f = facts.get(c.prefix());
      long[] s = sums.get(c.prefix());
      checkpoints.add(
          RowFactory.create(
              c.prefix(),
              c.modelDir(),
              c.kind().label(),
              f != null ? f.format() : c.kind() == DiscoveredCheckpoint.Kind.V1 ? "tf1" : null,
              s == null ? null : s[0],
              s == null ? null : s[1],
              f == null ? null : f.numShards(),
              f == null ? null : f.step(),
              s == null ? null : s[2],
              c.isLatest(),
              cpFingerprint.get(c.prefix()),
              f == null ? null : f.indexFingerprint(),
              problemsOf.getOrDefault(c.prefix(), List.of()).toArray(new String[0])));
    }
    return new Result(
        checkpoints,
        findings,
        tensors,
        tensorCount,
        indexed.size() - unchanged.size(),
        unchanged.size());
  }

  private static Iterator<Row> toRows(Iterator<Object[]> rows) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        Object[] r = rows.next().clone();
        if (r[6] instanceof long[] a) {
          List<Long> l = new ArrayList<>(a.length);
          for (long x : a) {
            l.add(x);
          }
          r[6] = scala.jdk.javaapi.CollectionConverters.asScala(l).toSeq();
        }
        return RowFactory.create(r);
      }
    };
  }

  /**
   * Writes the three tables. Each is written beside its final place and swapped in only once
   * complete, so a failed audit leaves the previous tables as they were.
   */
  public static void write(SparkSession spark, Configuration conf, Options o, Result r) {
    Dataset<Row> checkpoints =
        spark.createDataFrame(r.checkpoints(), CHECKPOINTS_SCHEMA).coalesce(1);
    List<Row> findingRows =
        r.findings().stream()
            .map(
                f ->
                    RowFactory.create(f.checkpoint(), f.key(), f.kind(), f.severity(), f.message()))
            .toList();
    Dataset<Row> findings = spark.createDataFrame(findingRows, FINDINGS_SCHEMA).coalesce(1);
    if (o.out() != null) {
      String stamp = Long.toString(System.currentTimeMillis());
      Map<String, Dataset<Row>> tables = new java.util.LinkedHashMap<>();
      tables.put("tensors", r.tensors());
      tables.put("checkpoints", checkpoints);
      tables.put("findings", findings);
      for (Map.Entry<String, Dataset<Row>> t : tables.entrySet()) {
        t.getValue()
            .write()
            .format(o.format())
            .mode(SaveMode.ErrorIfExists)
            .save(o.out() + "/_" + t.getKey() + "-" + stamp);
      }
      for (String t : tables.keySet()) {
        swap(conf, o.out() + "/_" + t + "-" + stamp, o.out() + "/" + t);
      }
    }
    if (o.tablePrefix() != null) {
      r.tensors()
          .write()
          .format(o.format())
          .mode(SaveMode.Overwrite)
          .saveAsTable(o.tablePrefix() + "_tensors");
      checkpoints
          .write()
          .format(o.format())
          .mode(SaveMode.Overwrite)
          .saveAsTable(o.tablePrefix() + "_checkpoints");
      findings
          .write()
          .format(o.format())
          .mode(SaveMode.Overwrite)
          .saveAsTable(o.tablePrefix() + "_findings");
    }
  }

  private static boolean exists(Configuration conf, String location) {
    Path p = new Path(location);
    try {
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stat " + location + ": " + e.getMessage(), e);
    }
  }

  /**
   * Moves a complete new table into place; the old one is removed only after the new one is there.
   */
  private static void swap(Configuration conf, String staged, String target) {
    Path s = new Path(staged);
    Path t = new Path(target);
    Path old = new Path(target + "-old-" + System.nanoTime());
    try {
      FileSystem fs = t.getFileSystem(conf);
      boolean hadOld = fs.exists(t);
      if (hadOld && !fs.rename(t, old)) {
        throw new IOException("rename of the previous table failed");
      }
      if (!fs.rename(s, t)) {
        if (hadOld) {
          fs.rename(old, t);
        }
        throw new IOException("rename of the new table failed");
      }
      if (hadOld) {
        fs.delete(old, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot replace table " + target + " with " + staged + ": " + e.getMessage(), e);
    }
  }

  /** The summary written by --report, as a map ready for JSON. */
  public static Map<String, Object> summary(Result r, String failOn, int exitCode) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("checkpoints", r.checkpoints().size());
    m.put("checkpoints_scanned", r.checkpointsScanned());
    m.put("checkpoints_kept", r.checkpointsKept());
    m.put("tensors", r.tensorCount());
    long bytes = 0;
    long optimizer = 0;
    for (Row c : r.checkpoints()) {
      bytes += c.isNullAt(5) ? 0 : c.getLong(5);
      optimizer += c.isNullAt(8) ? 0 : c.getLong(8);
    }
    m.put("bytes", bytes);
    m.put("optimizer_bytes", optimizer);
    Map<String, Integer> bySeverity = new TreeMap<>();
    Map<String, Integer> byKind = new TreeMap<>();
    for (Finding f : r.findings()) {
      bySeverity.merge(f.severity(), 1, Integer::sum);
      byKind.merge(f.kind(), 1, Integer::sum);
    }
    m.put("findings", r.findings().size());
    m.put("findings_by_severity", bySeverity);
    m.put("findings_by_kind", byKind);
    m.put("fail_on", failOn);
    m.put("exit_code", exitCode);
    return m;
  }

  /** Exit code: 1 if any finding is at or above {@code failOn}. */
  public static int exitCode(List<Finding> findings, String failOn) {
    int threshold = Finding.rank(failOn);
    for (Finding f : findings) {
      if (Finding.rank(f.severity()) >= threshold) {
        return 1;
      }
    }
    return 0;
  }
}
