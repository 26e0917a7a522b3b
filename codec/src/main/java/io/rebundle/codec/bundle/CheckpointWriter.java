package io.rebundle.codec.bundle;

import io.rebundle.codec.Errors;
import io.rebundle.codec.commit.Committer;
import io.rebundle.codec.commit.Recovery;
import io.rebundle.codec.commit.StagedShard;
import io.rebundle.codec.commit.StagingArea;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a whole checkpoint from one process: {@link ShardWriter}s for the data files and an {@link
 * IndexWriter}, chained. The data files are written into a {@link StagingArea}; {@link #finish()}
 * publishes them with the {@link Committer}, the commit protocol of migrations (data files renamed
 * first, the index last), so a crash never leaves an index pointing at missing bytes. {@link
 * #close()} without {@code finish()} removes the staging area. Not thread-safe.
 */
public final class CheckpointWriter implements AutoCloseable {
  private final FileIO io;
  private final String prefix;
  private final boolean overwrite;
  private final List<ShardWriter> shards = new ArrayList<>();
  private final Committer committer;
  private final List<IndexRecord> records = new ArrayList<>();
  private final Map<String, BundleEntry> slicedTensors = new LinkedHashMap<>();
  private boolean finished;

  private CheckpointWriter(FileIO io, String prefix, int numShards, boolean overwrite) {
    if (numShards < 1) {
      throw new IllegalArgumentException("Invalid number of shards: " + numShards);
    }
    this.io = io;
    this.prefix = prefix;
    this.overwrite = overwrite;
    Recovery.Outcome recovered = Recovery.recover(io, prefix, w -> {});
    if (!recovered.liveOwners().isEmpty()) {
      throw Errors.destinationInUse(prefix, recovered.liveOwners().get(0));
    }
    if (!overwrite && Committer.destinationExists(io, prefix)) {
      throw Errors.destinationExists(prefix);
    }
    this.committer = new Committer(io, StagingArea.of(io, prefix, StagingArea.newRunId()));
    committer.createStaging();
    try {
      for (int i = 0; i < numShards; i++) {
        String staged = committer.attemptFile(i, "writer");
        shards.add(new ShardWriter(io.newOutputFile(staged).create(), staged, i));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public static CheckpointWriter create(FileIO io, String prefix) {
    return new CheckpointWriter(io, prefix, 1, false);
  }

  public static CheckpointWriter create(
      FileIO io, String prefix, int numShards, boolean overwrite) {
    return new CheckpointWriter(io, prefix, numShards, overwrite);
  }

  public String prefix() {
    return prefix;
  }

  public int numShards() {
    return shards.size();
  }

  public ShardWriter shard(int i) {
    return shards.get(i);
  }

  public void add(String key, Tensor tensor) {
    add(0, key, tensor);
  }

  public void add(int shard, String key, Tensor tensor) {
    addEntry(Bytes.utf8(key), shards.get(shard).add(tensor));
  }

  /** Records an entry written directly through {@link #shard(int)}. */
  public void addEntry(byte[] key, BundleEntry entry) {
    records.add(new IndexRecord(key, entry));
  }

  /**
   * Adds one slice of a partitioned tensor: its data under the slice key, and the slice to the full
   * entry under {@code key}. Slices TensorFlow could not restore are refused
   * (tensorbundle-format.md §5): dtypes it cannot assemble, slices that overlap or disagree on
   * dtype or full shape. A slice covering the whole tensor is stored as a plain entry, as
   * TensorFlow does (§5.1).
   */
  public void addSlice(
      int shard, String key, TensorShape fullShape, TensorSlice slice, Tensor part) {
    if (checkSlice(key, part.dtype(), fullShape, slice, part.shape())) {
      add(shard, key, part);
      return;
    }
    recordSlice(key, part.dtype(), fullShape, slice, shards.get(shard).add(part));
  }

  /**
   * Streams a whole fixed-size tensor into {@code shard} under {@code key} (see {@link
   * ShardWriter#append}).
   */
  public BundleEntry append(
      int shard, String key, DType dtype, TensorShape shape, StreamSource source) {
    requireFixedSize(key, dtype);
    BundleEntry e =
        shards.get(shard).append(dtype, shape, shape.numElements() * dtype.elementSize(), source);
    addEntry(Bytes.utf8(key), e);
    return e;
  }

  /** {@link #addSlice} for a fixed-size slice whose bytes are streamed from {@code source}. */
  public BundleEntry appendSlice(
      int shard,
      String key,
      DType dtype,
      TensorShape fullShape,
      TensorSlice slice,
      StreamSource source) {
    requireFixedSize(key, dtype);
    TensorShape partShape = slice.sliceShape(fullShape);
    if (checkSlice(key, dtype, fullShape, slice, partShape)) {
      return append(shard, key, dtype, partShape, source);
    }
    BundleEntry e =
        shards
            .get(shard)
            .append(dtype, partShape, partShape.numElements() * dtype.elementSize(), source);
    recordSlice(key, dtype, fullShape, slice, e);
    return e;
  }

  private static void requireFixedSize(String key, DType dtype) {
    if (!dtype.isFixedSize()) {
      throw new IllegalArgumentException(
          "Invalid dtype for streamed tensor "
              + key
              + ": "
              + dtype.displayName()
              + " has no fixed element size; use ShardWriter.append with its stored encoding");
    }
  }

  /**
   * Checks a slice before any byte is written; true if it covers the whole tensor (store it plain).
   */
  private boolean checkSlice(
      String key, DType dtype, TensorShape fullShape, TensorSlice slice, TensorShape partShape) {
    String problem = slice.problemWith(fullShape);
    if (problem != null) {
      throw new IllegalArgumentException("Invalid slice for " + key + ": " + problem);
    }
    if (!slice.sliceShape(fullShape).equals(partShape)) {
      throw new IllegalArgumentException(
          "Invalid slice data for "
              + key
              + ": shape "
              + partShape
              + ", slice "
              + slice
              + " of "
              + fullShape
              + " needs "
              + slice.sliceShape(fullShape));
    }
    if (!dtype.isSliceable()) {
      throw new IllegalArgumentException(
          "Invalid slice for "
              + key
              + ": TensorFlow cannot restore sliced "
              + dtype.displayName()
              + " tensors");
    }
    BundleEntry full = slicedTensors.get(key);
    if (full != null && (full.dtypeCode() != dtype.code() || !full.shape().equals(fullShape))) {
      throw new IllegalArgumentException(
          "Invalid slice for "
              + key
              + ": "
              + dtype.displayName()
              + " "
              + fullShape
              + " does not match earlier slices of "
              + full.dtypeName()
              + " "
              + full.shape());
    }
    if (full != null) {
      for (TensorSlice other : full.slices()) {
        if (SliceAssembler.overlap(other, slice, fullShape)) {
          throw new IllegalArgumentException(
              "Invalid slice for " + key + ": " + slice + " overlaps " + other);
        }
      }
    }
    return full == null && slice.coversAll(fullShape);
  }

  private void recordSlice(
      String key, DType dtype, TensorShape fullShape, TensorSlice slice, BundleEntry part) {
    BundleEntry full = slicedTensors.get(key);
    List<TensorSlice> slices = new ArrayList<>(full == null ? List.of() : full.slices());
    slices.add(slice);
    slicedTensors.put(key, BundleEntry.sliced(dtype, fullShape, slices));
    addEntry(SliceKeys.encode(key, slice), part);
  }

  /** Closes the data files, renames them, then writes the index: the checkpoint is complete. */
  public void finish() {
    for (ShardWriter s : shards) {
      s.close();
    }
    List<List<IndexRecord>> byShard = new ArrayList<>();
    shards.forEach(s -> byShard.add(new ArrayList<>()));
    List<IndexRecord> metadata = new ArrayList<>();
    for (IndexRecord r : records) {
      if (r.entry().isSliced()) {
        metadata.add(r);
      } else if (r.entry().shardId() < 0 || r.entry().shardId() >= shards.size()) {
        throw new IllegalArgumentException(
            "Invalid entry "
                + r.name()
                + ": shard "
                + r.entry().shardId()
                + " of "
                + shards.size());
      } else {
        byShard.get(r.entry().shardId()).add(r);
      }
    }
    List<StagedShard> staged = new ArrayList<>();
    for (int i = 0; i < shards.size(); i++) {
      staged.add(
          new StagedShard(i, shards.get(i).location(), byShard.get(i), shards.get(i).position()));
    }
    slicedTensors.forEach((k, e) -> metadata.add(new IndexRecord(Bytes.utf8(k), e)));
    committer.commit(staged, metadata, overwrite, false);
    finished = true;
  }

  @Override
  public void close() {
    if (finished) {
      return;
    }
    for (ShardWriter s : shards) {
      try {
        s.close();
      } catch (RuntimeException ignored) {
        // Aborting: the temporary file is deleted next either way.
      }
    }
    committer.abort();
  }
}
