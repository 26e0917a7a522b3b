package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.proto.BundleEntryProto;
import io.rebundle.codec.proto.TensorShapeProto;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import io.rebundle.jobs.CraftedIndex;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crafted-malformed-index suite (issue 9): checksum-valid indexes with broken structure, run
 * through the command line. {@code inspect} and {@code convert --dry-run} exit 3 with one line on
 * stderr naming the file, {@code verify} reports (1) or refuses (3); never 70, never a stack trace,
 * each case well under 10 seconds.
 */
class MalformedIndexIT {
  private static final byte[] ONE = {0, 0, (byte) 0x80, 0x3F};
  private static final long TEN_SECONDS = 10_000;

  @TempDir Path dir;

  /** The shared Spark context starts once, outside the per-command time limit. */
  @org.junit.jupiter.api.BeforeAll
  static void startSpark() {
    io.rebundle.jobs.SharedSpark.context();
  }

  private Path prefix(String name) {
    return dir.resolve(name).resolve("ckpt");
  }

  private Path craft(String name, CraftedIndex index, int numShards, byte[] data) {
    try {
      Files.createDirectories(dir.resolve(name));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return index.write(prefix(name), numShards, data);
  }

  /** Runs one command, checks time, exit code and the one-line error; returns the run. */
  private static CliRunner run(List<Integer> allowed, String... args) {
    long start = System.currentTimeMillis();
    CliRunner r =
        args[0].equals("convert") ? CliRunner.runWithSharedSpark(args) : CliRunner.run(args);
    long took = System.currentTimeMillis() - start;
    String what = String.join(" ", args);
    assertTrue(took < TEN_SECONDS, what + " took " + took + " ms");
    assertTrue(allowed.contains(r.exitCode()), what + " exited " + r.exitCode() + ": " + r.err());
    assertTrue(
        !r.err().contains("\tat ") && !r.err().contains("internal error"), what + ": " + r.err());
    if (r.exitCode() == 3) {
      List<String> lines =
          r.err().lines().filter(l -> !l.startsWith("rebundle: warning:")).toList();
      assertEquals(1, lines.size(), what + ": " + r.err());
      assertTrue(lines.get(0).startsWith("rebundle: "), lines.get(0));
    }
    return r;
  }

  /** inspect and convert --dry-run exit 3 naming {@code mustName}; verify exits 1 or 3. */
  private void refusedEverywhere(Path prefix, String to, String mustName, String... inspectFlags) {
    List<String> inspect = new ArrayList<>(List.of("inspect"));
    inspect.addAll(List.of(inspectFlags));
    inspect.add(prefix.toString());
    CliRunner i = run(List.of(3), inspect.toArray(String[]::new));
    assertTrue(i.err().contains(mustName), i.err());
    CliRunner c =
        run(
            List.of(3),
            "convert",
            "--to",
            to,
            "--dry-run",
            prefix.toString(),
            dir.resolve("out-" + prefix.getParent().getFileName()).toString());
    assertTrue(c.err().contains(mustName), c.err());
    CliRunner v = run(List.of(1, 3), "verify", prefix.toString());
    assertTrue((v.out() + v.err()).contains(mustName), v.out() + v.err());
  }

  @Test
  void malformedSliceKey() {
    Path p =
        craft(
            "slicekey",
            CraftedIndex.withHeader(1)
                .add(new byte[] {0x00, 0x65, 0x6d}, CraftedIndex.floatScalar(0, ONE).encode())
                .add("w", CraftedIndex.floatScalar(0, ONE)),
            1,
            ONE);
    refusedEverywhere(p, "tf2", "slice key");
    CliRunner v = run(List.of(1), "verify", p.toString());
    assertTrue(v.out().contains("malformed slice key: unterminated name"), v.out());
  }

  @Test
  void negativeRestartPoint() {
    Path p =
        craft(
            "restart",
            CraftedIndex.withHeader(1).add("w", CraftedIndex.floatScalar(0, ONE)).restartPoint(-8),
            1,
            ONE);
    refusedEverywhere(p, "tf2", "restart point 0 is 4294967288");
  }

  @Test
  void keysOutOfOrder() {
    Path p =
        craft(
            "order",
            CraftedIndex.withHeader(1)
                .add("b", CraftedIndex.floatScalar(0, ONE))
                .add("a", CraftedIndex.floatScalar(4, ONE)),
            1,
            concat(ONE, ONE));
    refusedEverywhere(p, "tf2", "out-of-order key a");
  }

  @Test
  void keysOutOfOrderWithAnObjectGraph() {
    StringTensors.Encoded graph = CraftedIndex.stringScalar(chain(2).encode());
    Path p =
        craft(
            "order-graph",
            CraftedIndex.withHeader(1)
                .add(
                    Naming.OBJECT_GRAPH_KEY,
                    BundleEntry.of(
                        DType.STRING,
                        TensorShape.SCALAR,
                        0,
                        4,
                        graph.bytes().length,
                        graph.maskedCrc()))
                .add("b", CraftedIndex.floatScalar(0, ONE))
                .add("a", CraftedIndex.floatScalar(0, ONE)),
            1,
            concat(ONE, graph.bytes()));
    refusedEverywhere(p, "tf1", "out-of-order key a", "--tree");
  }

  @Test
  void duplicateKeys() {
    Path p =
        craft(
            "dup",
            CraftedIndex.withHeader(1)
                .add("a", CraftedIndex.floatScalar(0, ONE))
                .add("a", CraftedIndex.floatScalar(0, ONE)),
            1,
            ONE);
    refusedEverywhere(p, "tf2", "duplicate key a");
  }

  @Test
  void objectGraphWithNoNodes() {
    Path p = graphCheckpoint("zero", new ObjectGraph(List.of()));
    refusedEverywhere(p, "tf1", "it has no nodes", "--tree");
  }

  @Test
  void objectGraphChainOfAHundredThousandNodes() {
    Path p = graphCheckpoint("deep", chain(100_000));
    refusedEverywhere(p, "tf1", "more than 1000 levels deep", "--tree");
  }

  @Test
  void headerClaimingBillionsOfShards() {
    for (int shards : new int[] {1_000_000_000, Integer.MAX_VALUE}) {
      Path p =
          craft(
              "shards-" + shards,
              new CraftedIndex()
                  .add(new byte[0], BundleHeader.of(shards).encode())
                  .add("w", CraftedIndex.floatScalar(0, ONE)),
              shards,
              ONE);
      refusedEverywhere(
          p, "tf2", "claims " + shards + " shards, but only 1 of their data files exist");
      CliRunner v = run(List.of(1), "verify", p.toString());
      assertTrue(
          v.out().contains((shards - 1) + " of " + shards + " data files are missing"), v.out());
    }
  }

  @Test
  void nulByteInTheStateFilePath() throws Exception {
    Path model = dir.resolve("nul");
    Files.createDirectories(model);
    Files.writeString(model.resolve("checkpoint"), "model_checkpoint_path: \"ck\\000pt\"\n");
    for (String command : List.of("inspect", "verify")) {
      CliRunner r = run(List.of(3), command, model.toString());
      assertEquals(
          "rebundle: Cannot read checkpoint state "
              + model.resolve("checkpoint")
              + ": a checkpoint path contains a NUL byte\n",
          r.err());
    }
    run(
        List.of(3),
        "convert",
        "--to",
        "tf2",
        "--dry-run",
        model.toString(),
        dir.resolve("out-nul").toString());
  }

  @Test
  void shapeWhoseElementCountOverflows() {
    byte[] entry =
        BundleEntryProto.newBuilder()
            .setDtype(DType.FLOAT.code())
            .setShape(
                TensorShapeProto.newBuilder()
                    .addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 32))
                    .addDim(TensorShapeProto.Dim.newBuilder().setSize(1L << 32)))
            .setSize(4)
            .build()
            .toByteArray();
    Path p =
        craft(
            "shape",
            CraftedIndex.withHeader(1).add("w".getBytes(StandardCharsets.UTF_8), entry),
            1,
            ONE);
    refusedEverywhere(p, "tf2", "invalid tensor shape for key w");
  }

  @Test
  void offsetPastTheEndOfTheDataFile() {
    Path p =
        craft(
            "offset",
            CraftedIndex.withHeader(1).add("w", CraftedIndex.floatScalar(1 << 20, ONE)),
            1,
            ONE);
    CliRunner i = run(List.of(3), "inspect", "--values", p.toString());
    assertTrue(i.out().contains("(cannot read: Cannot read tensor w in "), i.out());
    assertTrue(
        i.err().contains("bytes [1048576, 1048580) lie past the end of the file (4 bytes)"),
        i.err());
    CliRunner v = run(List.of(1), "verify", p.toString());
    assertTrue(v.out().contains("lie past the end of the file"), v.out());
    run(
        List.of(0, 3),
        "convert",
        "--to",
        "tf2",
        "--dry-run",
        p.toString(),
        dir.resolve("out-offset").toString());
  }

  @Test
  void stringLengthOfTwoToTheFortyWithNoPayload() {
    byte[] data = stringBytes(1L << 40);
    Path p = craft("str40", CraftedIndex.withHeader(1).add("s", stringEntry(data, 1)), 1, data);
    CliRunner i = run(List.of(3), "inspect", "--values", p.toString());
    assertTrue(
        i.err().contains("a string length of 1099511627776 bytes exceeds the entry size"), i.err());
    CliRunner v = run(List.of(1), "verify", p.toString());
    assertTrue(
        v.out().contains("a string length of 1099511627776 bytes exceeds the entry size"), v.out());
  }

  @Test
  void stringLengthsThatWrapAround() {
    // 2^64 - 1 and 4: their sum wraps to 3, the number of payload bytes present.
    byte[] data = concat(stringBytes(-1L, 4), "abc".getBytes(StandardCharsets.UTF_8));
    Path p = craft("wrap", CraftedIndex.withHeader(1).add("s", stringEntry(data, 2)), 1, data);
    CliRunner i = run(List.of(3), "inspect", "--values", p.toString());
    assertTrue(i.err().contains("a string length of 18446744073709551615 bytes exceeds"), i.err());
    CliRunner v = run(List.of(1), "verify", p.toString());
    assertTrue(v.out().contains("a string length of 18446744073709551615 bytes exceeds"), v.out());
  }

  @Test
  void variantElementLengthOfTwoToTheSixtyThree() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    Varints.putVarint64(b, Long.MIN_VALUE);
    byte[] data = b.toByteArray();
    byte[] fixed = new byte[8];
    Varints.putFixed64(fixed, 0, Long.MIN_VALUE);
    BundleEntry e =
        BundleEntry.of(
            DType.VARIANT, TensorShape.of(1), 0, 0, data.length, Crc32c.mask(Crc32c.of(fixed)));
    Path p = craft("variant", CraftedIndex.withHeader(1).add("v", e), 1, data);
    CliRunner v = run(List.of(1), "verify", p.toString());
    assertTrue(
        v.out().contains("a variant element length of 9223372036854775808 bytes exceeds"), v.out());
  }

  @Test
  void catastrophicRegexInAMappingFileIsAUsageError() throws Exception {
    Path map = dir.resolve("map.yaml");
    Files.writeString(map, "drop:\n  - '((a+)+)+$'\n");
    CliRunner c =
        run(
            List.of(2),
            "convert",
            "--to",
            "tf2",
            "--dry-run",
            "--map",
            map.toString(),
            CliRunner.example("tf1-ckpt"),
            dir.resolve("out-map").toString());
    assertTrue(
        c.err()
            .startsWith(
                "rebundle: Invalid mapping file "
                    + map
                    + ":2:5: regular expression '((a+)+)+$' "
                    + "repeats a group that itself repeats"),
        c.err());
  }

  private Path graphCheckpoint(String name, ObjectGraph graph) {
    StringTensors.Encoded g = CraftedIndex.stringScalar(graph.encode());
    return craft(
        name,
        CraftedIndex.withHeader(1)
            .add(
                Naming.OBJECT_GRAPH_KEY,
                BundleEntry.of(
                    DType.STRING, TensorShape.SCALAR, 0, 0, g.bytes().length, g.maskedCrc())),
        1,
        g.bytes());
  }

  /** Node i has node i+1 as its only child. */
  static ObjectGraph chain(int n) {
    List<ObjectGraph.Node> nodes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      List<ObjectGraph.Child> children =
          i + 1 < n ? List.of(new ObjectGraph.Child(i + 1, "c")) : List.of();
      nodes.add(new ObjectGraph.Node(i, children, List.of(), List.of(), null, null));
    }
    return new ObjectGraph(nodes);
  }

  /** String-tensor lengths with a correct length checksum, no payload. */
  private static byte[] stringBytes(long... lengths) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CRC32C crc = new CRC32C();
    for (long len : lengths) {
      Varints.putVarint64(out, len);
      byte[] fixed = new byte[Long.compareUnsigned(len, 0xFFFFFFFFL) <= 0 ? 4 : 8];
      if (fixed.length == 4) {
        Varints.putFixed32(fixed, 0, (int) len);
      } else {
        Varints.putFixed64(fixed, 0, len);
      }
      crc.update(fixed);
    }
    byte[] c = new byte[4];
    Varints.putFixed32(c, 0, Crc32c.mask((int) crc.getValue()));
    out.writeBytes(c);
    return out.toByteArray();
  }

  /** A string entry over {@code data} whose entry CRC is consistent with TensorFlow's rule. */
  private static BundleEntry stringEntry(byte[] data, int n) {
    // The entry CRC covers the lengths as fixed-width integers, the length checksum and the
    // payload;
    // recompute it the same way the lengths were written.
    CRC32C crc = new CRC32C();
    Varints.Cursor c = new Varints.Cursor(data, 0, data.length);
    for (int i = 0; i < n; i++) {
      long len = c.varint64();
      byte[] fixed = new byte[Long.compareUnsigned(len, 0xFFFFFFFFL) <= 0 ? 4 : 8];
      if (fixed.length == 4) {
        Varints.putFixed32(fixed, 0, (int) len);
      } else {
        Varints.putFixed64(fixed, 0, len);
      }
      crc.update(fixed);
    }
    crc.update(data, c.position(), data.length - c.position());
    return BundleEntry.of(
        DType.STRING, TensorShape.of(n), 0, 0, data.length, Crc32c.mask((int) crc.getValue()));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
