package io.rebundle.codec.exec;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.plan.PlannedTensor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The output bytes of one planned tensor as a stream, for writers of other formats than the
 * TensorBundle (safetensors): copies and reshapes stream the stored bytes, merges assemble the
 * slices, casts and transposes run through {@link Transforms}; all through one bounded buffer, and
 * every source CRC32C is verified on the way (a mismatch throws after the bytes went out, so the
 * caller must not publish that output).
 */
public final class TensorStreams {
  private TensorStreams() {}

  /**
   * Writes exactly {@code t.size()} bytes of {@code t}, read from {@code reader}, to {@code out}.
   */
  public static void write(
      CheckpointReader reader,
      PlannedTensor t,
      OutputStream out,
      byte[] buffer,
      ProgressSink progress) {
    try {
      if (t instanceof PlannedTensor.Copy c) {
        reader.copyRaw(c.sourceName(), c.sourceEntry(), out, buffer);
      } else if (t instanceof PlannedTensor.Literal l) {
        out.write(l.bytes());
      } else if (t instanceof PlannedTensor.MergedSlices m) {
        SliceMerger.write(reader, m, out, buffer, progress);
      } else if (t instanceof PlannedTensor.Transformed x) {
        Transforms.apply(reader, x.sourceName(), x.sourceEntry(), x, out, buffer);
      } else {
        throw new IllegalArgumentException(
            "Invalid plan: sliced entry " + t.targetName() + " has no bytes of its own");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write tensor " + t.targetName() + ": " + e.getMessage(), e);
    }
  }
}
