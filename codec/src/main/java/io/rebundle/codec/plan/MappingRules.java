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
 *       new name: {@code 'old_scope/': 'new_scope/'}, {@code '/': 'new_scope/'}, {@code 'old/v':
 *       'new/v'}.
 *   <li>{@code rename}: regular expressions, full match, first match wins, {@code $1} groups.
 *   <li>{@code include}/{@code exclude}/{@code drop}: filters on source names.
 *   <li>{@code strict}: every kept source must be mapped by a rule, and no rule may be unused.
 *   <li>{@code transforms}: byte-changing operations on matching target names.
 *   <li>{@code segments}: for names no assignment or rename rule mapped, a segment-wise rewrite
 *       (split on one separator, rewrite each segment, join with another); null when absent.
 * </ul>
 */
public record MappingRules(
    List<Assignment> assignmentMap,
    List<Rename> rename,
    List<Pattern> include,
    List<Pattern> exclude,
    List<Pattern> drop,
    boolean strict,
    List<Transform> transforms,
    Switch globalStep,
    Switch optimizerSlots,
    Segments segments)
    implements java.io.Serializable {

  /** Rules without a segment rewrite. */
  public MappingRules(
      List<Assignment> assignmentMap,
      List<Rename> rename,
      List<Pattern> include,
      List<Pattern> exclude,
      List<Pattern> drop,
      boolean strict,
      List<Transform> transforms,
      Switch globalStep,
      Switch optimizerSlots) {
    this(
        assignmentMap,
        rename,
        include,
        exclude,
        drop,
        strict,
        transforms,
        globalStep,
        optimizerSlots,
        null);
  }

  /** Keep, drop, or leave the default for a special kind of tensor. */
  public enum Switch {
    DEFAULT,
    KEEP,
    DROP
  }

  public MappingRules {
    assignmentMap = List.copyOf(assignmentMap);
    rename = List.copyOf(rename);
    include = List.copyOf(include);
    exclude = List.copyOf(exclude);
    drop = List.copyOf(drop);
    transforms = List.copyOf(transforms);
    for (Assignment a : assignmentMap) {
      if (a.checkpointName().endsWith("/") != a.newName().endsWith("/")
          && !a.checkpointName().equals("/")) {
        throw new IllegalArgumentException(
            "Invalid assignment_map entry '"
                + a.checkpointName()
                + "': '"
                + a.newName()
                + "': a scope maps to a scope: 'scope/': 'other_scope/'");
      }
      if (a.checkpointName().equals("/") && !a.newName().endsWith("/")) {
        throw new IllegalArgumentException(
            "Invalid assignment_map entry '/': '"
                + a.newName()
                + "': the root maps to a scope ending in '/'");
      }
    }
  }

  /** No rules: every name maps to itself. */
  public static MappingRules none() {
    return new MappingRules(
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        false,
        List.of(),
        Switch.DEFAULT,
        Switch.DEFAULT);
  }

  public boolean isEmpty() {
    return assignmentMap.isEmpty()
        && rename.isEmpty()
        && include.isEmpty()
        && exclude.isEmpty()
        && drop.isEmpty()
        && transforms.isEmpty()
        && globalStep == Switch.DEFAULT
        && optimizerSlots == Switch.DEFAULT
        && segments == null;
  }

  /** Whether any rule maps names (then {@code strict} requires every kept source to be mapped). */
  public boolean hasNameRules() {
    return !assignmentMap.isEmpty() || !rename.isEmpty() || segments != null;
  }

  /** One assignment-map pair, in TensorFlow's direction: checkpoint name to new name. */
  public record Assignment(String checkpointName, String newName) implements java.io.Serializable {}

  /** A full-match regular expression and its replacement ({@code $1}, {@code ${name}}). */
  public record Rename(Pattern from, String to) implements java.io.Serializable {}

  /** A byte-changing operation on the tensors whose target names fully match {@code match}. */
  public record Transform(Pattern match, DType cast, int[] transpose, long[] reshape)
      implements java.io.Serializable {
    public Transform {
      int ops = (cast != null ? 1 : 0) + (transpose != null ? 1 : 0) + (reshape != null ? 1 : 0);
      if (ops != 1) {
        throw new IllegalArgumentException(
            "Invalid transform for '" + match + "': give exactly one of cast, transpose, reshape");
      }
      if (cast != null && !cast.isFloating()) {
        throw new IllegalArgumentException(
            "Invalid transform for '"
                + match
                + "': cast to "
                + cast.displayName()
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
    return new MappingRules(
        assignmentMap,
        rename,
        include,
        exclude,
        drop,
        s,
        transforms,
        globalStep,
        optimizerSlots,
        segments);
  }

  /** Appends rules (e.g. command-line {@code --prev-name} pairs) after these. */
  public MappingRules plus(List<Assignment> moreAssignments, List<Pattern> moreInclude) {
    List<Assignment> a = new ArrayList<>(assignmentMap);
    a.addAll(moreAssignments);
    List<Pattern> inc = new ArrayList<>(include);
    inc.addAll(moreInclude);
    return new MappingRules(
        a, rename, inc, exclude, drop, strict, transforms, globalStep, optimizerSlots, segments);
  }

  /**
   * A segment-wise rename: the name is split on {@code split} (a literal string), each segment goes
   * through the first rule whose pattern fully matches it (a segment no rule matches stays as it
   * is), and the results are joined with {@code join}. This is how model zoos' own converters
   * rename (e.g. transformers' {@code load_tf_weights_in_bert}: split on '/', {@code layer_3} to
   * {@code layer.3}, {@code kernel} to {@code weight}), which one regular expression per name
   * cannot say for names of any depth.
   */
  public record Segments(String split, String join, List<SegmentRule> rules)
      implements java.io.Serializable {
    public Segments {
      if (split == null || split.isEmpty() || join == null) {
        throw new IllegalArgumentException(
            "Invalid segments rule: split must be a non-empty string and join a string");
      }
      rules = List.copyOf(rules);
    }

    /** The rewritten name. */
    public String apply(String name) {
      List<String> parts = new ArrayList<>();
      int from = 0;
      while (true) {
        int at = name.indexOf(split, from);
        if (at < 0) {
          parts.add(name.substring(from));
          break;
        }
        parts.add(name.substring(from, at));
        from = at + split.length();
      }
      StringBuilder out = new StringBuilder(name.length() + 8);
      for (int i = 0; i < parts.size(); i++) {
        if (i > 0) {
          out.append(join);
        }
        out.append(rewrite(parts.get(i), i == parts.size() - 1));
      }
      return out.toString();
    }

    private String rewrite(String segment, boolean last) {
      for (SegmentRule r : rules) {
        if (r.lastOnly() && !last) {
          continue;
        }
        java.util.regex.Matcher m = r.match().matcher(segment);
        if (m.matches()) {
          StringBuilder sb = new StringBuilder();
          m.appendReplacement(sb, r.to());
          return sb.toString();
        }
      }
      return segment;
    }
  }

  /**
   * One segment rule: a full-match pattern and its replacement ({@code $0} the whole segment,
   * {@code $1} groups); with {@code lastOnly}, only the name's last segment is considered.
   */
  public record SegmentRule(Pattern match, String to, boolean lastOnly)
      implements java.io.Serializable {
    public SegmentRule {
      if (match == null || to == null) {
        throw new IllegalArgumentException("Invalid segment rule: match and to are required");
      }
    }
  }
}
