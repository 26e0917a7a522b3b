package io.rebundle.codec.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.graph.ObjectGraphBuilder;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.migrate.LocalMigration;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario 2 of TensorFlow's checkpoint migration guide, planned offline. */
class RemapPlannerTest {
  private final LocalFileIO io = new LocalFileIO();
  @TempDir Path dir;
  private String tf1;

  static Tensor scalar(float v) {
    return Tensor.of(
        DType.FLOAT,
        TensorShape.SCALAR,
        ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array());
  }

  @BeforeEach
  void writeGuideCheckpoint() {
    tf1 = dir.resolve("tf1-ckpt").toString();
    try (CheckpointWriter w = CheckpointWriter.create(io, tf1)) {
      w.add("a", scalar(1));
      w.add("b", scalar(2));
      w.add("scoped/c", scalar(3));
      w.add("global_step", Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[8]));
      w.finish();
    }
  }

  private SourceIndex source(String prefix) {
    try (CheckpointReader r = CheckpointReader.open(io, prefix)) {
      return SourceIndex.read(r);
    }
  }

  static MappingRules rules(
      List<MappingRules.Assignment> map, List<MappingRules.Rename> rename, boolean strict) {
    return new MappingRules(
        map,
        rename,
        List.of(),
        List.of(),
        List.of(),
        strict,
        List.of(),
        MappingRules.Switch.DEFAULT,
        MappingRules.Switch.DEFAULT);
  }

  static List<String> targets(MigrationPlan plan) {
    List<String> keys = new ArrayList<>();
    plan.tensors().forEach(t -> keys.add(t.targetName()));
    keys.sort(null);
    return keys;
  }

  @Test
  void rootIntoAScopeLikeInitFromCheckpoint() {
    MigrationPlan plan =
        Planner.plan(
            source(tf1),
            MigrationSpec.to(CheckpointFormat.TF1),
            rules(List.of(new MappingRules.Assignment("/", "new_scope/")), List.of(), true));
    assertEquals(
        List.of("new_scope/a", "new_scope/b", "new_scope/global_step", "new_scope/scoped/c"),
        targets(plan));
  }

  @Test
  void scopeToScopeLeavesOthersUnderNonStrictAndFailsUnderStrict() {
    List<MappingRules.Assignment> map = List.of(new MappingRules.Assignment("scoped/", "new/"));
    MigrationPlan plan =
        Planner.plan(
            source(tf1), MigrationSpec.to(CheckpointFormat.TF1), rules(map, List.of(), false));
    assertEquals(List.of("a", "b", "global_step", "new/c"), targets(plan));
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                Planner.plan(
                    source(tf1),
                    MigrationSpec.to(CheckpointFormat.TF1),
                    rules(map, List.of(), true)));
    assertEquals(
        "Cannot map "
            + tf1
            + " (strict): 3 tensor(s) matched by no rule and not excluded: a, b, global_step"
            + " (add a rule, an exclude pattern, or set strict: false)",
        e.getMessage());
  }

  @Test
  void renamedVariablesThroughADictMapAndOneSourceIntoTwoVariables() {
    List<MappingRules.Assignment> map =
        List.of(
            new MappingRules.Assignment("a", "model/first"),
            new MappingRules.Assignment("b", "model/second"),
            new MappingRules.Assignment("scoped/c", "model/third"),
            new MappingRules.Assignment("scoped/c", "model/third_copy"));
    MappingRules r =
        new MappingRules(
            map,
            List.of(),
            List.of(),
            List.of(Pattern.compile("global_step")),
            List.of(),
            true,
            List.of(),
            MappingRules.Switch.DEFAULT,
            MappingRules.Switch.DEFAULT);
    String out = dir.resolve("out").toString();
    Planner.plan(source(tf1), MigrationSpec.to(CheckpointFormat.TF1), r);
    MigrationPlan plan =
        LocalMigration.run(io, tf1, out, MigrationSpec.to(CheckpointFormat.TF1), r, 1, false);
    assertEquals(
        List.of("model/first", "model/second", "model/third", "model/third_copy"), targets(plan));
    assertEquals("excluded by 'global_step'", plan.dropped().get(0).reason());
    try (CheckpointReader reader = CheckpointReader.open(io, out)) {
      assertArrayEquals(scalar(3).data(), reader.read("model/third").data());
      assertArrayEquals(scalar(3).data(), reader.read("model/third_copy").data());
    }
  }

  @Test
  void regexRulesFirstMatchWinsWithGroups() {
    List<MappingRules.Rename> rename =
        List.of(
            new MappingRules.Rename(Pattern.compile("scoped/(.*)"), "encoder/block_0/$1"),
            new MappingRules.Rename(Pattern.compile("(.*)"), "model/$1"),
            new MappingRules.Rename(Pattern.compile("never"), "x"));
    MigrationPlan plan =
        Planner.plan(
            source(tf1), MigrationSpec.to(CheckpointFormat.TF1), rules(List.of(), rename, true));
    assertEquals(
        List.of("encoder/block_0/c", "model/a", "model/b", "model/global_step"), targets(plan));
    assertTrue(
        plan.notes().contains("warning: rename rule 'never' -> 'x' matches no tensor"),
        plan.notes().toString());
  }

  @Test
  void twoSourcesOntoOneTargetIsAnErrorNamingBoth() {
    List<MappingRules.Rename> rename =
        List.of(
            new MappingRules.Rename(Pattern.compile("a|b"), "same"),
            new MappingRules.Rename(Pattern.compile("(.*)"), "$1"));
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                Planner.plan(
                    source(tf1),
                    MigrationSpec.to(CheckpointFormat.TF1),
                    rules(List.of(), rename, true)));
    assertEquals("Cannot map " + tf1 + ": tensors a and b both map to same", e.getMessage());
  }

  @Test
  void missingAssignmentMapSourceIsAnError() {
    MigrationException e =
        assertThrows(
            MigrationException.class,
            () ->
                Planner.plan(
                    source(tf1),
                    MigrationSpec.to(CheckpointFormat.TF1),
                    rules(List.of(new MappingRules.Assignment("nope", "x")), List.of(), false)));
    assertEquals(
        "Cannot apply assignment_map entry 'nope': 'x': tensor nope is not found in checkpoint "
            + tf1,
        e.getMessage());
  }

  @Test
  void globalStepSwitchAndFiltersDropWithReasons() {
    MappingRules r =
        new MappingRules(
            List.of(),
            List.of(),
            List.of(Pattern.compile("a|b|global_step")),
            List.of(),
            List.of(Pattern.compile("b")),
            false,
            List.of(),
            MappingRules.Switch.DROP,
            MappingRules.Switch.DEFAULT);
    MigrationPlan plan = Planner.plan(source(tf1), MigrationSpec.to(CheckpointFormat.TF1), r);
    assertEquals(List.of("a"), targets(plan));
    assertEquals(
        List.of(
            new MigrationPlan.Dropped("b", "matches drop rule 'b'"),
            new MigrationPlan.Dropped("global_step", "global step not carried (global_step: drop)"),
            new MigrationPlan.Dropped("scoped/c", "matches no include pattern")),
        plan.dropped());
  }

  @Test
  void remappedTf1ToTf2BuildsTheGraphFromTheNewNames() {
    String out = dir.resolve("tf2").toString();
    MappingRules r = rules(List.of(new MappingRules.Assignment("/", "model/")), List.of(), false);
    LocalMigration.run(io, tf1, out, MigrationSpec.to(CheckpointFormat.TF2), r, 1, false);
    try (CheckpointReader reader = CheckpointReader.open(io, out)) {
      ObjectGraph g = reader.objectGraph();
      List<String> fullNames = new ArrayList<>();
      g.nodes()
          .forEach(
              n ->
                  n.attributes()
                      .forEach(a -> fullNames.add(a.fullName() + "=" + a.checkpointKey())));
      assertEquals(
          List.of(
              "save_counter=save_counter/.ATTRIBUTES/VARIABLE_VALUE",
              "model/a=vars/model.Sa/.ATTRIBUTES/VARIABLE_VALUE",
              "model/b=vars/model.Sb/.ATTRIBUTES/VARIABLE_VALUE",
              "model/global_step=vars/model.Sglobal_step/.ATTRIBUTES/VARIABLE_VALUE",
              "model/scoped/c=vars/model.Sscoped.Sc/.ATTRIBUTES/VARIABLE_VALUE"),
          fullNames);
      assertArrayEquals(
          scalar(3).data(), reader.read("vars/model.Sscoped.Sc/.ATTRIBUTES/VARIABLE_VALUE").data());
    }
  }

  /** The guide's `Checkpoint(unscoped=[a, b], scoped=[c])`, restructured by object path. */
  @Test
  void restructuresATf2CheckpointByObjectPath() {
    String src = dir.resolve("tf2-src").toString();
    ObjectGraphBuilder b = new ObjectGraphBuilder();
    ObjectGraphBuilder.TrackedObject scoped = b.root().child("scoped");
    ObjectGraphBuilder.TrackedObject unscoped = b.root().child("unscoped");
    b.root().child("save_counter").variable("save_counter");
    unscoped.child("0").variable("a");
    unscoped.child("1").variable("b");
    scoped.child("0").variable("scoped/c");
    try (CheckpointWriter w = CheckpointWriter.create(io, src)) {
      w.add("unscoped/0/.ATTRIBUTES/VARIABLE_VALUE", scalar(1));
      w.add("unscoped/1/.ATTRIBUTES/VARIABLE_VALUE", scalar(2));
      w.add("scoped/0/.ATTRIBUTES/VARIABLE_VALUE", scalar(3));
      w.add(
          "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
          Tensor.of(DType.INT64, TensorShape.SCALAR, new byte[] {4, 0, 0, 0, 0, 0, 0, 0}));
      w.add(
          Naming.OBJECT_GRAPH_KEY,
          Tensor.ofStrings(TensorShape.SCALAR, List.of(b.build().encode())));
      w.finish();
    }
    List<MappingRules.Rename> rename =
        List.of(
            new MappingRules.Rename(Pattern.compile("unscoped/0"), "layer/kernel"),
            new MappingRules.Rename(Pattern.compile("unscoped/1"), "layer/bias"),
            new MappingRules.Rename(Pattern.compile("scoped/0"), "head/w"));
    String out = dir.resolve("tf2-out").toString();
    MigrationPlan plan =
        LocalMigration.run(
            io,
            src,
            out,
            MigrationSpec.to(CheckpointFormat.TF2),
            rules(List.of(), rename, true),
            1,
            false);
    assertEquals(
        List.of(
            Naming.OBJECT_GRAPH_KEY,
            "head/w/.ATTRIBUTES/VARIABLE_VALUE",
            "layer/bias/.ATTRIBUTES/VARIABLE_VALUE",
            "layer/kernel/.ATTRIBUTES/VARIABLE_VALUE",
            "save_counter/.ATTRIBUTES/VARIABLE_VALUE"),
        targets(plan));
    try (CheckpointReader reader = CheckpointReader.open(io, out)) {
      String[] paths = reader.objectGraph().objectPaths();
      assertEquals(
          List.of("", "head", "layer", "save_counter", "head/w", "layer/bias", "layer/kernel"),
          List.of(paths));
      assertArrayEquals(
          scalar(2).data(), reader.read("layer/bias/.ATTRIBUTES/VARIABLE_VALUE").data());
      ObjectGraph.Attribute kernel = reader.objectGraph().node(6).attributes().get(0);
      assertEquals(
          new ObjectGraph.Attribute(
              "VARIABLE_VALUE", "a", "layer/kernel/.ATTRIBUTES/VARIABLE_VALUE"),
          kernel);
      List<String> keys = new ArrayList<>();
      for (IndexRecord rec : reader.records()) {
        keys.add(rec.name());
      }
      assertEquals(5, keys.size());
    }
  }
}
