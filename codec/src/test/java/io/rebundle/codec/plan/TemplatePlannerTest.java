package io.rebundle.codec.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.migrate.LocalMigrationTestSupport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Templates in exactly the object-graph layout of a Keras Sequential model (two Dense layers,
 * Adam): {@code layer_with_weights-N} and {@code layer-N} children, an {@code optimizer} with
 * hyper-parameters and {@code m}/{@code v} slot variables, full names like {@code dense/kernel}, no
 * save_counter.
 */
class TemplatePlannerTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String keras;
  private String tf1;

  static Tensor floats(long rows, long cols, float start) {
    ByteBuffer b = ByteBuffer.allocate((int) (rows * cols * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      b.putFloat(start + i);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(rows, cols), b.array());
  }

  static Tensor vector(long n, float start) {
    ByteBuffer b = ByteBuffer.allocate((int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(start + i);
    }
    return Tensor.of(DType.FLOAT, TensorShape.of(n), b.array());
  }

  /**
   * A Keras Sequential(Dense(3), Dense(1)) with Adam, as save_weights writes it (values all zero).
   */
  @BeforeEach
  void writeCheckpoints() {
    ObjectGraphBuilder g = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject root = g.root();
    ObjectGraphBuilder.TrackedObject l0 = root.child("layer_with_weights-0");
    root.link("layer-0", l0);
    ObjectGraphBuilder.TrackedObject l1 = root.child("layer_with_weights-1");
    root.link("layer-1", l1);
    ObjectGraphBuilder.TrackedObject opt = root.child("optimizer");
    root.link("root", root);
    ObjectGraphBuilder.TrackedObject k0 = l0.child("kernel").variable("dense/kernel");
    ObjectGraphBuilder.TrackedObject b0 = l0.child("bias").variable("dense/bias");
    ObjectGraphBuilder.TrackedObject k1 = l1.child("kernel").variable("dense_1/kernel");
    ObjectGraphBuilder.TrackedObject b1 = l1.child("bias").variable("dense_1/bias");
    opt.child("iter").variable("Adam/iter");
    opt.child("learning_rate").variable("Adam/learning_rate");
    for (ObjectGraphBuilder.TrackedObject v : List.of(k0, b0, k1, b1)) {
      opt.slot(v, "m", new ObjectGraphBuilder.TrackedObject().variable("Adam/m"));
    }
    for (ObjectGraphBuilder.TrackedObject v : List.of(k0, b0, k1, b1)) {
      opt.slot(v, "v", new ObjectGraphBuilder.TrackedObject().variable("Adam/v"));
    }
    keras = dir.resolve("keras/weights").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, keras)) {
      w.add("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", floats(4, 3, 0));
      w.add("layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE", vector(3, 0));
      w.add("layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", floats(3, 1, 0));
      w.add("layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE", vector(1, 0));
      w.add(
          "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
          Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]));
      w.add(
          "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE",
          vector(1, 0.001f).withShapeScalar());
      for (String layer : List.of("layer_with_weights-0", "layer_with_weights-1")) {
        for (String slot : List.of("m", "v")) {
          boolean first = layer.endsWith("0");
          w.add(
              layer + "/kernel/.OPTIMIZER_SLOT/optimizer/" + slot + "/.ATTRIBUTES/VARIABLE_VALUE",
              first ? floats(4, 3, 0) : floats(3, 1, 0));
          w.add(
              layer + "/bias/.OPTIMIZER_SLOT/optimizer/" + slot + "/.ATTRIBUTES/VARIABLE_VALUE",
              first ? vector(3, 0) : vector(1, 0));
        }
      }
      w.add(
          Naming.OBJECT_GRAPH_KEY,
          Tensor.ofStrings(TensorShape.SCALAR, List.of(g.build().encode())));
      w.finish();
    }
    tf1 = dir.resolve("tf1/model.ckpt-100").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, tf1)) {
      w.add("dense/kernel", floats(4, 3, 100));
      w.add("dense/bias", vector(3, 200));
      w.add("dense_1/kernel", floats(3, 1, 300));
      w.add("dense_1/bias", vector(1, 400));
      w.add("dense/kernel/Adam", floats(4, 3, 500));
      w.add("dense/kernel/Adam_1", floats(4, 3, 600));
      w.add(
          "global_step",
          Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[] {100, 0, 0, 0, 0, 0, 0, 0}));
      w.add("beta1_power", vector(1, 0.9f).withShapeScalar());
      w.finish();
    }
  }

  private SourceIndex index(String prefix) {
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      return SourceIndex.read(r);
    }
  }

  private MigrationPlan plan(TemplateSpec ts) {
    return TemplatePlanner.plan(index(tf1), index(keras), ts, MappingRules.none());
  }

  static TemplateSpec spec(boolean keep, boolean strict) {
    return new TemplateSpec(false, keep, strict, null, Map.of());
  }

  @Test
  void fillsAKerasTemplateByFullNameAndTranslatesAdamSlots() {
    String out = dir.resolve("out/weights").toString();
    MigrationPlan plan = plan(spec(true, false));
    LocalMigrationTestSupport.execute(io, plan, index(tf1), out);
    try (CheckpointReader r = CheckpointReader.open(io, out)) {
      assertArrayEquals(
          floats(4, 3, 100).data(),
          r.read("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE").data());
      assertArrayEquals(
          vector(1, 400).data(),
          r.read("layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE").data());
      assertArrayEquals(
          floats(4, 3, 500).data(),
          r.read(
                  "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE")
              .data(),
          "TF1 dense/kernel/Adam fills the Keras m slot");
      assertArrayEquals(
          floats(4, 3, 600).data(),
          r.read(
                  "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE")
              .data(),
          "TF1 dense/kernel/Adam_1 fills the Keras v slot");
      assertArrayEquals(
          vector(3, 0).data(),
          r.read("layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE")
              .data(),
          "a slot SRC lacks keeps the template's value");
      assertEquals(
          index(keras).graph(), r.objectGraph(), "the template's object graph is the output's");
    }
    assertTrue(
        plan.dropped()
            .contains(new MigrationPlan.Dropped("global_step", "not used by the template")),
        plan.dropped().toString());
    assertTrue(
        plan.dropped()
            .contains(new MigrationPlan.Dropped("beta1_power", "not used by the template")),
        plan.dropped().toString());
  }

  @Test
  void unfilledTemplateVariablesAreAnErrorListingThem() {
    MigrationException e = assertThrows(MigrationException.class, () -> plan(spec(false, false)));
    assertTrue(
        e.getMessage()
            .startsWith(
                "8 template variable(s) not filled from "
                    + tf1
                    + ": layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/m/"
                    + ".ATTRIBUTES/VARIABLE_VALUE (dense/bias/m), "),
        e.getMessage());
  }

  @Test
  void strictReportsUnusedSourceTensors() {
    MigrationException e = assertThrows(MigrationException.class, () -> plan(spec(true, true)));
    assertEquals(
        "2 source tensor(s) of "
            + tf1
            + " not used by the template (strict): beta1_power, global_step",
        e.getMessage());
  }

  @Test
  void shapeMismatchNamesBothSides() {
    String other = dir.resolve("tf1b/ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, other)) {
      w.add("dense/kernel", floats(3, 4, 0));
      w.finish();
    }
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                TemplatePlanner.plan(
                    index(other), index(keras), spec(true, false), MappingRules.none()));
    assertEquals(
        "Cannot fill template variable layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE (dense/kernel): "
            + "the template holds float32 [4, 3] but source dense/kernel is float32 [3, 4] (add a cast, transpose or "
            + "reshape transform)",
        e.getMessage());
    MappingRules transpose =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            false,
            List.of(
                new MappingRules.Transform(
                    Pattern.compile("dense/kernel"), null, new int[] {1, 0}, null)),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    MigrationPlan fixed =
        TemplatePlanner.plan(index(other), index(keras), spec(true, false), transpose);
    assertEquals(
        PlannedTensor.Kind.TRANSFORM,
        fixed.tensors().stream()
            .filter(
                t ->
                    t.targetName().equals("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"))
            .findFirst()
            .orElseThrow()
            .kind());
  }

  /** Estimator warm-start: trainable variables from the old run, the new run's global step kept. */
  @Test
  void warmStartTakesMatchingVariablesAndKeepsTheRest() {
    TemplateSpec ts =
        new TemplateSpec(
            false, false, false, Pattern.compile("dense/"), Map.of("dense_1/bias", "dense/bias"));
    MigrationPlan plan = plan(ts);
    PlannedTensor bias1 =
        plan.tensors().stream()
            .filter(
                t -> t.targetName().equals("layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE"))
            .findFirst()
            .orElseThrow();
    assertEquals(
        keras,
        ((PlannedTensor.FromSource) bias1).sourcePrefix(),
        "dense_1/bias does not match ^dense/: the template's value stays");
    PlannedTensor kernel0 =
        plan.tensors().stream()
            .filter(
                t ->
                    t.targetName().equals("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"))
            .findFirst()
            .orElseThrow();
    assertEquals(null, ((PlannedTensor.FromSource) kernel0).sourcePrefix());
    assertEquals("dense/kernel", kernel0.sourceName());
  }
}
