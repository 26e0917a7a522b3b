package io.rebundle.codec.source;

import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A TensorBundle checkpoint as a {@link TensorSource}: every full entry of its index (slice entries
 * are folded into their tensor, which reports the sum of nothing: a sliced tensor has no contiguous
 * bytes and {@link #readRange} refuses it). Stored bytes are read without CRC checks; callers that
 * need them use the {@link CheckpointReader}. Closing closes the reader, which this source owns.
 */
public final class BundleSource implements TensorSource {
  private final CheckpointReader reader;

  public BundleSource(CheckpointReader reader) {
    this.reader = reader;
  }

  /** The reader underneath, for format-specific work (object graph, CRCs). */
  public CheckpointReader reader() {
    return reader;
  }

  @Override
  public String location() {
    return reader.prefix();
  }

  @Override
  public String format() {
    return reader.isObjectBased() ? "tf2" : "tf1";
  }

  @Override
  public int numFiles() {
    return reader.header().numShards();
  }

  @Override
  public Iterable<SourceTensor> tensors() {
    return () ->
        new Iterator<>() {
          private final Iterator<IndexRecord> records = reader.records().iterator();
          private SourceTensor next = advance();

          private SourceTensor advance() {
            while (records.hasNext()) {
              IndexRecord r = records.next();
              if (!r.isSliceEntry()) {
                return of(r.name(), r.entry());
              }
            }
            return null;
          }

          @Override
          public boolean hasNext() {
            return next != null;
          }

          @Override
          public SourceTensor next() {
            if (next == null) {
              throw new NoSuchElementException();
            }
            SourceTensor t = next;
            next = advance();
            return t;
          }
        };
  }

  @Override
  public SourceTensor find(String name) {
    BundleEntry e = reader.findEntry(name);
    return e == null ? null : of(name, e);
  }

  private static SourceTensor of(String name, BundleEntry e) {
    return new SourceTensor(
        name, e.dtype(), e.shape(), e.isSliced() ? 0 : e.size(), e.isSliced() ? 0 : e.shardId());
  }

  @Override
  public void readRange(
      SourceTensor t, long offsetInTensor, byte[] buffer, int offset, int length) {
    BundleEntry e = reader.entry(t.name());
    if (e.isSliced()) {
      throw new UnsupportedCheckpointException(
          "Cannot read tensor "
              + t.name()
              + " of "
              + reader.prefix()
              + " as one range: it is stored in "
              + e.slices().size()
              + " slices");
    }
    reader.readRange(t.name(), e, offsetInTensor, buffer, offset, length);
  }

  @Override
  public void close() {
    reader.close();
  }
}
