package io.rebundle.codec.migrate;

import io.rebundle.codec.plan.MappingRules;
import io.rebundle.codec.plan.TemplateSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Estimator-style warm start ({@code tf.estimator.WarmStartSettings}): only variables whose name
 * matches {@code vars} from its start take source values ({@code vars_to_warm_start}; null: every
 * variable), and {@code previousNames} maps a new variable name to the source name it takes its
 * value from ({@code var_name_to_prev_var_name}). The global step is never carried.
 *
 * <p>With a template, this selects which template variables the source fills; without one, it
 * filters and renames the source ({@link #applyTo(MappingRules)}).
 */
public record WarmStart(Pattern vars, Map<String, String> previousNames) implements Serializable {
  public WarmStart {
    previousNames = Map.copyOf(previousNames);
  }

  /** No warm start: every variable, under its own name. */
  public static WarmStart none() {
    return new WarmStart(null, Map.of());
  }

  public boolean isNone() {
    return vars == null && previousNames.isEmpty();
  }

  /**
   * The mapping rules that warm-start without a template means: the global step dropped, the
   * renames of {@code previousNames} added, and (with {@code vars}) only matching variables kept.
   */
  public MappingRules applyTo(MappingRules rules) {
    if (isNone()) {
      return rules;
    }
    List<MappingRules.Assignment> pairs = new ArrayList<>();
    previousNames.forEach((now, old) -> pairs.add(new MappingRules.Assignment(old, now)));
    List<Pattern> include =
        vars == null ? List.of() : List.of(Pattern.compile("(?:" + vars.pattern() + ").*"));
    return new MappingRules(
            rules.assignmentMap(),
            rules.rename(),
            rules.include(),
            rules.exclude(),
            rules.drop(),
            rules.strict(),
            rules.transforms(),
            MappingRules.Switch.DROP,
            rules.optimizerSlots())
        .plus(pairs, include);
  }

  /**
   * {@code spec} filled only as this warm start selects (a warm start given here wins over the
   * spec's).
   */
  public TemplateSpec applyTo(TemplateSpec spec) {
    if (isNone()) {
      return spec;
    }
    return new TemplateSpec(
        spec.matchByPath(), spec.keepTemplateValues(), spec.strictUnused(), vars, previousNames);
  }
}
