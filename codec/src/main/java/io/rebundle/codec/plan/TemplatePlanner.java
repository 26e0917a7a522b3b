package io.rebundle.codec.plan;

import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.util.Bytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans "restore into a new model without its code": the output has the template checkpoint's keys,
 * dtypes, shapes and object graph, filled with values from the source. Template variables are
 * matched to source tensors by name after the mapping rules (TensorFlow's name-based restore), or
 * by object path; the report lists what matched, what stayed unfilled and what was not used, like
 * {@code assert_consumed()} does.
 */
public final class TemplatePlanner {
  private final SourceIndex source;
  private final SourceIndex template;
  private final TemplateSpec ts;
  private final MappingRules rules;
  private final List<PlannedTensor> tensors = new ArrayList<>();
  private final List<MigrationPlan.Dropped> dropped = new ArrayList<>();
  private final List<MigrationPlan.Renamed> renamed = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  private TemplatePlanner(
      SourceIndex source, SourceIndex template, TemplateSpec ts, MappingRules rules) {
    this.source = source;
    this.template = template;
    this.ts = ts;
    this.rules = rules;
  }

  public static MigrationPlan plan(
      SourceIndex source, SourceIndex template, TemplateSpec ts, MappingRules rules) {
    return new TemplatePlanner(source, template, ts, rules).run();
  }

  private Map<String, List<PlannedTensor.SlicePart>> slices(SourceIndex index) {
    Map<String, List<PlannedTensor.SlicePart>> out = new HashMap<>();
    for (IndexRecord r : index.records()) {
      if (r.isSliceEntry()) {
        SliceKeys.Decoded d = SliceKeys.decode(r.key());
        out.computeIfAbsent(d.name(), k -> new ArrayList<>())
            .add(new PlannedTensor.SlicePart(d.slice(), r.key(), r.entry()));
      }
    }
    return out;
  }

  private MigrationPlan run() {
    VariableNames srcNames = VariableNames.of(source, ts.matchByPath());
    VariableNames tplNames = VariableNames.of(template, ts.matchByPath());
    Map<String, BundleEntry> sourceEntries = new HashMap<>();
    source.records().stream()
        .filter(r -> !r.isSliceEntry())
        .forEach(r -> sourceEntries.put(r.name(), r.entry()));
    Map<String, List<PlannedTensor.SlicePart>> sourceSlices = slices(source);
    Map<String, List<PlannedTensor.SlicePart>> templateSlices = slices(template);

    List<String> logical = new ArrayList<>(new LinkedHashSet<>(srcNames.byKey().values()));
    NameMapper.Result mapped = NameMapper.map(logical, rules, source.prefix());
    dropped.addAll(mapped.dropped());
    mapped.warnings().forEach(w -> notes.add("warning: " + w));
    Map<String, String> keyOfName = new HashMap<>();
    srcNames.byKey().forEach((k, n) -> keyOfName.putIfAbsent(n, k));
    Map<String, String> sourceForTarget = new HashMap<>();
    Map<String, String> targetNameOfSource = new HashMap<>();
    mapped
        .targets()
        .forEach(
            (name, targets) ->
                targets.forEach(
                    t -> {
                      sourceForTarget.put(t, keyOfName.get(name));
                      targetNameOfSource.put(keyOfName.get(name), t);
                    }));

    Set<String> consumed = new HashSet<>();
    List<String> unfilled = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    for (IndexRecord r : template.records()) {
      if (r.isSliceEntry()) {
        continue;
      }
      String key = r.name();
      BundleEntry te = r.entry();
      if (key.equals(Naming.OBJECT_GRAPH_KEY) || key.equals(tplNames.saveCounterKey())) {
        keepTemplate(r, templateSlices);
        continue;
      }
      String name = tplNames.byKey().get(key);
      if (name == null) {
        keepTemplate(r, templateSlices);
        kept.add(key);
        continue;
      }
      if (ts.warmStart() != null
          && (name.equals("global_step") || !ts.warmStart().matcher(name).lookingAt())) {
        keepTemplate(r, templateSlices);
        kept.add(key + " (" + name + ": not warm-started)");
        continue;
      }
      String srcKey;
      String previous = ts.previousNames().get(name);
      if (previous != null) {
        srcKey = keyOfName.get(previous);
        if (srcKey == null) {
          throw new MigrationException(
              "Cannot fill template variable "
                  + name
                  + " from previous name "
                  + previous
                  + ": no such tensor in "
                  + source.prefix());
        }
      } else {
        srcKey = sourceForTarget.get(name);
      }
      if (srcKey == null || !sourceEntries.containsKey(srcKey)) {
        if (ts.keepTemplateValues() || ts.warmStart() != null) {
          keepTemplate(r, templateSlices);
          kept.add(key + " (" + name + ")");
        } else {
          unfilled.add(key + " (" + name + ")");
        }
        continue;
      }
      consumed.add(srcKey);
      if (!srcKey.equals(key)) {
        renamed.add(new MigrationPlan.Renamed(srcKey, key));
      }
      fill(
          r,
          name,
          srcKey,
          sourceEntries.get(srcKey),
          sourceSlices.get(srcKey),
          templateSlices.get(key));
    }
    if (!unfilled.isEmpty()) {
      throw new MigrationException(
          unfilled.size()
              + " template variable(s) not filled from "
              + source.prefix()
              + ": "
              + String.join(", ", unfilled)
              + " (map them with rules or --prev-name, or use --keep-template-values)");
    }
    if (!kept.isEmpty()) {
      notes.add(kept.size() + " template value(s) kept: " + String.join(", ", kept));
    }
    List<String> unused = new ArrayList<>();
    Set<String> alreadyDropped = new HashSet<>();
    dropped.forEach(d -> alreadyDropped.add(keyOfName.getOrDefault(d.key(), d.key())));
    for (IndexRecord r : source.records()) {
      String key = r.name();
      if (r.isSliceEntry() || consumed.contains(key) || alreadyDropped.contains(key)) {
        continue;
      }
      if (key.equals(Naming.OBJECT_GRAPH_KEY) || key.equals(srcNames.saveCounterKey())) {
        dropped.add(new MigrationPlan.Dropped(key, "replaced by the template's"));
        continue;
      }
      unused.add(key);
      String target = targetNameOfSource.get(key);
      dropped.add(
          new MigrationPlan.Dropped(
              key,
              "not used by the template"
                  + (target == null || target.equals(key)
                      ? ""
                      : " (its name after the rules: " + target + ")")));
    }
    if (ts.strictUnused() && !unused.isEmpty()) {
      throw new MigrationException(
          unused.size()
              + " source tensor(s) of "
              + source.prefix()
              + " not used by the template (strict): "
              + String.join(", ", unused));
    }
    return new MigrationPlan(
        source.prefix(), source.format(), template.format(), tensors, dropped, renamed, notes);
  }

  private void keepTemplate(
      IndexRecord r, Map<String, List<PlannedTensor.SlicePart>> templateSlices) {
    BundleEntry e = r.entry();
    if (!e.isSliced()) {
      tensors.add(PlannedTensor.copy(r.key(), r.key(), e).from(template.prefix()));
      return;
    }
    tensors.add(PlannedTensor.sliced(r.key(), r.key(), e));
    for (PlannedTensor.SlicePart p : templateSlices.getOrDefault(r.name(), List.of())) {
      tensors.add(
          PlannedTensor.copy(p.sourceKey(), p.sourceKey(), p.entry()).from(template.prefix()));
    }
  }

  private void fill(
      IndexRecord t,
      String name,
      String srcKey,
      BundleEntry s,
      List<PlannedTensor.SlicePart> srcParts,
      List<PlannedTensor.SlicePart> tplParts) {
    BundleEntry te = t.entry();
    byte[] target = t.key();
    byte[] sourceKey = Bytes.utf8(srcKey);
    boolean sameType = te.dtypeCode() == s.dtypeCode() && te.shape().equals(s.shape());
    if (te.isSliced() || s.isSliced()) {
      if (!sameType) {
        throw mismatch(t.name(), name, te, srcKey, s);
      }
      if (te.isSliced()
          && s.isSliced()
          && new HashSet<>(te.slices()).equals(new HashSet<>(s.slices()))) {
        tensors.add(PlannedTensor.sliced(target, sourceKey, te));
        for (PlannedTensor.SlicePart p : srcParts) {
          tensors.add(
              PlannedTensor.copy(SliceKeys.encode(t.name(), p.slice()), p.sourceKey(), p.entry()));
        }
      } else if (!te.isSliced()) {
        tensors.add(
            PlannedTensor.merge(
                target, sourceKey, s, Planner.orderedParts(source.prefix(), srcKey, s, srcParts)));
      } else {
        throw new MigrationException(
            "Cannot fill template variable "
                + t.name()
                + " ("
                + name
                + ") from "
                + srcKey
                + ": the template slices it differently ("
                + te.slices()
                + " vs "
                + s.slices()
                + "); re-slicing is not supported");
      }
      return;
    }
    if (sameType) {
      tensors.add(PlannedTensor.copy(target, sourceKey, s));
      return;
    }
    for (MappingRules.Transform tr : rules.transforms()) {
      if (tr.match().matcher(name).matches()) {
        PlannedTensor.Transformed p = PlannedTensor.transform(target, sourceKey, s, tr);
        if (p.dtype().code() == te.dtypeCode() && p.shape().equals(te.shape())) {
          tensors.add(p);
          return;
        }
      }
    }
    throw mismatch(t.name(), name, te, srcKey, s);
  }

  private static MigrationException mismatch(
      String key, String name, BundleEntry te, String srcKey, BundleEntry s) {
    return new MigrationException(
        "Cannot fill template variable "
            + key
            + " ("
            + name
            + "): the template holds "
            + te.dtypeName()
            + " "
            + te.shape()
            + " but source "
            + srcKey
            + " is "
            + s.dtypeName()
            + " "
            + s.shape()
            + " (add a cast, transpose or reshape transform)");
  }
}
