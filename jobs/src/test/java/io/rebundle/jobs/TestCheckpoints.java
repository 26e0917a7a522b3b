package io.rebundle.jobs;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleFixtures;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorChecksum;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.util.Crc32c;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Checkpoints for the job tests: the committed examples, generated ones, and ways to compare them.
 */
public final class TestCheckpoints {
  private TestCheckpoints() {}

  public static Path repo() {
    String root = System.getProperty("rebundle.repo.root");
    return root == null ? Path.of("..") : Path.of(root);
  }

  public static Path example(String name) {
    return repo().resolve("conf/examples").resolve(name);
  }

  /**
   * Copies the TF1 example (a=1, b=2, scoped/c=3, float32 scalars) into {@code dir}; returns its
   * prefix.
   */
  public static String copyTf1Example(Path dir) {
    Path prefix = dir.resolve("tf1-ckpt");
    for (String suffix : new String[] {".index", ".data-00000-of-00001"}) {
      copy(Path.of(example("tf1-ckpt") + suffix), Path.of(prefix + suffix));
    }
    return prefix.toString();
  }

  /**
   * Copies the TF2 example model directory (state file, ckpt-1) into {@code dir}; returns the
   * directory.
   */
  public static String copyTf2Example(Path dir) {
    Path target = dir.resolve("tf2-ckpt");
    for (String name : list(example("tf2-ckpt"))) {
      copy(example("tf2-ckpt").resolve(name), target.resolve(name));
    }
    return target.toString();
  }

  private static void copy(Path from, Path to) {
    try {
      Files.createDirectories(to.getParent());
      Files.copy(from, to);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Tensor floats(long[] dims, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(dims), b.array());
  }

  public static Tensor scalar(float value) {
    return floats(new long[0], value);
  }

  public static Tensor int64Scalar(long value) {
    byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    return Tensor.of(DType.INT64, TensorShape.SCALAR, b);
  }

  /** float32 values 0, 1, 2, ... in row-major order, so a misplaced element is easy to spot. */
  public static Tensor iota(long... dims) {
    return BundleFixtures.iota(dims);
  }

  private static Tensor random(DType dtype, Random random, long... dims) {
    return BundleFixtures.random(dtype, random, dims);
  }

  /**
   * Writes a TF1 checkpoint of 42 tensors of varied sizes (4 bytes to about 300 KiB; float32,
   * int64, a string tensor, an empty tensor, a name with a dot) over {@code sourceShards} data
   * files, and returns what it holds by key.
   */
  public static Map<String, Tensor> generate(String prefix, int sourceShards, long seed) {
    Random random = new Random(seed);
    Map<String, Tensor> tensors = new TreeMap<>();
    for (int i = 0; i < 19; i++) {
      long rows = i % 5 == 0 ? (i + 1) * 64L : (i * 7 % 13 + 1) * 8L;
      tensors.put(String.format("layer_%02d/kernel", i), random(DType.FLOAT, random, rows, 64));
      tensors.put(String.format("layer_%02d/bias", i), random(DType.FLOAT, random, 64));
    }
    tensors.put("global_step", int64Scalar(1234));
    tensors.put(
        "vocab",
        Tensor.ofStrings(TensorShape.of(3), List.of(bytes("alpha"), bytes(""), bytes("γάμμα"))));
    tensors.put("empty", Tensor.of(DType.FLOAT, TensorShape.of(0, 16), new byte[0]));
    tensors.put("ema.decay", scalar(0.999f));
    try (CheckpointWriter w =
        CheckpointWriter.create(new LocalFileIO(), prefix, sourceShards, false)) {
      int i = 0;
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        w.add(i++ % sourceShards, e.getKey(), e.getValue());
      }
      w.finish();
    }
    return tensors;
  }

