package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.jobs.TestCheckpoints;
import io.rebundle.jobs.convert.HfBertPresetTest;
import io.rebundle.jobs.convert.MappingFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hf-bert preset applied by today's convert path (TF1 to TF1 with the preset as the mapping
 * file): every name, shape and byte of a BERT-shaped checkpoint with non-square kernels, checked
 * against transformers' rules. Export to safetensors reuses the same rules (phase 2).
 */
class HfBertPresetIT {
  @TempDir Path dir;

  @Test
  void convertsABertShapedCheckpointToTransformersNamesShapesAndTransposedBytes()
      throws IOException {
    Random random = new Random(14);
    Map<String, Tensor> source = new TreeMap<>();
    for (HfBertPresetTest.Family f : HfBertPresetTest.FAMILIES) {
      source.put(f.source(), floats(random, f.shape()));
    }
    for (String skipped : HfBertPresetTest.SKIPPED) {
      source.put(
          skipped,
          skipped.equals("global_step")
              ? TestCheckpoints.int64Scalar(7)
              : TestCheckpoints.scalar(1));
    }
    String prefix = dir.resolve("bert_model.ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix, 1, false)) {
      source.forEach((k, v) -> w.add(0, k, v));
      w.finish();
    }
    Path preset = dir.resolve("hf-bert.yaml");
    Files.writeString(preset, MappingFile.presetText("hf-bert"));
    Path out = dir.resolve("out");

    CliRunner r =
        CliRunner.runWithSharedSpark(
            "convert", "--to", "tf1", "--map", preset.toString(), prefix, out.toString());

    assertEquals(0, r.exitCode(), r.err());
    Map<String, Tensor> converted = TestCheckpoints.readAll(new LocalFileIO(), out.toString());
    Map<String, Tensor> expected = new TreeMap<>();
    for (HfBertPresetTest.Family f : HfBertPresetTest.FAMILIES) {
      Tensor t = source.get(f.source());
      expected.put(f.target(), f.transposed() ? transpose2d(t) : t);
    }
    assertEquals(expected.keySet(), converted.keySet());
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      Tensor got = converted.get(e.getKey());
      assertEquals(e.getValue().shape(), got.shape(), e.getKey());
      assertArrayEquals(e.getValue().data(), got.data(), e.getKey());
    }
  }

  private static Tensor floats(Random random, long[] dims) {
    TensorShape shape = TensorShape.of(dims);
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate((int) shape.numElements() * 4)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < shape.numElements(); i++) {
      b.putFloat(random.nextFloat());
    }
    return Tensor.of(DType.FLOAT, shape, b.array());
  }

  /** The float32 matrix transposed, computed independently of Rebundle's transform code. */
  private static Tensor transpose2d(Tensor t) {
    int rows = (int) t.shape().dim(0);
    int cols = (int) t.shape().dim(1);
    byte[] in = t.data();
    byte[] out = new byte[in.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        System.arraycopy(in, (i * cols + j) * 4, out, (j * rows + i) * 4, 4);
      }
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(cols, rows), out);
  }
}
