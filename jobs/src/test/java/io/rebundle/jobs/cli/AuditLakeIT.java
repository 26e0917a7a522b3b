package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.SharedSpark;
import io.rebundle.jobs.audit.AuditSpark;
import io.rebundle.jobs.audit.TfSaver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * The done-means test of issue 12: a lake of TensorFlow-written checkpoints (and the few things TF
 * Java cannot write: state files, which Python's CheckpointManager writes, not a kernel; a
 * SavedModel's saved_model.pb, which the audit only looks for) with every broken case, audited
 * through the command line; statistics compared tensor by tensor with an independent computation.
 */
class AuditLakeIT {
  @TempDir static Path dir;
  static Path lake;
  static Path out;
  static CliRunner result;
  static SparkSession spark;

  /**
   * Expected values: "relative/prefix key" -> values as doubles (the test's own computation input).
   */
  static final Map<String, double[]> VALUES = new LinkedHashMap<>();

  static final List<TType> OPEN = new ArrayList<>();

  static <T extends TType> T track(T t) {
    OPEN.add(t);
    return t;
  }

  static TFloat32 f32(String prefix, String key, float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    VALUES.put(prefix + " " + key, d);
    return track(TFloat32.tensorOf(Shape.of(v.length), DataBuffers.of(v)));
  }

  static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * 0.1);
    }
    return v;
  }

  static TString graph(Map<String, String> keysByPath) {
    // root -> one child per first path component -> attribute VARIABLE_VALUE with the key.
    List<ObjectGraph.Node> nodes = new ArrayList<>();
    List<ObjectGraph.Child> rootChildren = new ArrayList<>();
    int id = 1;
    List<ObjectGraph.Node> leaves = new ArrayList<>();
    for (Map.Entry<String, String> e : keysByPath.entrySet()) {
      rootChildren.add(new ObjectGraph.Child(id, e.getKey()));
      leaves.add(
          new ObjectGraph.Node(
              id,
              List.of(),
              List.of(
                  new ObjectGraph.Attribute(
                      "VARIABLE_VALUE", e.getKey().replace('.', '/'), e.getValue())),
              List.of(),
              null,
              null));
      id++;
    }
    nodes.add(new ObjectGraph.Node(0, rootChildren, List.of(), List.of(), null, null));
    nodes.addAll(leaves);
    return track(TString.tensorOfBytes(NdArrays.scalarOfObject(new ObjectGraph(nodes).encode())));
  }

  static String p(String rel) {
    return lake.resolve(rel).toString();
  }

  @BeforeAll
  static void buildLakeAndAudit() throws Exception {
    assumeTrue(TfSaver.available(), "TensorFlow's native library does not load on this machine");
    lake = dir.resolve("lake");
    out = dir.resolve("out");
    LocalFileIO io = new LocalFileIO();
    float[] adam = random(512, 99);
    // 1. An Estimator model directory with three steps (TF1 names, Adam slots, global_step).
    for (int step : new int[] {100, 200, 300}) {
      String rel = "teamA/estimator/model.ckpt-" + step;
      Map<String, TType> t = new LinkedHashMap<>();
      t.put("dense/kernel", f32(rel, "dense/kernel", random(512, step)));
      t.put("dense/kernel/Adam", f32(rel, "dense/kernel/Adam", adam));
      t.put("dense/kernel/Adam_1", f32(rel, "dense/kernel/Adam_1", random(64, step + 1)));
      t.put("global_step", track(TInt64.scalarOf(step)));
      VALUES.put(rel + " global_step", new double[] {step});
      TfSaver.save(p(rel), List.of(t));
    }
    new CheckpointState(
            "model.ckpt-300", List.of("model.ckpt-100", "model.ckpt-200", "model.ckpt-300"))
        .write(io, p("teamA/estimator"));
    // 2. A Keras SavedModel whose variables have two shards (SaveV2 per shard +
    // MergeV2Checkpoints).
    Files.createDirectories(lake.resolve("teamB/keras_savedmodel/variables"));
    Files.write(lake.resolve("teamB/keras_savedmodel/saved_model.pb"), new byte[] {0x08, 0x01});
    String km = "teamB/keras_savedmodel/variables/variables";
    String kKey = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE";
    String bKey = "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE";
    Map<String, TType> s0 = new LinkedHashMap<>();
    s0.put(kKey, f32(km, kKey, random(300, 7)));
    Map<String, TType> s1 = new LinkedHashMap<>();
    s1.put(bKey, f32(km, bKey, new float[] {0.5f, -0.25f, 0f, 1f}));
    s1.put("_CHECKPOINTABLE_OBJECT_GRAPH", graph(Map.of("kernel", kKey, "bias", bKey)));
    TfSaver.save(p(km), List.of(s0, s1));
    // 3. A CheckpointManager directory (TF2 names, save_counter, a slot).
    for (int i = 1; i <= 3; i++) {
      String rel = "teamB/manager/ckpt-" + i;
      String w = "model/w/.ATTRIBUTES/VARIABLE_VALUE";
      String slot = "model/w/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE";
      String counter = "save_counter/.ATTRIBUTES/VARIABLE_VALUE";
      Map<String, TType> t = new LinkedHashMap<>();
      t.put(w, f32(rel, w, random(256, 1000 + i)));
      t.put(slot, f32(rel, slot, random(256, 2000 + i)));
      t.put(counter, track(TInt64.scalarOf(i)));
      t.put("_CHECKPOINTABLE_OBJECT_GRAPH", graph(Map.of("w", w, "save_counter", counter)));
      TfSaver.save(p(rel), List.of(t));
    }
    new CheckpointState("ckpt-3", List.of("ckpt-1", "ckpt-2", "ckpt-3"))
        .write(io, p("teamB/manager"));
    // 4. NaN/Inf/float16/bfloat16/bool/int tensors, and a byte-for-byte copy elsewhere.
    String mixed = "teamC/mixed/ckpt-1";
    Map<String, TType> m = new LinkedHashMap<>();
    float[] halves = {Float.NaN, 1.5f, -2f, 65504f, Float.POSITIVE_INFINITY, 0f, 0.000061035156f};
    m.put("half", track(TFloat16.vectorOf(halves)));
    VALUES.put(mixed + " half", toDoubles(halves));
    float[] bf = {1f, -3f, 0.5f, Float.NEGATIVE_INFINITY, 1.0078125f};
    m.put("bf", track(TBfloat16.vectorOf(bf)));
    VALUES.put(mixed + " bf", toDoubles(bf));
    m.put("flags", track(TBool.vectorOf(true, false, true, true)));
    VALUES.put(mixed + " flags", new double[] {1, 0, 1, 1});
    m.put("ids", track(TInt32.vectorOf(-7, 0, 3, 2147483647)));
    VALUES.put(mixed + " ids", new double[] {-7, 0, 3, 2147483647});
    m.put("counts", track(TInt64.vectorOf(1L << 40, -5L, 0L)));
    VALUES.put(mixed + " counts", new double[] {1L << 40, -5, 0});
    float[] w = random(512, 42);
    w[3] = Float.NaN;
    w[9] = Float.NaN;
    w[20] = Float.POSITIVE_INFINITY;
    w[21] = Float.NEGATIVE_INFINITY;
    m.put("w", f32(mixed, "w", w));
    m.put("zeros", f32(mixed, "zeros", new float[300]));
    TfSaver.save(p(mixed), List.of(m));
    Files.createDirectories(lake.resolve("teamD/copy"));
    for (String f : new String[] {"ckpt-1.index", "ckpt-1.data-00000-of-00001"}) {
      Files.copy(lake.resolve("teamC/mixed").resolve(f), lake.resolve("teamD/copy").resolve(f));
    }
    // 5. A truncated SavedModel: its data file lost its last 100 bytes.
    Files.createDirectories(lake.resolve("teamC/broken_savedmodel/variables"));
    Files.write(lake.resolve("teamC/broken_savedmodel/saved_model.pb"), new byte[] {0x08, 0x01});
    String broken = "teamC/broken_savedmodel/variables/variables";
    Map<String, TType> b = new LinkedHashMap<>();
    b.put("a", f32(broken, "a", random(100, 1)));
    b.put("b", f32(broken, "b", random(100, 2)));
    TfSaver.save(p(broken), List.of(b));
    Path brokenData = lake.resolve(broken + ".data-00000-of-00001");
    try (FileChannel ch = FileChannel.open(brokenData, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 100);
    }
    // 6. A V1 checkpoint (the legacy Save op), named by its state file.
    Files.createDirectories(lake.resolve("legacy"));
    Map<String, TType> v1 = new LinkedHashMap<>();
    v1.put("old", track(TFloat32.vectorOf(1f, 2f)));
    TfSaver.saveV1(p("legacy/model.ckpt-5"), v1);
    new CheckpointState("model.ckpt-5", List.of("model.ckpt-5")).write(io, p("legacy"));
    // 7. A dangling state file.
    Files.createDirectories(lake.resolve("teamE/dangling"));
    new CheckpointState("ckpt-9", List.of("ckpt-9")).write(io, p("teamE/dangling"));
    // 8. A flipped data byte.
    String flipped = "teamE/flipped/ckpt-1";
    Map<String, TType> fl = new LinkedHashMap<>();
    fl.put("w", track(TFloat32.vectorOf(random(64, 5))));
    TfSaver.save(p(flipped), List.of(fl));
    Path flippedData = lake.resolve(flipped + ".data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(flippedData);
    bytes[10] ^= 0x40;
    Files.write(flippedData, bytes);
    // 9. An orphaned data file, a missing shard, an unreadable index.
    Files.createDirectories(lake.resolve("teamE/orphan"));
    Files.write(lake.resolve("teamE/orphan/ckpt-7.data-00000-of-00001"), new byte[64]);
    String twoShards = "teamE/missing/ckpt-1";
    Map<String, TType> a0 = new LinkedHashMap<>();
    a0.put("x", track(TFloat32.vectorOf(1f)));
    Map<String, TType> a1 = new LinkedHashMap<>();
    a1.put("y", track(TFloat32.vectorOf(2f)));
    TfSaver.save(p(twoShards), List.of(a0, a1));
    Files.delete(lake.resolve(twoShards + ".data-00001-of-00002"));
    Files.createDirectories(lake.resolve("teamE/corrupt_index"));
    Files.write(lake.resolve("teamE/corrupt_index/ckpt-1.index"), new byte[100]);
    Files.write(lake.resolve("teamE/corrupt_index/ckpt-1.data-00000-of-00001"), new byte[8]);
    OPEN.forEach(TType::close);

    spark = AuditSpark.session();
    result =
        run(
            "audit",
            lake.toString(),
            "--out",
            out.toString(),
            "--report",
            dir.resolve("report.json").toString(),
            "--html",
            dir.resolve("report.html").toString());
  }

  static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  static CliRunner run(String... args) {
    picocli.CommandLine.IFactory factory =
        new picocli.CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            if (cls == AuditCommand.class) {
              return cls.cast(
                  new AuditCommand(new io.rebundle.jobs.spark.LentContext(SharedSpark.context())));
            }
            return picocli.CommandLine.defaultFactory().create(cls);
          }
        };
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true), factory);
    return new CliRunner(code, o.toString(), e.toString());
  }

  static String rel(String checkpoint) {
    String root = "file:" + lake.toAbsolutePath() + "/";
    assertTrue(checkpoint.startsWith(root), checkpoint);
    return checkpoint.substring(root.length());
  }

  @Test
  void exitCodeIsOneAndNothingStoppedTheAudit() {
    assertEquals(1, result.exitCode(), result.err());
    assertTrue(result.out().contains("audit: "), result.out());
    assertFalse(result.err().contains("Exception"), result.err());
  }

  @Test
  void everyBrokenCaseHasItsFinding() {
    Map<String, Set<String>> kinds = new HashMap<>();
    List<Row> rows = spark.read().parquet(out.resolve("findings").toString()).collectAsList();
    for (Row r : rows) {
      kinds.computeIfAbsent(rel(r.getString(0)), k -> new HashSet<>()).add(r.getString(2));
      assertEquals(io.rebundle.jobs.audit.Finding.severityOf(r.getString(2)), r.getString(3));
    }
    assertTrue(kinds.get("teamE/flipped/ckpt-1").contains("crc_mismatch"), kinds.toString());
    assertTrue(kinds.get("teamE/missing/ckpt-1").contains("missing_shard"), kinds.toString());
    assertTrue(
        kinds.get("teamC/broken_savedmodel/variables/variables").contains("truncated"),
        kinds.toString());
    assertTrue(kinds.get("teamE/corrupt_index/ckpt-1").contains("unreadable"), kinds.toString());
    assertTrue(kinds.get("legacy/model.ckpt-5").contains("v1_format"), kinds.toString());
    assertTrue(kinds.get("teamE/dangling/ckpt-9").contains("dangling_state"), kinds.toString());
    assertTrue(
        kinds.get("teamC/mixed/ckpt-1").containsAll(Set.of("nan", "inf", "all_zero")),
        kinds.toString());
    assertTrue(kinds.get("teamD/copy/ckpt-1").contains("duplicate_checkpoint"), kinds.toString());
    assertTrue(kinds.get("teamE/orphan/ckpt-7").contains("orphan_data_file"), kinds.toString());
    // The Adam slot is the same at every Estimator step: duplicate tensors, not checkpoints.
    assertTrue(
        kinds.get("teamA/estimator/model.ckpt-200").contains("duplicate_tensor"), kinds.toString());
    assertFalse(
        kinds
            .getOrDefault("teamA/estimator/model.ckpt-100", Set.of())
            .contains("duplicate_tensor"));
    // Healthy checkpoints have no error.
    for (String healthy :
        List.of("teamB/manager/ckpt-1", "teamB/keras_savedmodel/variables/variables")) {
      assertFalse(
          kinds.getOrDefault(healthy, Set.of()).stream()
              .anyMatch(k -> io.rebundle.jobs.audit.Finding.severityOf(k).equals("error")),
          healthy + " " + kinds.get(healthy));
    }
    // verify's wording.
    Row crc =
        rows.stream().filter(r -> r.getString(2).equals("crc_mismatch")).findFirst().orElseThrow();
    assertTrue(crc.getString(4).startsWith("Checksum mismatch for tensor w in "), crc.getString(4));
    Row missing =
        rows.stream().filter(r -> r.getString(2).equals("missing_shard")).findFirst().orElseThrow();
    assertTrue(
        missing
            .getString(4)
            .endsWith("ckpt-1.data-00001-of-00002: data file (shard 1 of 2) is missing"),
        missing.getString(4));
  }

  @Test
  void statisticsMatchAnIndependentComputationTensorByTensor() {
    List<Row> rows =
        spark
            .sql(
                "SELECT checkpoint, key, elements, nan_count, posinf_count, neginf_count, zero_count, "
                    + "min, max, mean, std, l2_norm, abs_max, crc_ok, dtype FROM parquet.`"
                    + out.resolve("tensors")
                    + "`")
            .collectAsList();
    int checked = 0;
    for (Row r : rows) {
      String id = rel(r.getString(0)) + " " + r.getString(1);
      double[] v = VALUES.get(id);
      if (v == null || id.startsWith("teamD/")) {
        continue;
      }
      if (id.equals("teamC/broken_savedmodel/variables/variables b")) {
        assertTrue(r.isNullAt(3), id + ": the truncated tensor has no statistics");
        continue;
      }
      long nan = 0, pinf = 0, ninf = 0, zero = 0, n = 0;
      double min = Double.POSITIVE_INFINITY,
          max = Double.NEGATIVE_INFINITY,
          sum = 0,
          sq = 0,
          absMax = 0;
      for (double x : v) {
        if (Double.isNaN(x)) {
          nan++;
        } else if (Double.isInfinite(x)) {
          if (x > 0) {
            pinf++;
          } else {
            ninf++;
          }
        } else {
          n++;
          zero += x == 0 ? 1 : 0;
          min = Math.min(min, x);
          max = Math.max(max, x);
          sum += x;
          sq += x * x;
          absMax = Math.max(absMax, Math.abs(x));
        }
      }
      double mean = sum / n;
      double dev = 0;
      for (double x : v) {
        if (Double.isFinite(x)) {
          dev += (x - mean) * (x - mean);
        }
      }
      assertEquals(v.length, r.getLong(2), id);
      assertEquals(nan, r.getLong(3), id);
      assertEquals(pinf, r.getLong(4), id);
      assertEquals(ninf, r.getLong(5), id);
      assertEquals(zero, r.getLong(6), id);
      close(min, r.getDouble(7), id);
      close(max, r.getDouble(8), id);
      close(mean, r.getDouble(9), id);
      close(Math.sqrt(dev / n), r.getDouble(10), id);
      close(Math.sqrt(sq), r.getDouble(11), id);
      close(absMax, r.getDouble(12), id);
      checked++;
    }
    assertTrue(checked >= 25, "checked " + checked);
  }

  static void close(double expected, double actual, String id) {
    assertTrue(
        Math.abs(expected - actual) <= 1e-6 * Math.abs(expected) + 1e-300,
        id + ": expected " + expected + " but was " + actual);
  }

  @Test
  void checkpointsTableKnowsStepsLatestFormatsAndOptimizerBytes() {
    Map<String, Row> byRel = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("checkpoints").toString()).collectAsList()) {
      byRel.put(rel(r.getString(0)), r);
    }
    Row est = byRel.get("teamA/estimator/model.ckpt-300");
    assertEquals("tf1", est.getAs("format"));
    assertEquals(300L, (long) est.getAs("step"));
    assertTrue(est.<Boolean>getAs("is_latest"));
    assertFalse(byRel.get("teamA/estimator/model.ckpt-100").<Boolean>getAs("is_latest"));
    assertEquals(4L * (512 + 64), (long) est.getAs("optimizer_bytes"));
    assertEquals(4L * (512 + 512 + 64) + 8, (long) est.getAs("bytes"));
    Row mgr = byRel.get("teamB/manager/ckpt-2");
    assertEquals("tf2", mgr.getAs("format"));
    assertEquals(2L, (long) mgr.getAs("step"));
    assertEquals(4L * 256, (long) mgr.getAs("optimizer_bytes"));
    Row keras = byRel.get("teamB/keras_savedmodel/variables/variables");
    assertEquals("saved_model", keras.getAs("kind"));
    assertEquals(2, (int) keras.getAs("num_shards"));
    assertTrue(keras.<Boolean>getAs("is_latest"));
    assertEquals(
        byRel.get("teamC/mixed/ckpt-1").<String>getAs("fingerprint"),
        byRel.get("teamD/copy/ckpt-1").<String>getAs("fingerprint"));
    assertNotNull(byRel.get("teamC/mixed/ckpt-1").<String>getAs("fingerprint"));
    assertEquals("v1", byRel.get("legacy/model.ckpt-5").getAs("kind"));
    assertFalse(byRel.get("teamE/flipped/ckpt-1").getList(12).isEmpty());
    // TF2 names from the object graph.
    Row kernel =
        spark
            .sql(
                "SELECT full_name, object_path, is_optimizer_slot FROM parquet.`"
                    + out.resolve("tensors")
                    + "` WHERE key = 'layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE'")
            .collectAsList()
            .get(0);
    assertEquals("kernel", kernel.getString(0));
    assertEquals("kernel", kernel.getString(1));
    assertFalse(kernel.getBoolean(2));
    assertNull(
        spark
            .sql(
                "SELECT full_name FROM parquet.`"
                    + out.resolve("tensors")
                    + "` WHERE key = 'dense/kernel'")
            .collectAsList()
            .get(0)
            .get(0));
  }

  @Test
  void reportsAreWrittenAndTheHtmlIsSelfContained() throws Exception {
    String json = Files.readString(dir.resolve("report.json"));
    assertTrue(json.contains("\"exit_code\" : 1"), json);
    assertTrue(json.contains("\"crc_mismatch\" : 1"), json);
    String html = Files.readString(dir.resolve("report.html"));
    for (String section :
        List.of(
            "summary",
            "findings",
            "bytes-per-model",
            "dtype-mix",
            "largest-tensors",
            "nan-inf",
            "duplicates",
            "optimizer-share")) {
      assertTrue(html.contains("<section id=\"" + section + "\">"), section);
    }
    assertFalse(html.contains("<script"));
    assertFalse(html.contains("src="));
    assertFalse(html.contains("href="));
    assertFalse(html.contains("url("));
    assertFalse(html.contains("@import"));
    assertEquals(
        html.split("http", -1).length - 1,
        html.split("xmlns=\"http://www.w3.org/2000/svg\"", -1).length - 1,
        "the only http text is the SVG namespace");
    assertTrue(html.contains("Checksum mismatch for tensor w"));
    assertTrue(html.contains("float16") && html.contains("bfloat16"));
    assertTrue(html.contains("estimator/model.ckpt-300"));
  }

  @Test
  void incrementalKeepsUnchangedCheckpointsAndUsageErrorsExitTwo() throws Exception {
    Path out2 = dir.resolve("out2");
    CliRunner first =
        run(
            "audit",
            lake.resolve("teamA").toString(),
            "--out",
            out2.toString(),
            "--fail-on",
            "info");
    assertEquals(
        1, first.exitCode(), first.err()); // the Adam slot repeats: duplicate_tensor is info
    CliRunner again =
        run(
            "audit",
            lake.resolve("teamA").toString(),
            "--out",
            out2.toString(),
            "--incremental",
            "--fail-on",
            "error");
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("(0 scanned, 3 unchanged)"), again.out());
    assertEquals(12, spark.read().parquet(out2.resolve("tensors").toString()).count());
    assertEquals(2, run("audit", lake.toString()).exitCode());
    assertEquals(
        2,
        run("audit", lake.toString(), "--out", out2.toString(), "--fail-on", "fatal").exitCode());
  }
}
