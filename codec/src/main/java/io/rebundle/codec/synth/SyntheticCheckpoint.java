package io.rebundle.codec.synth;

import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.StringTensors;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.bundle.TensorSlice;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.graph.KeyEscaping;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.plan.CheckpointFormat;
import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Generates checkpoints of a chosen size and shape for demos, tests and benchmarks,
 * deterministically from a seed: the same options give the same bytes, index and data files alike.
 *
 * <p>The size distribution is that of a recommender or language model: a few huge embedding tables
 * ({@code model/embedding_<i>/embeddings}, three quarters of the bytes) and many small dense layers
 * ({@code model/dense_<j>/kernel} and {@code bias}, log-normal sizes), no tensor above the maximum.
 * TF1 checkpoints key tensors by those names; TF2 checkpoints are {@code Checkpoint(model=...)}
 * with Keras-style object paths ({@code
 * model/layer_with_weights-<k>/kernel/.ATTRIBUTES/VARIABLE_VALUE}), the names as each variable's
 * {@code full_name}, a {@code save_counter} of 1 and the object graph. The K largest variables can
 * be partitioned along dimension 0 into slices, as {@code fixed_size_partitioner} does. Values come
 * from {@link SyntheticData}, keyed by the TF1 name, so a tensor holds the same values in both
 * formats and whether or not it is sliced.
 *
 * <p>Writing streams every tensor through one reusable buffer ({@link
 * io.rebundle.codec.bundle.ShardWriter#append}): memory is bounded by the metadata (about 200 bytes
 * per tensor), never by tensor sizes. Sizes are bytes; {@code size} counts the data files.
 */
public final class SyntheticCheckpoint {
  /** Default largest tensor: 2 GiB. */
  public static final long DEFAULT_MAX_TENSOR = 2L << 30;

  private static final String MODEL = "model";
  private static final String SAVE_COUNTER = "save_counter";

  private SyntheticCheckpoint() {}

  /**
   * What to generate. {@code dtypes} are drawn at random per tensor; {@code sliced} tensors are
   * partitioned.
   */
  public record Options(
      CheckpointFormat format,
      long size,
      int tensors,
      long maxTensorBytes,
      List<DType> dtypes,
      int shards,
      int sliced,
      long seed) {
    public Options {
      if (size <= 0) {
        throw new IllegalArgumentException("Invalid size: " + size + " (must be positive)");
      }
      if (tensors < 1) {
        throw new IllegalArgumentException(
            "Invalid number of tensors: " + tensors + " (must be at least 1)");
      }
      if (maxTensorBytes <= 0) {
        throw new IllegalArgumentException("Invalid maximum tensor size: " + maxTensorBytes);
      }
      if (dtypes.isEmpty()) {
        throw new IllegalArgumentException("Invalid dtypes: none given");
      }
      for (DType d : dtypes) {
        if (!d.isFixedSize()) {
          throw new IllegalArgumentException(
              "Invalid dtype for synthetic tensors: "
                  + d.displayName()
                  + " (only fixed-size types)");
        }
      }
      dtypes = List.copyOf(dtypes);
      if (shards < 1) {
        throw new IllegalArgumentException(
            "Invalid number of shards: " + shards + " (must be at least 1)");
      }
      if (sliced < 0 || sliced > tensors) {
        throw new IllegalArgumentException(
            "Invalid number of sliced tensors: " + sliced + " (0 to " + tensors + ")");
      }
      if (sliced > 0 && dtypes.stream().noneMatch(DType::isSliceable)) {
        throw new IllegalArgumentException(
            "Invalid dtypes for sliced tensors: TensorFlow cannot partition "
                + dtypes.stream().map(DType::displayName).toList()
                + "; add e.g. float32");
      }
      if ((double) tensors * maxTensorBytes < size) {
        throw new IllegalArgumentException(
            "Invalid options: "
                + tensors
                + " tensors of at most "
                + maxTensorBytes
                + " bytes cannot hold "
                + size
                + " bytes; raise the maximum tensor size or the number of tensors");
      }
    }

    public static Options of(CheckpointFormat format, long size, int tensors) {
      return new Options(format, size, tensors, DEFAULT_MAX_TENSOR, List.of(DType.FLOAT), 1, 0, 0);
    }
  }

  /**
   * One stored piece of data: a whole tensor, one slice of a partitioned tensor ({@code slice} not
   * null), or a literal (save_counter, object graph). {@code variable} indexes the layout's
   * variables (-1 for literals); {@code start} is the slice's first byte in its tensor's value
   * stream.
   */
  public record Part(
      byte[] key,
      String tensorKey,
      int variable,
      TensorSlice slice,
      TensorShape shape,
      long start,
      long bytes,
      int shard,
      Tensor literal) {}

  /**
   * One variable: its TF1 name (the TF2 {@code full_name}), its index key, dtype, full shape, and
   * the seed of its values.
   */
  public record Variable(
      String name, String key, DType dtype, TensorShape shape, long dataSeed, int partitions) {
    public long bytes() {
      return shape.numElements() * dtype.elementSize();
    }
  }

  /**
   * Everything that will be written, decided before a byte is: variables, parts in key order,
   * shards.
   */
  public record Layout(
      Options options, List<Variable> variables, List<Part> parts, long dataBytes) {
    public long entries() {
      return parts.size() + variables.stream().filter(v -> v.partitions() > 0).count();
    }

    public long largestTensorBytes() {
      return variables.stream().mapToLong(Variable::bytes).max().orElse(0);
    }
  }

  /** What was written. {@code seconds} is the wall time of writing. */
  public record Summary(String prefix, Layout layout, double seconds) {
    /** Tensors per dtype name, sorted by name. */
    public Map<String, Integer> dtypeCounts() {
      Map<String, Integer> m = new TreeMap<>();
      layout.variables().forEach(v -> m.merge(v.dtype().displayName(), 1, Integer::sum));
      return m;
    }
  }

  /** Decides names, dtypes, shapes, slices and shards. Pure and deterministic; no I/O. */
  public static Layout layout(Options o) {
    Rng rng = new Rng(o.seed());
    int n = o.tensors();
    int numHuge = n == 1 ? 1 : (int) Math.min(n - 1, Math.max(1, Math.round(Math.log10(n)) + 1));
    String[] names = new String[n];
    String[] keys = new String[n];
    ObjectGraphBuilder graph = o.format() == CheckpointFormat.TF2 ? new ObjectGraphBuilder() : null;
    ObjectGraphBuilder.TrackedObject model = graph == null ? null : graph.root().child(MODEL);
    if (graph != null) {
      graph.root().child(SAVE_COUNTER).variable(SAVE_COUNTER);
    }
    ObjectGraphBuilder.TrackedObject layerObject = null;
    for (int i = 0; i < n; i++) {
      boolean huge = i < numHuge;
      int layer = huge ? i : numHuge + (i - numHuge) / 2;
      String variable = huge ? "embeddings" : ((i - numHuge) % 2 == 0 ? "kernel" : "bias");
      names[i] =
          huge
              ? MODEL + "/embedding_" + i + "/embeddings"
              : MODEL + "/dense_" + (i - numHuge) / 2 + "/" + variable;
      String objectPath = MODEL + "/layer_with_weights-" + layer + "/" + variable;
      keys[i] =
          graph == null
              ? names[i]
              : KeyEscaping.attributeKey(objectPath, KeyEscaping.VARIABLE_VALUE);
      if (graph != null) {
        // link(), not child(): child() looks names up linearly, quadratic for a million layers.
        if (huge || (i - numHuge) % 2 == 0) {
          layerObject =
              model.link("layer_with_weights-" + layer, new ObjectGraphBuilder.TrackedObject());
        }
        layerObject.link(variable, new ObjectGraphBuilder.TrackedObject()).variable(names[i]);
      }
    }
    List<Part> literals = new ArrayList<>();
    long bookkeeping = 0;
    if (graph != null) {
      byte[] counter = new byte[8];
      counter[0] = 1;
      literals.add(
          literal(
              SAVE_COUNTER + "/" + KeyEscaping.ATTRIBUTES + "/" + KeyEscaping.VARIABLE_VALUE,
              Tensor.of(DType.INT64, TensorShape.SCALAR, counter),
              8));
      byte[] encoded = graph.build().encode();
      Tensor g = Tensor.ofStrings(TensorShape.SCALAR, List.of(encoded));
      literals.add(
          literal(Naming.OBJECT_GRAPH_KEY, g, StringTensors.encode(g.strings()).bytes().length));
      bookkeeping = literals.stream().mapToLong(Part::bytes).sum();
    }
    double target = Math.max(0, o.size() - bookkeeping);
    double[] size = spread(rng, n, numHuge, target, o.maxTensorBytes());

    // dtypes: at random from the list; partitioned variables (the largest) need a sliceable one.
    DType[] dtype = new DType[n];
    for (int i = 0; i < n; i++) {
      dtype[i] = o.dtypes().get(rng.nextInt(o.dtypes().size()));
    }
    Integer[] bySize = new Integer[n];
    for (int i = 0; i < n; i++) {
      bySize[i] = i;
    }
    Arrays.sort(
        bySize,
        Comparator.comparingDouble((Integer i) -> size[i]).reversed().thenComparingInt(i -> i));
    boolean[] sliced = new boolean[n];
    DType sliceable =
        o.dtypes().stream().filter(DType::isSliceable).findFirst().orElse(DType.FLOAT);
    for (int k = 0; k < o.sliced(); k++) {
      int i = bySize[k];
      sliced[i] = true;
      if (!dtype[i].isSliceable()) {
        dtype[i] = sliceable;
      }
    }

    long[][] dims = new long[n][];
    long actual = 0;
    for (int i = 0; i < n; i++) {
      long elements = Math.max(1, (long) (size[i] / dtype[i].elementSize()));
      if (i < numHuge) {
        long width = 64L << rng.nextInt(5);
        while (width > elements) {
          width >>= 1;
        }
        dims[i] = new long[] {elements / width, width};
      } else if ((i - numHuge) % 2 == 0) {
        long out = Math.min(4096, Long.highestOneBit(Math.max(1, (long) Math.sqrt(elements))));
        dims[i] = new long[] {elements / out, out};
      } else {
        dims[i] = new long[] {elements};
      }
      actual += numElements(dims[i]) * dtype[i].elementSize();
    }
    // Land on the target: grow or shrink dimension 0 of the largest tensors, within the maximum.
    long diff = (long) target - actual;
    for (int k = 0; k < n && diff != 0; k++) {
      int i = bySize[k];
      long rowBytes = numElements(dims[i]) / Math.max(1, dims[i][0]) * dtype[i].elementSize();
      if (dims[i][0] == 0 || rowBytes == 0) {
        continue;
      }
      long rows =
          Math.max(1, Math.min(o.maxTensorBytes() / rowBytes, dims[i][0] + diff / rowBytes));
      diff -= (rows - dims[i][0]) * rowBytes;
      dims[i][0] = rows;
    }

    List<Variable> variables = new ArrayList<>(n);
    List<Part> parts = new ArrayList<>(n + literals.size());
    for (int i = 0; i < n; i++) {
      TensorShape shape = TensorShape.of(dims[i]);
      long rows = dims[i][0];
      int partitions = sliced[i] && rows >= 2 ? (int) Math.min(rows, 2 + rng.nextInt(7)) : 0;
      Variable v =
          new Variable(
              names[i],
              keys[i],
              dtype[i],
              shape,
              SyntheticData.streamSeed(o.seed(), names[i]),
              partitions);
      variables.add(v);
      if (partitions == 0) {
        parts.add(new Part(Bytes.utf8(keys[i]), keys[i], i, null, shape, 0, v.bytes(), 0, null));
        continue;
      }
      long rowBytes = v.bytes() / rows;
      long start = 0;
      for (int p = 0; p < partitions; p++) {
        long length = rows / partitions + (p < rows % partitions ? 1 : 0);
        List<TensorSlice.Extent> extents = new ArrayList<>();
        extents.add(new TensorSlice.Extent(start, length));
        for (int d = 1; d < dims[i].length; d++) {
          extents.add(TensorSlice.Extent.FULL);
        }
        TensorSlice slice = new TensorSlice(extents);
        parts.add(
            new Part(
                SliceKeys.encode(keys[i], slice),
                keys[i],
                i,
                slice,
                slice.sliceShape(shape),
                start * rowBytes,
                length * rowBytes,
                0,
                null));
        start += length;
      }
    }
    parts.addAll(literals);
    parts = assignShards(parts, o.shards());
    parts.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
    long dataBytes = parts.stream().mapToLong(Part::bytes).sum();
    return new Layout(o, variables, parts, dataBytes);
  }

  private static Part literal(String key, Tensor t, long bytes) {
    return new Part(Bytes.utf8(key), key, -1, null, t.shape(), 0, bytes, 0, t);
  }

  private static long numElements(long[] dims) {
    long e = 1;
    for (long d : dims) {
      e *= d;
    }
    return e;
  }

  /**
   * Byte sizes: three quarters of {@code target} over the huge tensors (uniform weights 0.5-1.5),
   * the rest log-normally over the others, then water-filled under {@code max}: whatever exceeds it
   * moves to the tensors below it, in proportion to their size.
   */
  static double[] spread(Rng rng, int n, int numHuge, double target, long max) {
    double[] s = new double[n];
    double hugeTotal = n == numHuge ? target : 0.75 * target;
    double hugeWeights = 0;
    double smallWeights = 0;
    for (int i = 0; i < n; i++) {
      s[i] = i < numHuge ? 0.5 + rng.nextDouble() : StrictMath.exp(1.5 * rng.nextGaussian());
      if (i < numHuge) {
        hugeWeights += s[i];
      } else {
        smallWeights += s[i];
      }
    }
    for (int i = 0; i < n; i++) {
      s[i] =
          i < numHuge ? hugeTotal * s[i] / hugeWeights : (target - hugeTotal) * s[i] / smallWeights;
    }
    boolean[] capped = new boolean[n];
    while (true) {
      double excess = 0;
      double free = 0;
      for (int i = 0; i < n; i++) {
        if (!capped[i] && s[i] > max) {
          excess += s[i] - max;
          s[i] = max;
          capped[i] = true;
        }
      }
      for (int i = 0; i < n; i++) {
        free += capped[i] ? 0 : s[i];
      }
      if (excess == 0 || free == 0) {
        return s;
      }
      for (int i = 0; i < n; i++) {
        if (!capped[i]) {
          s[i] += excess * s[i] / free;
        }
      }
    }
  }

  /** Largest part first onto the lightest shard (ties: lower shard, then key order). */
  private static List<Part> assignShards(List<Part> parts, int shards) {
    List<Part> order = new ArrayList<>(parts);
    order.sort(
        Comparator.comparingLong(Part::bytes)
            .reversed()
            .thenComparing(Part::key, Arrays::compareUnsigned));
    PriorityQueue<long[]> load =
        new PriorityQueue<>(
            (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    for (int i = 0; i < shards; i++) {
      load.add(new long[] {0, i});
    }
    List<Part> out = new ArrayList<>(order.size());
    for (Part p : order) {
      long[] lightest = load.poll();
      out.add(
          new Part(
              p.key(),
              p.tensorKey(),
              p.variable(),
              p.slice(),
              p.shape(),
              p.start(),
              p.bytes(),
              (int) lightest[1],
              p.literal()));
      lightest[0] += p.bytes();
      load.add(lightest);
    }
    return out;
  }

  /**
   * Writes the checkpoint at {@code prefix}, data files first and the index last (as {@link
   * CheckpointWriter} does), then, if asked, the {@code checkpoint} state file beside it. Fails if
   * the checkpoint exists, unless {@code overwrite}.
   */
  public static Summary write(
      FileIO io, String prefix, Options o, boolean overwrite, boolean writeStateFile) {
    long t0 = System.nanoTime();
    Layout layout = layout(o);
    String parent = io.parent(prefix);
    if (!parent.isEmpty()) {
      io.mkdirs(parent);
    }
    try (CheckpointWriter w = CheckpointWriter.create(io, prefix, o.shards(), overwrite)) {
      for (Part p : layout.parts()) {
        if (p.literal() != null) {
          w.add(p.shard(), p.tensorKey(), p.literal());
          continue;
        }
        Variable v = layout.variables().get(p.variable());
        SyntheticData data = SyntheticData.of(v.dtype(), v.dataSeed());
        if (p.slice() == null) {
          w.append(p.shard(), v.key(), v.dtype(), v.shape(), data.source(0));
        } else {
          w.appendSlice(
              p.shard(), v.key(), v.dtype(), v.shape(), p.slice(), data.source(p.start()));
        }
      }
      w.finish();
    }
    if (writeStateFile) {
      String dir = parent.isEmpty() ? "." : parent;
      CheckpointState.record(
          io,
          prefix,
          true,
          io.join(dir, CheckpointState.TEMP_PREFIX + StagingArea.newRunId()),
          w -> {});
    }
    return new Summary(prefix, layout, (System.nanoTime() - t0) / 1e9);
  }

  /** SplitMix64 as a sequence: the layout's random choices, reproducible on every JVM. */
  static final class Rng {
    private long state;
    private double spare = Double.NaN;

    Rng(long seed) {
      this.state = seed;
    }

    long nextLong() {
      state += 0x9E3779B97F4A7C15L;
      return SyntheticData.mix(state);
    }

    double nextDouble() {
      return (nextLong() >>> 11) * 0x1.0p-53;
    }

    int nextInt(int bound) {
      return (int) ((nextLong() >>> 1) % bound);
    }

    /** Box-Muller, both values used. */
    double nextGaussian() {
      if (!Double.isNaN(spare)) {
        double g = spare;
        spare = Double.NaN;
        return g;
      }
      double u = 1 - nextDouble();
      double v = nextDouble();
      double r = StrictMath.sqrt(-2 * StrictMath.log(u));
      spare = r * StrictMath.sin(2 * Math.PI * v);
      return r * StrictMath.cos(2 * Math.PI * v);
    }
  }
}