  /**
   * Writes a TF1 checkpoint over two data files with partitioned variables: {@code emb} [6,4] cut
   * in three along dimension 0, {@code grid} [4,6] cut into three blocks (not along dimension 0
   * only), and a plain {@code dense} [3]. Returns the full values by name.
   */
  public static Map<String, Tensor> generateSliced(String prefix) {
    Map<String, Tensor> full = new TreeMap<>();
    full.put("emb", iota(6, 4));
    full.put("grid", iota(4, 6));
    full.put("dense", floats(new long[] {3}, 7, 8, 9));
    try (CheckpointWriter w = CheckpointWriter.create(new LocalFileIO(), prefix, 2, false)) {
      int shard = 0;
      for (String s : new String[] {"0,2:-", "2,2:-", "4,2:-"}) {
        addSlice(w, shard++ % 2, "emb", full.get("emb"), TensorSlice.parse(s));
      }
      for (String s : new String[] {"0,2:0,3", "0,2:3,3", "2,2:-"}) {
        addSlice(w, shard++ % 2, "grid", full.get("grid"), TensorSlice.parse(s));
      }
      w.add(1, "dense", full.get("dense"));
      w.finish();
    }
    return full;
  }

  private static void addSlice(
      CheckpointWriter w, int shard, String key, Tensor full, TensorSlice slice) {
    w.addSlice(shard, key, full.shape(), slice, extract(full, slice));
  }

  /** The dense row-major block a slice selects, element by element. */
  static Tensor extract(Tensor full, TensorSlice slice) {
    return BundleFixtures.extract(full, slice);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Every full tensor of a checkpoint by key, values read (sliced ones assembled) and CRC-checked.
   */
  public static Map<String, Tensor> readAll(FileIO io, String path) {
    Map<String, Tensor> values = new TreeMap<>();
    try (CheckpointReader r = CheckpointReader.open(io, path)) {
      for (IndexRecord rec : r.records()) {
        if (!rec.isSliceEntry()) {
          values.put(rec.name(), r.read(rec.name(), rec.entry()));
        }
      }
    }
    return values;
  }

  /** One index entry as stored: its metadata without the location, and its raw bytes. */
  public record StoredEntry(
      int dtypeCode,
      TensorShape shape,
      long size,
      int crc32c,
      List<TensorSlice> slices,
      byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof StoredEntry s
          && dtypeCode == s.dtypeCode
          && shape.equals(s.shape)
          && size == s.size
          && crc32c == s.crc32c
          && slices.equals(s.slices)
          && Arrays.equals(bytes, s.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "StoredEntry[dtype "
          + dtypeCode
          + ", "
          + shape
          + ", "
          + size
          + " bytes, crc "
          + crc32c
          + ", slices "
          + slices
          + "]";
    }
  }

  /**
   * Every entry of an index (slice entries included, by their printable name) with its stored
   * bytes.
   */
  public static Map<String, StoredEntry> storedEntries(FileIO io, String prefix) {
    Map<String, StoredEntry> entries = new TreeMap<>();
    try (CheckpointReader r = CheckpointReader.openPrefix(io, prefix)) {
      for (IndexRecord rec : r.records()) {
        BundleEntry e = rec.entry();
        byte[] bytes = e.isSliced() ? null : r.readRaw(rec.name(), e);
        entries.put(
            rec.name(),
            new StoredEntry(e.dtypeCode(), e.shape(), e.size(), e.crc32c(), e.slices(), bytes));
      }
    }
    return entries;
  }

  /** The unmasked CRC32C TensorFlow would store for {@code bytes} of a fixed-size tensor. */
  public static int crcOf(DType dtype, long numElements, byte[] bytes) {
    TensorChecksum c = TensorChecksum.of(dtype, numElements, false);
    c.update(bytes, 0, bytes.length);
    return c.value();
  }

  public static String hex(int unmaskedCrc) {
    return String.format("%08x", unmaskedCrc);
  }

  public static int unmask(int maskedCrc) {
    return Crc32c.unmask(maskedCrc);
  }

  /** Sorted names in a directory; empty if it does not exist. */
  public static List<String> list(Path dir) {
    return BundleFixtures.list(dir);
  }

  /**
   * Every file under {@code dir} by relative path, with its size and SHA-256: compares contents
   * before and after.
   */
  public static Map<String, String> snapshot(Path dir) {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        byte[] b = Files.readAllBytes(p);
        files.put(dir.relativize(p).toString(), b.length + " bytes, sha256 " + sha256(b));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  private static String sha256(byte[] b) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void flipByte(Path file, long offset) {
    BundleFixtures.flipByte(file, offset);
  }
}
