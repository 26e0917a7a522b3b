package io.rebundle.codec.plan;

import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies {@link MappingRules} to source names. In order: {@code drop}, {@code exclude} and {@code
 * include} filters and the global-step/optimizer switches; then the assignment map, pairs sorted by
 * checkpoint name as {@code init_from_checkpoint} processes them (a source may feed several
 * targets); then, for sources the assignment map did not touch, the first fully matching {@code
 * rename} rule; then, for sources neither touched, the {@code segments} rewrite if there is one;
 * anything left keeps its name (an error under {@code strict}). Two sources reaching one target is
 * an error naming both; a rule that matches nothing is a warning.
 */
public final class NameMapper {
  private NameMapper() {}

  /** Targets of each kept source (in source order), dropped sources with reasons, warnings. */
  public record Result(
      Map<String, List<String>> targets,
      List<MigrationPlan.Dropped> dropped,
      List<String> warnings,
      Set<String> mappedByRule) {}

  /** TF1 optimizer slot and accumulator names (tensorbundle-format.md §6.1). */
  static final Pattern TF1_OPTIMIZER =
      Pattern.compile(
          ".+/(Adam|Adam_1|Momentum|Adagrad|RMSProp|RMSProp_1|Ftrl|Ftrl_1|AdagradDA|AdagradDA_1|Adadelta|Adadelta_1)"
              + "|beta1_power|beta2_power");

  public static boolean isTf1OptimizerName(String name) {
    return TF1_OPTIMIZER.matcher(name).matches();
  }

