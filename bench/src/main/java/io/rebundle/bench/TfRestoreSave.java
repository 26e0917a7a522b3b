package io.rebundle.bench;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.io.LocalFileIO;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TString;

/**
 * The TensorFlow baseline of bench/run.sh: what migrating a checkpoint through TensorFlow itself
 * costs. One graph, one session run: {@code RestoreV2} of every tensor (sliced ones assembled
 * whole) feeding {@code SaveV2} of the same keys to a new prefix, so the tensors stay inside
 * TensorFlow as typed tensors (no TensorProto round trip) and TensorFlow's own C++ kernels do all
 * the I/O. Like a real restore-then-save, every tensor is in memory at once.
 *
 * <p>Usage: {@code TfRestoreSave SRC_PREFIX DST_PREFIX}. Keys and dtypes come from Rebundle's index
 * reader (metadata only). Prints one JSON line: tensors, bytes, TensorFlow load seconds and
 * restore+save seconds.
 */
public final class TfRestoreSave {
  private TfRestoreSave() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: TfRestoreSave SRC_PREFIX DST_PREFIX");
      System.exit(2);
    }
    List<byte[]> names = new ArrayList<>();
    List<DataType> types = new ArrayList<>();
    long bytes = 0;
    String source;
    try (CheckpointReader r = CheckpointReader.open(new LocalFileIO(), args[0])) {
      source = r.prefix();
      for (IndexRecord rec : r.records()) {
        if (rec.isSliceEntry()) {
          bytes += rec.entry().size();
          continue;
        }
        names.add(rec.name().getBytes(StandardCharsets.UTF_8));
        types.add(DataType.forNumber(rec.entry().dtypeCode()));
        bytes += rec.entry().size();
      }
    }
    long t0 = System.nanoTime();
    TensorFlow.version(); // loads the native library
    long t1 = System.nanoTime();
    int n = names.size();
    byte[][] specs = new byte[n][];
    for (int i = 0; i < n; i++) {
      specs[i] = new byte[0];
    }
    try (Graph g = new Graph()) {
      Scope scope = g.baseScope();
      Output<?> sourceIn = placeholder(g, "source");
      Output<?> targetIn = placeholder(g, "target");
      Output<?> namesIn = placeholder(g, "names");
      Output<?> specsIn = placeholder(g, "specs");
      GraphOperation restore =
          g.opBuilder("RestoreV2", "restore", scope)
              .addInput(sourceIn)
              .addInput(namesIn)
              .addInput(specsIn)
              .setAttr("dtypes", types.toArray(new DataType[0]))
              .build();
      Output<?>[] values = restore.outputList(0, n);
      GraphOperation save =
          g.opBuilder("SaveV2", "save", scope)
              .addInput(targetIn)
              .addInput(namesIn)
              .addInput(specsIn)
              .addInputList(values)
              .build();
      try (Session s = new Session(g);
          TString src = scalar(source);
          TString dst = scalar(args[1]);
          TString keys =
              TString.tensorOfBytes(NdArrays.vectorOfObjects(names.toArray(new byte[0][])));
          TString slices = TString.tensorOfBytes(NdArrays.vectorOfObjects(specs))) {
        s.runner()
            .feed(sourceIn, src)
            .feed(targetIn, dst)
            .feed(namesIn, keys)
            .feed(specsIn, slices)
            .addTarget(save)
            .run();
      }
    }
    long t2 = System.nanoTime();
    System.out.printf(
        "{\"tensors\":%d,\"bytes\":%d,\"load_seconds\":%.3f,\"restore_save_seconds\":%.3f}%n",
        n, bytes, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
  }

  private static Output<?> placeholder(Graph g, String name) {
    return g.opBuilder("Placeholder", name, g.baseScope())
        .setAttr("dtype", DataType.DT_STRING)
        .build()
        .output(0);
  }

  private static TString scalar(String s) {
    return TString.tensorOfBytes(NdArrays.scalarOfObject(s.getBytes(StandardCharsets.UTF_8)));
  }
}
