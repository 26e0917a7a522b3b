package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffCommandTest {
  @TempDir Path dir;

  static Tensor floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(v.length), b.array());
  }

  private String write(String name, Tensor w, Tensor step, String extra) {
    String prefix = dir.resolve(name).toString();
    try (CheckpointWriter cw = CheckpointWriter.create(new LocalFileIO(), prefix)) {
      cw.add("w", w);
      cw.add("step", step);
      cw.add("ids", Tensor.of(DType.INT32, TensorShape.of(2), new byte[] {1, 0, 0, 0, 2, 0, 0, 0}));
      if (extra != null) {
        cw.add(extra, floats(0));
      }
      cw.finish();
    }
    return prefix;
  }

  @Test
  void reportsKeyAndValueDifferencesAndExitsOne() {
    String a =
        write(
            "a",
            floats(1, 2, 3, Float.NaN),
            Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]),
            "only_a");
    String b =
        write(
            "b",
            floats(1, 2.5f, 3, Float.NaN),
            Tensor.of(DType.INT32, TensorShape.SCALAR, new byte[4]),
            "only_b");
    CliRunner r = CliRunner.run("diff", a, b);
    assertEquals(1, r.exitCode(), r.err());
    assertEquals(
        String.join(
            "\n",
            "A: " + a,
            "B: " + b,
            "only in A (1): only_a",
            "only in B (1): only_b",
            "mismatch step: int64 [] vs int32 []",
            "KEY  DTYPE        ELEMENTS   DIFFERING       MAX_ABS       MAX_REL",
            "w    float32             4           1      0.500000      0.200000",
            "different: 1 equal tensors, 1 with different values, 1 mismatched, 1 only in A, 1 only in B",
            ""),
        r.out());
    CliRunner j = CliRunner.run("diff", "--json", a, b);
    assertTrue(
        j.out()
            .contains(
                "\"different\":[{\"key\":\"w\",\"dtype\":\"float32\",\"elements\":4,\"differing\":1,"
                    + "\"max_abs_diff\":0.5,\"max_rel_diff\":0.2}]"),
        j.out());
  }

  @Test
  void identicalCheckpointsExitZeroWithoutReadingValues() throws Exception {
    String a =
        write("a", floats(1, 2), Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]), null);
    Path copy = dir.resolve("copy");
    Files.createDirectories(copy);
    for (String f : List.of("a.index", "a.data-00000-of-00001")) {
      Files.copy(dir.resolve(f), copy.resolve(f));
    }
    CliRunner r = CliRunner.run("diff", a, copy.resolve("a").toString());
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(
        r.out()
            .endsWith(
                "identical: 3 equal tensors, 0 with different values, 0 mismatched, 0 only in A, 0 only in B\n"),
        r.out());
  }

  @Test
  void mapsAsKeysBeforeComparing() throws Exception {
    String a =
        write("a", floats(1, 2), Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]), null);
    String b = dir.resolve("b").toString();
    try (CheckpointWriter cw = CheckpointWriter.create(new LocalFileIO(), b)) {
      cw.add("model/w", floats(1, 2));
      cw.add("model/step", Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]));
      cw.add(
          "model/ids",
          Tensor.of(DType.INT32, TensorShape.of(2), new byte[] {1, 0, 0, 0, 2, 0, 0, 0}));
      cw.finish();
    }
    Path map = dir.resolve("map.yaml");
    Files.writeString(map, "assignment_map:\n  '/': 'model/'\n");
    CliRunner r = CliRunner.run("diff", "--map", map.toString(), a, b);
    assertEquals(0, r.exitCode(), r.out() + r.err());
  }

  @Test
  void engineLocalComparesInThisJvmEvenAboveTheLimit() {
    String a =
        write("la", floats(1, 2), Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]), null);
    String b =
        write("lb", floats(1, 3), Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]), null);
    // 8 differing bytes are above --distributed-above 1: auto would start Spark; local does not.
    CliRunner r = CliRunner.run("diff", "--engine", "local", "--distributed-above", "1", a, b);
    assertEquals(1, r.exitCode(), r.err());
    assertTrue(
        r.out().contains("w    float32             2           1       1.00000      0.333333"),
        r.out());
  }

  @Test
  void engineLocalWithAMasterIsAUsageError() {
    String a =
        write("ma", floats(1), Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]), null);
    CliRunner r = CliRunner.run("diff", "--engine", "local", "--master", "local[2]", a, a);
    assertEquals(2, r.exitCode(), r.err());
    assertEquals(
        "rebundle: Invalid options: --engine local compares in this JVM; a Spark master asks for Spark",
        r.err().lines().findFirst().orElse(""));
    CliRunner bad = CliRunner.run("diff", "--engine", "dask", a, a);
    assertEquals(2, bad.exitCode(), bad.err());
    assertEquals(
        "rebundle: Invalid --engine: dask (expected auto, local or spark)",
        bad.err().lines().findFirst().orElse(""));
  }
}
