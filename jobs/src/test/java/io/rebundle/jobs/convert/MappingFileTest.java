package io.rebundle.jobs.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.plan.MappingRules;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MappingFileTest {
  @Test
  void readsEveryKeyOfTheDocumentedSyntax() {
    MappingRules r =
        MappingFile.parse(
            "m.yaml",
            String.join(
                "\n",
                "assignment_map:",
                "  'old_scope/': 'new_scope/'",
                "  '/': 'root_scope/'",
                "  'old/var': 'new/var'",
                "rename:",
                "  - {from: '^bert/encoder/layer_(\\d+)/(.*)$', to: 'encoder/block_$1/$2'}",
                "include: ['bert/.*']",
                "exclude: ['.*/adam_[mv]']",
                "drop: ['global_step']",
                "strict: false",
                "global_step: drop",
                "optimizer: keep",
                "transforms:",
                "  - {match: '.*/kernel', cast: bfloat16}",
                "  - {match: 'emb', transpose: [1, 0]}",
                "  - {match: 'w', reshape: [4, 2]}"));
    assertEquals(
        List.of(
            new MappingRules.Assignment("old_scope/", "new_scope/"),
            new MappingRules.Assignment("/", "root_scope/"),
            new MappingRules.Assignment("old/var", "new/var")),
        r.assignmentMap());
    assertEquals("^bert/encoder/layer_(\\d+)/(.*)$", r.rename().get(0).from().pattern());
    assertEquals("encoder/block_$1/$2", r.rename().get(0).to());
    assertEquals("bert/.*", r.include().get(0).pattern());
    assertEquals(".*/adam_[mv]", r.exclude().get(0).pattern());
    assertEquals("global_step", r.drop().get(0).pattern());
    assertFalse(r.strict());
    assertEquals(MappingRules.Switch.DROP, r.globalStep());
    assertEquals(MappingRules.Switch.KEEP, r.optimizerSlots());
    assertEquals(DType.BFLOAT16, r.transforms().get(0).cast());
    assertArrayEquals(new int[] {1, 0}, r.transforms().get(1).transpose());
    assertArrayEquals(new long[] {4, 2}, r.transforms().get(2).reshape());
  }

  @Test
  void acceptsJsonAndTheListFormOfAnAssignmentMap() {
    MappingRules r =
        MappingFile.parse(
            "m.json", "{\"assignment_map\": [[\"a\", \"x\"], [\"a\", \"y\"]], \"strict\": true}");
    assertEquals(
        List.of(new MappingRules.Assignment("a", "x"), new MappingRules.Assignment("a", "y")),
        r.assignmentMap());
  }

  private static String error(String text) {
    return assertThrows(
            MappingFile.InvalidMappingException.class, () -> MappingFile.parse("m.yaml", text))
        .getMessage();
  }

  @Test
  void reportsMalformedFilesWithFileLineAndColumn() {
    assertEquals(
        "Invalid mapping file m.yaml:2:1: unknown key 'renames' (expected one of assignment_map, drop, exclude, "
            + "global_step, include, optimizer, rename, segments, strict, transforms)",
        error("strict: true\nrenames: []"));
    assertEquals(
        "Invalid mapping file m.yaml:1:11: invalid regular expression '(unclosed': Unclosed group",
        error("include: ['(unclosed']"));
    assertEquals(
        "Invalid mapping file m.yaml:2:3: assignment_map 'scope/': 'name': a scope maps to a scope, "
            + "'scope/': 'other_scope/', and a name to a name",
        error("assignment_map:\n  'scope/': 'name'"));
    assertEquals("Invalid mapping file m.yaml:1:10: missing 'to'", error("rename: [{from: 'a'}]"));
    assertEquals(
        "Invalid mapping file m.yaml:1:9: strict must be true or false, found 'maybe'",
        error("strict: maybe"));
    assertEquals(
        "Invalid mapping file m.yaml:1:14: Invalid transform for 'w': give exactly one of cast, transpose, reshape",
        error("transforms: [{match: 'w'}]"));
    assertEquals(
        "Invalid mapping file m.yaml:1:33: unknown dtype 'float99'",
        error("transforms: [{match: 'w', cast: float99}]"));
    assertEquals("Invalid mapping file m.yaml: it is empty", error(""));
    assertEquals(
        "Invalid mapping file m.yaml:1:1: the top level must be a mapping of assignment_map, drop, exclude, "
            + "global_step, include, optimizer, rename, segments, strict, transforms",
        error("- a\n- b"));
  }

  @Test
  void rejectsCatastrophicRegularExpressionsAtParseTime() {
    assertEquals(
        "Invalid mapping file m.yaml:2:5: regular expression '((a+)+)+$' repeats a group that itself "
            + "repeats (at character 6), which can take exponential time to match; remove the inner or the outer "
            + "repetition",
        error("drop:\n  - '((a+)+)+$'"));
    assertEquals(
        "Invalid mapping file m.yaml:1:10: regular expression '(x*y)*z' repeats a group that itself "
            + "repeats (at character 6), which can take exponential time to match; remove the inner or the outer "
            + "repetition",
        error("rename: [{from: '(x*y)*z', to: 'q'}]"));
    assertEquals(
        "Invalid mapping file m.yaml:1:11: regular expression of 1001 characters is longer than the "
            + "limit of 1000",
        error("include: ['" + "a".repeat(1001) + "']"));
    // Repetition outside groups, bounded inner repetition, classes and escapes are fine.
    for (String ok :
        List.of(
            "^dense(_\\d+)?/kernel$",
            "(ab){2}+",
            "(a{1,3})+",
            "([a+]b)+",
            "(\\+x)+",
            "a+b*(c)+",
            "(?:layer_\\d+/)?w")) {
      assertEquals(-1, MappingFile.nestedQuantifier(ok), ok);
    }
    for (String bad : List.of("(a+)+", "(a*)*", "((ab)+c)+", "(a{2,})*", "(?:x+)+", "(a+)+?")) {
      assertFalse(MappingFile.nestedQuantifier(bad) < 0, bad);
    }
  }

  @Test
  void missingFileIsReported() {
    Path p = Path.of("/nonexistent/map.yaml");
    assertEquals(
        "Cannot read mapping file /nonexistent/map.yaml: not found",
        assertThrows(MappingFile.InvalidMappingException.class, () -> MappingFile.read(p))
            .getMessage());
  }
}
