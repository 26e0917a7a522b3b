package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How source tensor names become target names (a mapping file, {@code --map}). Names are TF1-style
 * variable names: the key of a TF1 checkpoint, the {@code full_name} (or object path) of a TF2
 * variable. Applied by {@link NameMapper}; immutable.
 *
 * <ul>
 *   <li>{@code assignmentMap}: TensorFlow's {@code init_from_checkpoint} syntax, checkpoint name to
 *       new name: {@code 'old_scope/': 'new_scope/'}, {@code '/': 'new_scope/'}, {@code 'old/v': 'new/v'}.
 *   <li>{@code rename}: regular expressions, full match, first match wins, {@code $1} groups.
 *   <li>{@code include}/{@code exclude}/{@code drop}: filters on source names.
 *   <li>{@code strict}: every kept source must be mapped by a rule, and no rule may be unused.
 *   <li>{@code transforms}: byte-changing operations on matching target names.
 * </ul>
 */
public record MappingRules(List<Assignment> assignmentMap, List<Rename> rename, List<Pattern> include,
    List<Pattern> exclude, List<Pattern> drop, boolean strict, List<Transform> transforms,
    Switch globalStep, Switch optimizerSlots) implements java.io.Serializable {

  /** Keep, drop, or leave the default for a special kind of tensor. */
  public enum Switch { DEFAULT, KEEP, DROP }

  public MappingRules {
    assignmentMap = List.copyOf(assignmentMap);
    rename = List.copyOf(rename);
    include = List.copyOf(include);
    exclude = List.copyOf(exclude);
    drop = List.copyOf(drop);
    transforms = List.copyOf(transforms);
    for (Assignment a : assignmentMap) {
      if (a.checkpointName().endsWith("/") != a.newName().endsWith("/") && !a.checkpointName().equals("/")) {
        throw new IllegalArgumentException("Invalid assignment_map entry '" + a.checkpointName() + "': '"
            + a.newName() + "': a scope maps to a scope: 'scope/': 'other_scope/'");
      }
      if (a.checkpointName().equals("/") && !a.newName().endsWith("/")) {
        throw new IllegalArgumentException("Invalid assignment_map entry '/': '" + a.newName()
            + "': the root maps to a scope ending in '/'");
      }
    }
  }

  /** No rules: every name maps to itself. */
  public static MappingRules none() {
    return new MappingRules(List.of(), List.of(), List.of(), List.of(), List.of(), false, List.of(),
        Switch.DEFAULT, Switch.DEFAULT);
  }

  public boolean isEmpty() {
    return assignmentMap.isEmpty() && rename.isEmpty() && include.isEmpty() && exclude.isEmpty() && drop.isEmpty()
        && transforms.isEmpty() && globalStep == Switch.DEFAULT && optimizerSlots == Switch.DEFAULT;
  }

  /** Whether any rule maps names (then {@code strict} requires every kept source to be mapped). */
  public boolean hasNameRules() {
    return !assignmentMap.isEmpty() || !rename.isEmpty();
  }

  /** One assignment-map pair, in TensorFlow's direction: checkpoint name to new name. */
  public record Assignment(String checkpointName, String newName) implements java.io.Serializable {}

  /** A full-match regular expression and its replacement ({@code $1}, {@code ${name}}). */
  public record Rename(Pattern from, String to) implements java.io.Serializable {}

  /** A byte-changing operation on the tensors whose target names fully match {@code match}. */
  public record Transform(Pattern match, DType cast, int[] transpose, long[] reshape) implements java.io.Serializable {
    public Transform {
      int ops = (cast != null ? 1 : 0) + (transpose != null ? 1 : 0) + (reshape != null ? 1 : 0);
      if (ops != 1) {
        throw new IllegalArgumentException("Invalid transform for '" + match
            + "': give exactly one of cast, transpose, reshape");
      }
      if (cast != null && !cast.isFloating()) {
        throw new IllegalArgumentException("Invalid transform for '" + match + "': cast to " + cast.displayName()
            + " is not supported (float32, float64, float16, bfloat16)");
      }
    }

    public String describe() {
      if (cast != null) {
        return "cast to " + cast.displayName();
      }
      if (transpose != null) {
        return "transpose " + java.util.Arrays.toString(transpose);
      }
      return "reshape " + java.util.Arrays.toString(reshape);
    }
  }

  public MappingRules withStrict(boolean s) {
    return new MappingRules(assignmentMap, rename, include, exclude, drop, s, transforms, globalStep, optimizerSlots);
  }

  /** Appends rules (e.g. command-line {@code --prev-name} pairs) after these. */
  public MappingRules plus(List<Assignment> moreAssignments, List<Pattern> moreInclude) {
    List<Assignment> a = new ArrayList<>(assignmentMap);
    a.addAll(moreAssignments);
    List<Pattern> inc = new ArrayList<>(include);
    inc.addAll(moreInclude);
    return new MappingRules(a, rename, inc, exclude, drop, strict, transforms, globalStep, optimizerSlots);
  }
}
