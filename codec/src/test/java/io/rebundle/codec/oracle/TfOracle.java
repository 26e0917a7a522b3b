package io.rebundle.codec.oracle;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.NdArray;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * Test oracle: runs TensorFlow's own checkpoint kernels (SaveV2, RestoreV2, MergeV2Checkpoints)
 * through TF Java, independent of Rebundle's code.
 *
 * <p>TF Java only has tensor classes for a few dtypes, so tensors cross the boundary as serialized
 * {@code TensorProto}s inside string tensors:
 *
 * <ul>
 *   <li>save: string placeholder -> {@code ParseTensor(out_type=dtype)} -> SaveV2. ParseTensor
 *       accepts every dtype (quantized, float8 and int4 included).
 *   <li>restore, strings: RestoreV2 -> {@code SerializeTensor}.
 *   <li>restore, everything else: {@code SerializeTensor} has no kernels for quantized, float8 or
 *       int4 types, so the tensor is flattened and fed to {@code SerializeSparse}, which writes its
 *       values (any dtype) as tensor_content, next to the dense shape.
 * </ul>
 *
 * The few TensorProto fields involved are encoded/decoded by hand, so this class does not care
 * which protobuf-java runtime is on the classpath. Every call builds its own Graph and Session.
 *
 * <p>TensorFlow 2.18 limitations worth knowing: restoring with a non-empty slice spec, or restoring
 * a tensor that was saved as slices, only works for float32/64, int8/16/32/64, uint8, bool,
 * complex64/128, bfloat16, qint8, quint8, qint32, int4 and uint4 (others fail with "Dtype X not
 * supported"); that includes strings. SaveV2 itself accepts slices of any dtype.
 *
 * <p>Errors from TF are rethrown as {@link TfOracleException}; its message ends with TF's own
 * message and its cause is TF Java's exception.
 */
final class TfOracle implements AutoCloseable {

  private static volatile Boolean available;
  private static volatile Throwable loadFailure;

  private TfOracle() {}

  /** True when TensorFlow's native library loads on this machine. */
  static boolean available() {
    Boolean a = available;
    if (a == null) {
      synchronized (TfOracle.class) {
        a = available;
        if (a == null) {
          try {
            TensorFlow.version();
            a = Boolean.TRUE;
          } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...
            loadFailure = t;
            a = Boolean.FALSE;
          }
          available = a;
        }
      }
    }
    return a;
  }

  /**
   * Loads TensorFlow (slow the first time: the native library is unpacked) and returns a handle.
   */
  static TfOracle open() {
    if (!available()) {
      throw new IllegalStateException("TensorFlow native library unavailable", loadFailure);
    }
    return new TfOracle();
  }

  /**
   * Writes all tensors with one SaveV2 call, producing {@code prefix.index} and {@code
   * prefix.data-00000-of-00001} (parent directories are created). Several entries may share a key
   * if they are disjoint slices with the same full shape.
   */
  void save(String prefix, List<OracleTensor> tensors) {
    save(prefix, tensors, true);
  }

  /**
   * Like {@link #save}, for one part of a sharded save that {@link #merge} will combine: a part may
   * hold only some slices of a partitioned variable, so it is verified as the merged whole only.
   */
  void savePart(String prefix, List<OracleTensor> tensors) {
    save(prefix, tensors, false);
  }

  private void save(String prefix, List<OracleTensor> tensors, boolean verify) {
    int n = tensors.size();
    if (n == 0) {
      throw new IllegalArgumentException("SaveV2 needs at least one tensor");
    }
    List<Tensor> feeds = new ArrayList<>();
    try (Graph g = new Graph()) {
      Scope scope = g.baseScope();
      Output<?> prefixIn = placeholder(g, "prefix");
      Output<?> namesIn = placeholder(g, "names");
      Output<?> slicesIn = placeholder(g, "slices");
      Output<?>[] values = new Output<?>[n];
      byte[][] names = new byte[n][];
      byte[][] specs = new byte[n][];
      for (int i = 0; i < n; i++) {
        OracleTensor t = tensors.get(i);
        names[i] = utf8(t.key());
        specs[i] = utf8(t.shapeAndSlice());
        Output<?> proto = placeholder(g, "proto" + i);
        values[i] =
            g.opBuilder("ParseTensor", "parse" + i, scope)
                .addInput(proto)
                .setAttr("out_type", dataType(t.dtype()))
                .build()
                .output(0);
      }
      GraphOperation save =
          g.opBuilder("SaveV2", "save", scope)
              .addInput(prefixIn)
              .addInput(namesIn)
              .addInput(slicesIn)
              .addInputList(values)
              .build();
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        r.feed(prefixIn, track(feeds, scalar(utf8(prefix))));
        r.feed(namesIn, track(feeds, vector(names)));
        r.feed(slicesIn, track(feeds, vector(specs)));
        for (int i = 0; i < n; i++) {
          r.feed("proto" + i, track(feeds, scalar(encodeTensorProto(tensors.get(i)))));
        }
        r.addTarget(save);
        run(r, "SaveV2(" + prefix + ")");
      }
    } finally {
      feeds.forEach(Tensor::close);
    }
    if (verify) {
      OracleSupport.sweep(prefix);
    }
  }

  /** Reads a whole tensor with RestoreV2. */
  OracleTensor restore(String prefix, String key, int dtype) {
    return restore(prefix, key, dtype, "");
  }

  /**
   * Reads one key with RestoreV2. {@code shapeAndSlice} "" restores the whole tensor; a slice spec
   * restores just that slice (TF assembles it from whichever saved slices cover it). The result
   * carries the restored shape, the bytes or strings, and the given spec.
   */
  OracleTensor restore(String prefix, String key, int dtype, String shapeAndSlice) {
    return restore(prefix, key, dtype, shapeAndSlice, dtype);
  }

  /** Restores a whole tensor and converts it with TensorFlow's own {@code Cast} kernel. */
  OracleTensor restoreAndCast(String prefix, String key, int dtype, int castTo) {
    return restore(prefix, key, dtype, "", castTo);
  }

  private OracleTensor restore(
      String prefix, String key, int dtype, String shapeAndSlice, int castTo) {
    String spec = shapeAndSlice == null ? "" : shapeAndSlice;
    boolean isString = dtype == OracleTensor.DT_STRING;
    List<Tensor> feeds = new ArrayList<>();
    try (Graph g = new Graph()) {
      Scope scope = g.baseScope();
      Output<?> prefixIn = placeholder(g, "prefix");
      Output<?> namesIn = placeholder(g, "names");
      Output<?> slicesIn = placeholder(g, "slices");
      Output<?> restored =
          g.opBuilder("RestoreV2", "restore", scope)
              .addInput(prefixIn)
              .addInput(namesIn)
              .addInput(slicesIn)
              .setAttr("dtypes", new DataType[] {dataType(dtype)})
              .build()
              .output(0);
      if (castTo != dtype) {
        restored =
            g.opBuilder("Cast", "cast", scope)
                .addInput(restored)
                .setAttr("DstT", dataType(castTo))
                .build()
                .output(0);
      }
      Output<?> serialized;
      Output<?> minusOne = null;
      Output<?> zero = null;
      Output<?> one = null;
      if (isString) {
        serialized =
            g.opBuilder("SerializeTensor", "serialize", scope).addInput(restored).build().output(0);
      } else {
        // SerializeTensor has no kernels for quantized, float8 and int4 types, but
        // SerializeSparse serializes values of any dtype (as tensor_content). So view the
        // restored tensor as a sparse vector: indices [[0],[1],..], values = flattened tensor,
        // dense_shape = the tensor's shape. Output is [indices, values, shape] TensorProtos.
        minusOne = placeholder(g, "minus_one", DataType.DT_INT32);
        zero = placeholder(g, "zero", DataType.DT_INT64);
        one = placeholder(g, "one", DataType.DT_INT64);
        Output<?> flat =
            g.opBuilder("Reshape", "flat", scope)
                .addInput(restored)
                .addInput(minusOne)
                .build()
                .output(0);
        Output<?> size =
            g.opBuilder("Size", "size", scope)
                .addInput(restored)
                .setAttr("out_type", DataType.DT_INT64)
                .build()
                .output(0);
        Output<?> shape =
            g.opBuilder("Shape", "shape", scope)
                .addInput(restored)
                .setAttr("out_type", DataType.DT_INT64)
                .build()
                .output(0);
        Output<?> range =
            g.opBuilder("Range", "range", scope)
                .addInput(zero)
                .addInput(size)
                .addInput(one)
                .build()
                .output(0);
        Output<?> indices =
            g.opBuilder("ExpandDims", "indices", scope)
                .addInput(range)
                .addInput(minusOne)
                .build()
                .output(0);
        serialized =
            g.opBuilder("SerializeSparse", "serialize", scope)
                .addInput(indices)
                .addInput(flat)
                .addInput(shape)
                .setAttr("out_type", DataType.DT_STRING)
                .build()
                .output(0);
      }
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        r.feed(prefixIn, track(feeds, scalar(utf8(prefix))));
        r.feed(namesIn, track(feeds, vector(new byte[][] {utf8(key)})));
        r.feed(slicesIn, track(feeds, vector(new byte[][] {utf8(spec)})));
        if (!isString) {
          r.feed(minusOne, track(feeds, TInt32.scalarOf(-1)));
          r.feed(zero, track(feeds, TInt64.scalarOf(0)));
          r.feed(one, track(feeds, TInt64.scalarOf(1)));
        }
        r.fetch(serialized);
        try (Result res = run(r, "RestoreV2(" + prefix + ", " + key + ")")) {
          NdArray<byte[]> out = ((TString) res.get(0)).asBytes();
          if (isString) {
            return decodeTensorProto(out.getObject(), key, spec);
          }
          OracleTensor values = decodeTensorProto(out.getObject(1), key, spec);
          OracleTensor shape = decodeTensorProto(out.getObject(2), key, spec);
          long[] dims = new long[(int) shape.numElements()];
          ByteBuffer.wrap(shape.data()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(dims);
          return new OracleTensor(key, values.dtype(), dims, values.data(), null, spec);
        }
      }
    } finally {
      feeds.forEach(Tensor::close);
    }
  }

  /**
   * Merges checkpoints with MergeV2Checkpoints. TF consumes the inputs: their data files are
   * renamed into {@code destination.data-0000i-of-0000n} (one shard per input shard) and their
   * index files deleted. Their directories are left alone ({@code delete_old_dirs=false}).
   */
  void merge(List<String> prefixes, String destination) {
    List<Tensor> feeds = new ArrayList<>();
    try (Graph g = new Graph()) {
      Output<?> prefixesIn = placeholder(g, "prefixes");
      Output<?> destIn = placeholder(g, "destination");
      GraphOperation merge =
          g.opBuilder("MergeV2Checkpoints", "merge", g.baseScope())
              .addInput(prefixesIn)
              .addInput(destIn)
              .setAttr("delete_old_dirs", false)
              .build();
      byte[][] ps = new byte[prefixes.size()][];
      for (int i = 0; i < ps.length; i++) {
        ps[i] = utf8(prefixes.get(i));
      }
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        r.feed(prefixesIn, track(feeds, vector(ps)));
        r.feed(destIn, track(feeds, scalar(utf8(destination))));
        r.addTarget(merge);
        run(r, "MergeV2Checkpoints(" + prefixes + " -> " + destination + ")");
      }
    } finally {
      feeds.forEach(Tensor::close);
    }
    OracleSupport.sweep(destination);
  }

  /**
   * The two TensorFlow tables whose saveables write {@code <key>-keys} and {@code <key>-values}.
   */
  enum TableKind {
    /** {@code MutableHashTableV2}: an unordered map; exports exactly its entries. */
    MUTABLE_HASH,
    /**
     * {@code MutableDenseHashTableV2}: open addressing; exports every bucket, with {@code emptyKey}
     * in the unused ones.
     */
    DENSE_HASH
  }

  /**
   * Fills a table of {@code kind} with {@code keys} -> {@code values} (LookupTableInsertV2),
   * exports it (LookupTableExportV2) and saves the export under {@code tableKey + "-keys"} and
   * {@code tableKey + "-values"} together with {@code others}, all in one SaveV2 run: what
   * TensorFlow's table saveable does. {@code emptyKey}/{@code deletedKey} are the dense table's
   * markers (ignored for the mutable hash table).
   */
  void saveTable(
      String prefix,
      TableKind kind,
      String tableKey,
      OracleTensor keys,
      OracleTensor values,
      OracleTensor emptyKey,
      OracleTensor deletedKey,
      List<OracleTensor> others) {
    List<Tensor> feeds = new ArrayList<>();
    try (Graph g = new Graph()) {
      Scope scope = g.baseScope();
      Output<?> prefixIn = placeholder(g, "prefix");
      Output<?> namesIn = placeholder(g, "names");
      Output<?> slicesIn = placeholder(g, "slices");
      Output<?> keysIn = parsed(g, "keys", keys.dtype());
      Output<?> valuesIn = parsed(g, "values", values.dtype());
      Output<?> table = table(g, kind, keys.dtype(), values.dtype(), emptyKey, deletedKey);
      GraphOperation insert =
          g.opBuilder("LookupTableInsertV2", "insert", scope)
              .addInput(table)
              .addInput(keysIn)
              .addInput(valuesIn)
              .build();
      GraphOperation export =
          g.opBuilder("LookupTableExportV2", "export", scope)
              .addInput(table)
              .setAttr("Tkeys", dataType(keys.dtype()))
              .setAttr("Tvalues", dataType(values.dtype()))
              .addControlInput(insert)
              .build();
      int n = 2 + others.size();
      Output<?>[] tensors = new Output<?>[n];
      byte[][] names = new byte[n][];
      byte[][] specs = new byte[n][];
      tensors[0] = export.output(0);
      tensors[1] = export.output(1);
      names[0] = utf8(tableKey + "-keys");
      names[1] = utf8(tableKey + "-values");
      specs[0] = new byte[0];
      specs[1] = new byte[0];
      for (int i = 0; i < others.size(); i++) {
        OracleTensor t = others.get(i);
        names[2 + i] = utf8(t.key());
        specs[2 + i] = utf8(t.shapeAndSlice());
        tensors[2 + i] = parsed(g, "proto" + i, t.dtype());
      }
      GraphOperation save =
          g.opBuilder("SaveV2", "save", scope)
              .addInput(prefixIn)
              .addInput(namesIn)
              .addInput(slicesIn)
              .addInputList(tensors)
              .build();
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        r.feed(prefixIn, track(feeds, scalar(utf8(prefix))));
        r.feed(namesIn, track(feeds, vector(names)));
        r.feed(slicesIn, track(feeds, vector(specs)));
        r.feed("keys", track(feeds, scalar(encodeTensorProto(keys))));
        r.feed("values", track(feeds, scalar(encodeTensorProto(values))));
        feedMarkers(r, feeds, kind, emptyKey, deletedKey);
        for (int i = 0; i < others.size(); i++) {
          r.feed("proto" + i, track(feeds, scalar(encodeTensorProto(others.get(i)))));
        }
        r.addTarget(save);
        run(r, "SaveV2 of a " + kind + " table (" + prefix + ")").close();
      }
    } finally {
      feeds.forEach(Tensor::close);
    }
    OracleSupport.sweep(prefix);
  }

  /**
   * Restores {@code tableKey + "-keys"} and {@code "-values"} with RestoreV2 into a fresh table of
   * {@code kind} (LookupTableImportV2, what the saveable's restore runs) and looks {@code query} up
   * with LookupTableFindV2. Returns the found values (the query's shape, {@code missing} where a
   * key is absent) and, as its last element, the table's size from LookupTableSizeV2.
   */
  List<OracleTensor> restoreTableAndFind(
      String prefix,
      TableKind kind,
      String tableKey,
      int keyDtype,
      int valueDtype,
      OracleTensor emptyKey,
      OracleTensor deletedKey,
      OracleTensor query,
      OracleTensor missing) {
    List<Tensor> feeds = new ArrayList<>();
    try (Graph g = new Graph()) {
      Scope scope = g.baseScope();
      Output<?> prefixIn = placeholder(g, "prefix");
      Output<?> namesIn = placeholder(g, "names");
      Output<?> slicesIn = placeholder(g, "slices");
      GraphOperation restore =
          g.opBuilder("RestoreV2", "restore", scope)
              .addInput(prefixIn)
              .addInput(namesIn)
              .addInput(slicesIn)
              .setAttr("dtypes", new DataType[] {dataType(keyDtype), dataType(valueDtype)})
              .build();
      Output<?> table = table(g, kind, keyDtype, valueDtype, emptyKey, deletedKey);
      GraphOperation load =
          g.opBuilder("LookupTableImportV2", "import", scope)
              .addInput(table)
              .addInput(restore.output(0))
              .addInput(restore.output(1))
              .build();
      Output<?> queryIn = parsed(g, "query", query.dtype());
      Output<?> missingIn = parsed(g, "missing", missing.dtype());
      Output<?> found =
          g.opBuilder("LookupTableFindV2", "find", scope)
              .addInput(table)
              .addInput(queryIn)
              .addInput(missingIn)
              .addControlInput(load)
              .build()
              .output(0);
      Output<?> size =
          g.opBuilder("LookupTableSizeV2", "size", scope)
              .addInput(table)
              .addControlInput(load)
              .build()
              .output(0);
      Output<?> foundOut =
          g.opBuilder("SerializeTensor", "serialize_found", scope)
              .addInput(found)
              .build()
              .output(0);
      Output<?> sizeOut =
          g.opBuilder("SerializeTensor", "serialize_size", scope).addInput(size).build().output(0);
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        r.feed(prefixIn, track(feeds, scalar(utf8(prefix))));
        r.feed(
            namesIn,
            track(
                feeds,
                vector(new byte[][] {utf8(tableKey + "-keys"), utf8(tableKey + "-values")})));
        r.feed(slicesIn, track(feeds, vector(new byte[][] {new byte[0], new byte[0]})));
        r.feed("query", track(feeds, scalar(encodeTensorProto(query))));
        r.feed("missing", track(feeds, scalar(encodeTensorProto(missing))));
        feedMarkers(r, feeds, kind, emptyKey, deletedKey);
        r.fetch(foundOut);
        r.fetch(sizeOut);
        try (Result res =
            run(r, "restoring a " + kind + " table (" + prefix + ", " + tableKey + ")")) {
          return List.of(
              decodeTensorProto(((TString) res.get(0)).asBytes().getObject(), tableKey, ""),
              decodeTensorProto(((TString) res.get(1)).asBytes().getObject(), tableKey, ""));
        }
      }
    } finally {
      feeds.forEach(Tensor::close);
    }
  }

  private static Output<?> table(
      Graph g,
      TableKind kind,
      int keyDtype,
      int valueDtype,
      OracleTensor emptyKey,
      OracleTensor deletedKey) {
    Scope scope = g.baseScope();
    if (kind == TableKind.MUTABLE_HASH) {
      return g.opBuilder("MutableHashTableV2", "table", scope)
          .setAttr("key_dtype", dataType(keyDtype))
          .setAttr("value_dtype", dataType(valueDtype))
          .build()
          .output(0);
    }
    Output<?> empty = parsed(g, "empty_key", emptyKey.dtype());
    Output<?> deleted = parsed(g, "deleted_key", deletedKey.dtype());
    return g.opBuilder("MutableDenseHashTableV2", "table", scope)
        .addInput(empty)
        .addInput(deleted)
        .setAttr("value_dtype", dataType(valueDtype))
        .setAttr("initial_num_buckets", 8L)
        .build()
        .output(0);
  }

  private static void feedMarkers(
      Session.Runner r,
      List<Tensor> feeds,
      TableKind kind,
      OracleTensor emptyKey,
      OracleTensor deletedKey) {
    if (kind == TableKind.DENSE_HASH) {
      r.feed("empty_key", track(feeds, scalar(encodeTensorProto(emptyKey))));
      r.feed("deleted_key", track(feeds, scalar(encodeTensorProto(deletedKey))));
    }
  }

  /** A string placeholder named {@code name} holding a TensorProto, parsed to {@code dtype}. */
  private static Output<?> parsed(Graph g, String name, int dtype) {
    Output<?> proto = placeholder(g, name);
    return g.opBuilder("ParseTensor", "parse_" + name, g.baseScope())
        .addInput(proto)
        .setAttr("out_type", dataType(dtype))
        .build()
        .output(0);
  }

  @Override
  public void close() {
    // Nothing is held between calls.
  }

  /**
   * A TensorFlow error. The message is "{@code <op>(<args>) failed: <TF message>}". TF Java maps
   * only some status codes to their own exception classes (the cause): INVALID_ARGUMENT,
   * FAILED_PRECONDITION, OUT_OF_RANGE, ... ; NOT_FOUND and DATA_LOSS arrive as plain
   * TensorFlowException, so tell them apart by message text.
   */
  static final class TfOracleException extends RuntimeException {
    private final String tfMessage;

    TfOracleException(String what, RuntimeException cause) {
      super(what + " failed: " + cause.getMessage(), cause);
      this.tfMessage = cause.getMessage();
    }

    /** TF's message alone, e.g. "Key x not found in checkpoint\n\t [[{{node restore}}]]". */
    String tfMessage() {
      return tfMessage;
    }
  }

  // ---- graph helpers ----

  private static Result run(Session.Runner r, String what) {
    try {
      return r.run();
    } catch (RuntimeException e) {
      throw new TfOracleException(what, e);
    }
  }

  private static Output<?> placeholder(Graph g, String name) {
    return placeholder(g, name, DataType.DT_STRING);
  }

  private static Output<?> placeholder(Graph g, String name, DataType type) {
    return g.opBuilder("Placeholder", name, g.baseScope()).setAttr("dtype", type).build().output(0);
  }

  private static DataType dataType(int dtype) {
    DataType d = DataType.forNumber(dtype);
    if (d == null || d == DataType.DT_INVALID) {
      throw new IllegalArgumentException("dtype " + dtype + " unknown to TF Java's DataType enum");
    }
    return d;
  }

  private static Tensor track(List<Tensor> feeds, Tensor t) {
    feeds.add(t);
    return t;
  }

  private static TString scalar(byte[] value) {
    return TString.tensorOfBytes(NdArrays.scalarOfObject(value));
  }

  private static TString vector(byte[][] values) {
    return TString.tensorOfBytes(NdArrays.vectorOfObjects(values));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  // ---- minimal TensorProto codec ----
  // TensorProto: 1 dtype (varint), 2 tensor_shape (TensorShapeProto), 4 tensor_content (bytes),
  // 8 string_val (repeated bytes). TensorShapeProto: 2 dim (repeated Dim). Dim: 1 size (int64).

  static byte[] encodeTensorProto(OracleTensor t) {
    ByteArrayOutputStream shape = new ByteArrayOutputStream();
    for (long d : t.shape()) {
      ByteArrayOutputStream dim = new ByteArrayOutputStream();
      writeTag(dim, 1, 0);
      writeVarint(dim, d);
      writeBytesField(shape, 2, dim.toByteArray());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeTag(out, 1, 0);
    writeVarint(out, t.dtype());
    writeBytesField(out, 2, shape.toByteArray());
    if (t.dtype() == OracleTensor.DT_STRING) {
      if (t.strings().size() != t.numElements()) {
        throw new IllegalArgumentException("string count != element count for " + t);
      }
      for (byte[] s : t.strings()) {
        writeBytesField(out, 8, s);
      }
    } else {
      int size = OracleTensor.elementSize(t.dtype());
      if (size > 0 && t.data().length != size * t.numElements()) {
        throw new IllegalArgumentException("data length != elements * " + size + " for " + t);
      }
      if (t.data().length > 0) {
        writeBytesField(out, 4, t.data());
      }
    }
    return out.toByteArray();
  }

  static OracleTensor decodeTensorProto(byte[] proto, String key, String spec) {
    Reader in = new Reader(proto, 0, proto.length);
    int dtype = 0;
    List<Long> dims = new ArrayList<>();
    byte[] content = new byte[0];
    List<byte[]> strings = new ArrayList<>();
    while (in.more()) {
      long tag = in.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == 1 && wire == 0) {
        dtype = (int) in.varint();
      } else if (field == 2 && wire == 2) {
        Reader shape = in.sub();
        while (shape.more()) {
          long st = shape.varint();
          if ((st >>> 3) == 2 && (st & 7) == 2) {
            Reader dim = shape.sub();
            long size = 0;
            while (dim.more()) {
              long dt = dim.varint();
              if ((dt >>> 3) == 1 && (dt & 7) == 0) {
                size = dim.varint();
              } else {
                dim.skip((int) (dt & 7));
              }
            }
            dims.add(size);
          } else {
            shape.skip((int) (st & 7));
          }
        }
      } else if (field == 4 && wire == 2) {
        content = in.bytes();
      } else if (field == 8 && wire == 2) {
        strings.add(in.bytes());
      } else {
        // Only version_number (3) may appear besides the fields above; typed *_val fields
        // would mean values we did not capture.
        if (field != 3) {
          throw new IllegalStateException("unexpected TensorProto field " + field);
        }
        in.skip(wire);
      }
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    return dtype == OracleTensor.DT_STRING
        ? new OracleTensor(key, dtype, shape, null, strings, spec)
        : new OracleTensor(key, dtype, shape, content, null, spec);
  }

  private static void writeTag(ByteArrayOutputStream out, int field, int wire) {
    writeVarint(out, ((long) field << 3) | wire);
  }

  private static void writeBytesField(ByteArrayOutputStream out, int field, byte[] b) {
    writeTag(out, field, 2);
    writeVarint(out, b.length);
    out.write(b, 0, b.length);
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static final class Reader {
    private final byte[] buf;
    private int pos;
    private final int end;

    Reader(byte[] buf, int pos, int end) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = buf[pos++];
        v |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          return v;
        }
      }
      throw new IllegalStateException("bad varint");
    }

    byte[] bytes() {
      int len = (int) varint();
      byte[] b = java.util.Arrays.copyOfRange(buf, pos, pos + len);
      pos += len;
      return b;
    }

    Reader sub() {
      int len = (int) varint();
      Reader r = new Reader(buf, pos, pos + len);
      pos += len;
      return r;
    }

    void skip(int wire) {
      switch (wire) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> pos += (int) varint();
        case 5 -> pos += 4;
        default -> throw new IllegalStateException("unsupported wire type " + wire);
      }
    }
  }
}
