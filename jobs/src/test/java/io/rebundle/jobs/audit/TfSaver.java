package io.rebundle.jobs.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Writes checkpoints with TensorFlow's own kernels through TF Java: SaveV2 for V2 bundles, SaveV2
 * per shard plus MergeV2Checkpoints for sharded ones (what TensorFlow's sharded saver runs), and
 * the legacy Save op for V1 checkpoints. The tensors are closed by the caller.
 */
public final class TfSaver {
  private TfSaver() {}

  public static boolean available() {
    try {
      TensorFlow.version();
      return true;
    } catch (Throwable t) {
      return false;
    }
  }

  /**
   * One shard per map; {@code shards.size() > 1} writes {@code prefix} with that many data files.
   */
  public static void save(String prefix, List<Map<String, TType>> shards) {
    mkdirs(prefix);
    try (Graph g = new Graph();
        Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<String> parts = new ArrayList<>();
      for (int i = 0; i < shards.size(); i++) {
        String part =
            shards.size() == 1
                ? prefix
                : prefix + "_temp_tfsaver/part-" + String.format("%05d-of-%05d", i, shards.size());
        parts.add(part);
        Map<String, TType> tensors = shards.get(i);
        List<Operand<?>> values = new ArrayList<>();
        tensors.values().forEach(t -> values.add(tf.constantOf(t)));
        String[] names = tensors.keySet().toArray(new String[0]);
        String[] specs = new String[names.length];
        java.util.Arrays.fill(specs, "");
        var save = tf.train.save(tf.constant(part), strings(tf, names), strings(tf, specs), values);
        s.runner().addTarget(save).run().close();
      }
      if (shards.size() > 1) {
        var merge =
            tf.train.mergeV2Checkpoints(
                strings(tf, parts.toArray(new String[0])), tf.constant(prefix));
        s.runner().addTarget(merge).run().close();
      }
    }
    sweep(prefix);
  }

  private static final java.util.concurrent.atomic.AtomicInteger SWEPT =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * The no-false-alarm sweep (issue 9), as in the codec oracle tests: every checkpoint this class
   * makes TensorFlow write must verify clean the moment it exists, before a test damages it.
   */
  private static void sweep(String prefix) {
    io.rebundle.codec.bundle.CheckpointVerifier.Summary s =
        io.rebundle.codec.bundle.CheckpointVerifier.verify(
            new io.rebundle.codec.io.LocalFileIO(), prefix, null);
    if (!s.ok()) {
      throw new AssertionError(
          "verify must find the TensorFlow-written checkpoint "
              + prefix
              + " clean: "
              + s.findings());
    }
    System.out.println(
        "oracle sweep: TfSaver: "
            + SWEPT.incrementAndGet()
            + " TensorFlow-written checkpoints verified clean");
  }

  private static void mkdirs(String file) {
    try {
      java.nio.file.Files.createDirectories(java.nio.file.Path.of(file).getParent());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Operand<TString> strings(Ops tf, String[] values) {
    return tf.constantOf(TString.vectorOf(values));
  }

  /** A legacy V1 checkpoint file with the (pre-V2) Save op. */
  public static void saveV1(String file, Map<String, TType> tensors) {
    try (Graph g = new Graph();
        Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<?>> values = new ArrayList<>();
      tensors.values().forEach(t -> values.add(tf.constantOf(t)));
      Operand<TString> names = strings(tf, tensors.keySet().toArray(new String[0]));
      var op =
          g.opBuilder("Save", "save_v1", g.baseScope())
              .addInput(tf.constant(file).asOutput())
              .addInput(names.asOutput())
              .addInputList(
                  values.stream().map(Operand::asOutput).toArray(org.tensorflow.Output[]::new))
              .build();
      s.runner().addTarget(op).run().close();
    }
  }
}
