package io.rebundle.jobs.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.plan.MigrationSpec;
import io.rebundle.jobs.spark.SparkContexts;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a conversion does when a Spark task fails: Spark reports it as a (checked) SparkException. */
class ConvertTaskFailureIT {
  private static JavaSparkContext sc;

  @TempDir Path dir;

  @BeforeAll
  static void startSpark() {
    sc = SparkContexts.create("ConvertTaskFailureIT", "local[1]", Map.of());
  }

  @AfterAll
  static void stopSpark() {
    sc.close();
  }

  @Test
  void reportsCorruptionFoundInTaskAsCorruptCheckpointAndRemovesStaging() throws IOException {
    LocalFileIO io = new LocalFileIO();
    String source = dir.resolve("src/ckpt").toString();
    Files.createDirectories(dir.resolve("src"));
    try (CheckpointWriter w = CheckpointWriter.create(io, source)) {
      w.add("a", Tensor.of(DType.FLOAT, TensorShape.of(4), new byte[16]));
      w.add("b", Tensor.of(DType.FLOAT, TensorShape.of(4), new byte[16]));
      w.finish();
    }
    // The driver reads only the index; the flipped data byte is found by the task copying it.
    try (RandomAccessFile f = new RandomAccessFile(source + ".data-00000-of-00001", "rw")) {
      f.seek(20);
      f.write(1);
    }
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    ConvertJob.Options options = new ConvertJob.Options(source, out.resolve("ckpt").toString(),
        MigrationSpec.to(CheckpointFormat.parse("tf2")), 1, 0, false, false, true);

    CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
        () -> ConvertJob.run(sc, io, options, new PrintWriter(new StringWriter())));

    assertTrue(e.getMessage().contains("b"), e.getMessage());
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(List.of(), files.toList(), "staging directory and outputs are removed");
    }
  }
}
