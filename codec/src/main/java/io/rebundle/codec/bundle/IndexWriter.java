package io.rebundle.codec.bundle;

import io.rebundle.codec.io.OutputFile;
import io.rebundle.codec.io.PositionOutputStream;
import io.rebundle.codec.table.TableWriter;
import io.rebundle.codec.util.Bytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a checkpoint's {@code .index}: the header under the empty key, then every entry in
 * unsigned bytewise key order, with TensorFlow's table parameters.
 */
public final class IndexWriter {
  private IndexWriter() {}

  /** Writes the index to a file that must not exist yet. Rejects duplicate and empty keys. */
  public static void write(OutputFile file, BundleHeader header, List<IndexRecord> records) {
    List<IndexRecord> sorted = new ArrayList<>(records);
    sorted.sort((a, b) -> Arrays.compareUnsigned(a.key(), b.key()));
    for (int i = 0; i < sorted.size(); i++) {
      if (sorted.get(i).key().length == 0) {
        throw new IllegalArgumentException("Invalid key: the empty key is reserved for the header");
      }
      if (i > 0 && Arrays.equals(sorted.get(i - 1).key(), sorted.get(i).key())) {
        throw new IllegalArgumentException(
            "Invalid entries: duplicate key " + Bytes.printable(sorted.get(i).key()));
      }
    }
    PositionOutputStream out = file.create();
    boolean done = false;
    try {
      TableWriter table = new TableWriter(out, file.location());
      table.add(new byte[0], header.encode());
      for (IndexRecord r : sorted) {
        table.add(r.key(), r.entry().encode());
      }
      table.finish();
      out.close();
      done = true;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + file.location() + ": " + e.getMessage(), e);
    } finally {
      if (!done && !out.abort()) {
        // Storage that cannot abort keeps what was written; the caller's staging area holds it.
        try {
          out.close();
        } catch (IOException | RuntimeException ignored) {
          // The failure being propagated matters more.
        }
      }
    }
  }
}