  public static Result map(List<String> sources, MappingRules rules, String description) {
    List<MigrationPlan.Dropped> dropped = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Set<Object> used = new HashSet<>();
    List<String> kept = new ArrayList<>();
    Set<String> exempt = new HashSet<>();
    for (String s : sources) {
      Pattern p;
      if ((p = firstMatch(rules.drop(), s)) != null) {
        used.add(p);
        dropped.add(new MigrationPlan.Dropped(s, "matches drop rule '" + p.pattern() + "'"));
      } else if ((p = firstMatch(rules.exclude(), s)) != null) {
        used.add(p);
        dropped.add(new MigrationPlan.Dropped(s, "excluded by '" + p.pattern() + "'"));
      } else if (!rules.include().isEmpty() && (p = firstMatch(rules.include(), s)) == null) {
        dropped.add(new MigrationPlan.Dropped(s, "matches no include pattern"));
      } else if (s.equals("global_step") && rules.globalStep() != MappingRules.Switch.DEFAULT) {
        if (rules.globalStep() == MappingRules.Switch.DROP) {
          dropped.add(new MigrationPlan.Dropped(s, "global step not carried (global_step: drop)"));
        } else {
          kept.add(s);
          exempt.add(s);
        }
      } else if (isTf1OptimizerName(s) && rules.optimizerSlots() != MappingRules.Switch.DEFAULT) {
        if (rules.optimizerSlots() == MappingRules.Switch.DROP) {
          dropped.add(
              new MigrationPlan.Dropped(s, "optimizer state not carried (optimizer: drop)"));
        } else {
          kept.add(s);
          exempt.add(s);
        }
      } else {
        if (p != null) {
          used.add(p);
        }
        kept.add(s);
      }
    }
    Set<String> keptSet = new LinkedHashSet<>(kept);
    Map<String, List<String>> targets = new LinkedHashMap<>();
    for (String s : kept) {
      targets.put(s, new ArrayList<>());
    }
    // Assignment map, sorted by checkpoint name (init_from_checkpoint's order).
    TreeMap<String, List<MappingRules.Assignment>> sorted = new TreeMap<>(Bytes.KEY_ORDER);
    for (MappingRules.Assignment a : rules.assignmentMap()) {
      sorted.computeIfAbsent(a.checkpointName(), k -> new ArrayList<>()).add(a);
    }
    Set<String> bySourceRule = new HashSet<>();
    Set<String> sourcesSet = new HashSet<>(sources);
    for (List<MappingRules.Assignment> pairs : sorted.values()) {
      for (MappingRules.Assignment a : pairs) {
        String ckpt = a.checkpointName();
        boolean matched = false;
        if (ckpt.endsWith("/")) {
          String prefix = ckpt.equals("/") ? "" : ckpt;
          String newScope = a.newName().equals("/") ? "" : a.newName();
          for (String s : kept) {
            if (s.startsWith(prefix) && s.length() > prefix.length()) {
              add(targets, s, newScope + s.substring(prefix.length()));
              bySourceRule.add(s);
              matched = true;
            }
          }
        } else if (keptSet.contains(ckpt)) {
          add(targets, ckpt, a.newName());
          bySourceRule.add(ckpt);
          matched = true;
        } else if (!sourcesSet.contains(ckpt)) {
          throw new MigrationException(
              "Cannot apply assignment_map entry '"
                  + ckpt
                  + "': '"
                  + a.newName()
                  + "': tensor "
                  + ckpt
                  + " is not found in checkpoint "
                  + description);
        }
        if (!matched) {
          warnings.add(
              "assignment_map entry '" + ckpt + "': '" + a.newName() + "' matches no kept tensor");
        }
      }
    }
    for (MappingRules.Rename r : rules.rename()) {
      boolean matched =
          kept.stream().anyMatch(s -> !bySourceRule.contains(s) && r.from().matcher(s).matches());
      if (!matched) {
        warnings.add(
            "rename rule '" + r.from().pattern() + "' -> '" + r.to() + "' matches no tensor");
      }
    }
    List<String> unmapped = new ArrayList<>();
    Set<String> mappedByRule = new HashSet<>();
    for (String s : kept) {
      List<String> t = targets.get(s);
      if (!t.isEmpty()) {
        mappedByRule.add(s);
        continue;
      }
      MappingRules.Rename r = firstRename(rules.rename(), s);
      if (r != null) {
        Matcher m = r.from().matcher(s);
        m.matches();
        StringBuilder sb = new StringBuilder();
        m.appendReplacement(sb, r.to());
        t.add(sb.toString());
        mappedByRule.add(s);
      } else if (rules.segments() != null) {
        t.add(rules.segments().apply(s));
        mappedByRule.add(s);
      } else {
        t.add(s);
        if (!exempt.contains(s)) {
          unmapped.add(s);
        }
      }
    }
    for (List<Pattern> list : List.of(rules.drop(), rules.exclude(), rules.include())) {
      for (Pattern p : list) {
        if (!used.contains(p)) {
          warnings.add("filter pattern '" + p.pattern() + "' matches no tensor");
        }
      }
    }
    if (rules.strict() && rules.hasNameRules() && !unmapped.isEmpty()) {
      throw new MigrationException(
          "Cannot map "
              + description
              + " (strict): "
              + unmapped.size()
              + " tensor(s) matched by no rule and not excluded: "
              + String.join(", ", unmapped)
              + " (add a rule, an exclude pattern, or set strict: false)");
    }
    Map<String, String> owner = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : targets.entrySet()) {
      for (String t : e.getValue()) {
        String previous = owner.putIfAbsent(t, e.getKey());
        if (previous != null && !previous.equals(e.getKey())) {
          throw new MigrationException(
              "Cannot map "
                  + description
                  + ": tensors "
                  + previous
                  + " and "
                  + e.getKey()
                  + " both map to "
                  + t);
        }
      }
    }
    return new Result(targets, dropped, warnings, mappedByRule);
  }

  private static void add(Map<String, List<String>> targets, String source, String target) {
    List<String> t = targets.get(source);
    if (!t.contains(target)) {
      t.add(target);
    }
  }

  private static Pattern firstMatch(List<Pattern> patterns, String s) {
    for (Pattern p : patterns) {
      if (p.matcher(s).matches()) {
        return p;
      }
    }
    return null;
  }

  private static MappingRules.Rename firstRename(List<MappingRules.Rename> rules, String s) {
    for (MappingRules.Rename r : rules) {
      if (r.from().matcher(s).matches()) {
        return r;
      }
    }
    return null;
  }
}
