package io.rebundle.codec.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Reading every entry of a TensorFlow-written checkpoint and writing it again, in the source's data
 * order, reproduces the original index and data files byte for byte.
 */
class IdentityRewriteIT extends OracleTestBase {

  @Test
  void rewriteOfASingleShardCheckpointIsByteIdentical() throws IOException {
    Random random = new Random(21);
    List<OracleTensor> tensors = new ArrayList<>();
    for (DType dtype : OracleSupport.FIXED_DTYPES) {
      long[] shape = {3, 2};
      tensors.add(
          OracleTensor.of(
              "vars/" + dtype.displayName(),
              dtype.code(),
              shape,
              OracleSupport.randomData(dtype, shape, random)));
    }
    tensors.add(OracleTensor.ofStrings("names", new long[] {6}, OracleSupport.sampleStrings()));
    tensors.add(OracleTensor.of("global_step", 9, new long[0], new byte[8]));
    tensors.add(
        OracleTensor.slice(
            "emb",
            1,
            new long[] {2, 2},
            OracleSupport.randomData(DType.FLOAT, new long[] {2, 2}, random),
            "4 2 0,2:0,2"));
    tensors.add(
        OracleTensor.slice(
            "emb",
            1,
            new long[] {2, 2},
            OracleSupport.randomData(DType.FLOAT, new long[] {2, 2}, random),
            "4 2 2,2:0,2"));
    // Many keys so the index spans more than one 256 KiB block.
    for (int i = 0; i < 3000; i++) {
      tensors.add(
          OracleTensor.of(
              String.format("layer_%04d/%s", i, "w".repeat(60)),
              1,
              new long[] {1},
              OracleSupport.randomData(DType.FLOAT, new long[] {1}, random)));
    }
    String source = dir.resolve("tf").toString();
    tf.save(source, tensors);
    assertRewriteIsIdentical(source, dir.resolve("copy").toString());
  }

  @Test
  void rewriteOfAMergedMultiShardCheckpointIsByteIdentical() throws IOException {
    Random random = new Random(22);
    List<String> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      String part = dir.resolve(String.format("tmp/part-%05d-of-00003", p)).toString();
      List<OracleTensor> tensors = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        tensors.add(
            OracleTensor.of(
                "p" + p + "/t" + i,
                2,
                new long[] {i + 1},
                OracleSupport.randomData(DType.DOUBLE, new long[] {i + 1}, random)));
      }
      tf.save(part, tensors);
      parts.add(part);
    }
    String merged = dir.resolve("merged").toString();
    tf.merge(parts, merged);
    assertRewriteIsIdentical(merged, dir.resolve("copy").toString());
  }

  private void assertRewriteIsIdentical(String source, String target) throws IOException {
    int numShards;
    try (CheckpointReader reader = CheckpointReader.open(io, source)) {
      numShards = reader.header().numShards();
      List<IndexRecord> records = new ArrayList<>();
      reader.records().forEach(records::add);
      List<IndexRecord> withData =
          new ArrayList<>(records.stream().filter(r -> !r.entry().isSliced()).toList());
      withData.sort(
          Comparator.comparingInt((IndexRecord r) -> r.entry().shardId())
              .thenComparingLong(r -> r.entry().offset()));
      byte[] buffer = new byte[64 * 1024];
      try (CheckpointWriter w = CheckpointWriter.create(io, target, numShards, false)) {
        for (IndexRecord r : withData) {
          BundleEntry copied =
              w.shard(r.entry().shardId()).copyFrom(reader, r.name(), r.entry(), buffer);
          assertEquals(r.entry(), copied, r.name());
          w.addEntry(r.key(), copied);
        }
        for (IndexRecord r : records) {
          if (r.entry().isSliced()) {
            w.addEntry(r.key(), r.entry());
          }
        }
        w.finish();
      }
    }
    assertArrayEquals(
        Files.readAllBytes(Path.of(Naming.indexFile(source))),
        Files.readAllBytes(Path.of(Naming.indexFile(target))),
        "index bytes");
    for (int s = 0; s < numShards; s++) {
      assertArrayEquals(
          Files.readAllBytes(Path.of(Naming.dataFile(source, s, numShards))),
          Files.readAllBytes(Path.of(Naming.dataFile(target, s, numShards))),
          "data shard " + s);
    }
  }
}
