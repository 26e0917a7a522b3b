package io.rebundle.jobs.convert;

import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.plan.MappingRules;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a mapping file ({@code --map}): YAML (so JSON too) with the keys {@code assignment_map},
 * {@code rename}, {@code include}, {@code exclude}, {@code drop}, {@code strict}, {@code
 * global_step}, {@code optimizer}, {@code transforms} and {@code segments}. Every problem is
 * reported with the file, line and column; unknown keys are errors, not silently ignored. Bundled
 * mapping files ({@code --preset NAME}) are read by {@link #preset(String)}.
 */
public final class MappingFile {
  private static final Set<String> KEYS =
      Set.of(
          "assignment_map",
          "rename",
          "include",
          "exclude",
          "drop",
          "strict",
          "global_step",
          "optimizer",
          "transforms",
          "segments");

  /**
   * Where bundled presets live on the class path; {@code presets.tsv} lists name and description.
   */
  private static final String PRESETS = "/io/rebundle/jobs/presets/";

  private final String file;

  private MappingFile(String file) {
    this.file = file;
  }

  /** Thrown for a malformed mapping file; the message names file, line and column. */
  public static final class InvalidMappingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InvalidMappingException(String message) {
      super(message);
    }
  }

  public static MappingRules read(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new InvalidMappingException("Cannot read mapping file " + path + ": not found");
    } catch (IOException e) {
      throw new InvalidMappingException("Cannot read mapping file " + path + ": " + e.getMessage());
    }
    return parse(path.toString(), text);
  }

  /** The bundled presets, name to one-line description, in name order. */
  public static java.util.SortedMap<String, String> presets() {
    java.util.SortedMap<String, String> out = new java.util.TreeMap<>();
    for (String line : resource("presets.tsv").split("\n")) {
      int tab = line.indexOf('\t');
      if (tab > 0) {
        out.put(line.substring(0, tab), line.substring(tab + 1).trim());
      }
    }
    return out;
  }

  /**
   * The rules of bundled preset {@code name}; an unknown name is an error listing the known ones.
   */
  public static MappingRules preset(String name) {
    if (!presets().containsKey(name)) {
      throw new InvalidMappingException(
          "Invalid preset: "
              + name
              + " (known presets: "
              + String.join(", ", presets().keySet())
              + "; --preset list describes them)");
    }
    return parse("preset " + name, resource(name + ".yaml"));
  }

  /** The bundled preset's mapping file text, for users who want to start their own from it. */
  public static String presetText(String name) {
    preset(name);
    return resource(name + ".yaml");
  }

  private static String resource(String name) {
    try (java.io.InputStream in = MappingFile.class.getResourceAsStream(PRESETS + name)) {
      if (in == null) {
        throw new IllegalStateException(
            "Cannot read bundled preset resource " + PRESETS + name + ": not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(
          "Cannot read bundled preset resource " + PRESETS + name, e);
    }
  }

  /**
   * The rules a command runs with: a mapping file ({@code --map}), a preset ({@code --preset}), or
   * none. Giving both is an error: a preset is a mapping file, and merging two silently would hide
   * which rule won.
   */
  public static MappingRules load(Path mapFile, String presetName) {
    if (mapFile != null && presetName != null) {
      throw new InvalidMappingException(
          "Invalid options: give --map or --preset, not both (start from the preset's "
              + "text to combine them)");
    }
    if (presetName != null) {
      return preset(presetName);
    }
    return mapFile == null ? MappingRules.none() : read(mapFile);
  }

  public static MappingRules parse(String file, String text) {
    return new MappingFile(file).parse(text);
  }

  private InvalidMappingException error(Node node, String what) {
    String where =
        node == null
            ? file
            : String.format(
                "%s:%d:%d",
                file, node.getStartMark().getLine() + 1, node.getStartMark().getColumn() + 1);
    return new InvalidMappingException("Invalid mapping file " + where + ": " + what);
  }

  private MappingRules parse(String text) {
    Node root;
    try (Reader r = new java.io.StringReader(text)) {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(options).compose(r);
    } catch (org.yaml.snakeyaml.error.MarkedYAMLException e) {
      // A syntax error: file:line:col of the problem, and SnakeYAML's description without its
      // snippet.
      org.yaml.snakeyaml.error.Mark m =
          e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String what =
          (e.getContext() == null ? "" : e.getContext() + ", ")
              + (e.getProblem() == null ? "invalid YAML" : e.getProblem());
      String where =
          m == null ? file : String.format("%s:%d:%d", file, m.getLine() + 1, m.getColumn() + 1);
      throw new InvalidMappingException(
          "Invalid mapping file " + where + ": " + what.replace('\n', ' '));
    } catch (YAMLException | IOException e) {
      throw new InvalidMappingException(
          "Invalid mapping file " + file + ": " + e.getMessage().replace('\n', ' '));
    }
    if (root == null) {
      throw error(null, "it is empty");
    }
    if (!(root instanceof MappingNode top)) {
      throw error(
          root,
          "the top level must be a mapping of " + String.join(", ", new java.util.TreeSet<>(KEYS)));
    }
    List<MappingRules.Assignment> assignments = new ArrayList<>();
    List<MappingRules.Rename> renames = new ArrayList<>();
    List<Pattern> include = new ArrayList<>();
    List<Pattern> exclude = new ArrayList<>();
    List<Pattern> drop = new ArrayList<>();
    List<MappingRules.Transform> transforms = new ArrayList<>();
    boolean strict = true;
    MappingRules.Switch globalStep = MappingRules.Switch.DEFAULT;
    MappingRules.Switch optimizer = MappingRules.Switch.DEFAULT;
    MappingRules.Segments segments = null;
    for (NodeTuple t : top.getValue()) {
      String key = scalar(t.getKeyNode(), "a top-level key");
      Node v = t.getValueNode();
      switch (key) {
        case "assignment_map" -> assignments.addAll(assignmentMap(v));
        case "rename" -> {
          for (Node item : sequence(v, "rename")) {
            MappingNode m = mapping(item, "a rename rule {from: REGEX, to: REPLACEMENT}");
            String from = field(m, "from", true);
            String to = field(m, "to", true);
            checkOnly(m, Set.of("from", "to"));
            renames.add(new MappingRules.Rename(regex(item, from), to));
          }
        }
        case "include" -> include.addAll(patterns(v, key));
        case "exclude" -> exclude.addAll(patterns(v, key));
        case "drop" -> drop.addAll(patterns(v, key));
        case "strict" -> strict = bool(v, key);
        case "global_step" -> globalStep = keepDrop(v, key);
        case "optimizer" -> optimizer = keepDrop(v, key);
        case "transforms" -> {
          for (Node item : sequence(v, "transforms")) {
            transforms.add(
                transform(
                    mapping(item, "a transform {match: REGEX, cast|transpose|reshape: ...}")));
          }
        }
        case "segments" ->
            segments =
                segments(mapping(v, "a segments rule {split: SEP, join: SEP, rules: [...]}"));
        default ->
            throw error(
                t.getKeyNode(),
                "unknown key '"
                    + key
                    + "' (expected one of "
                    + String.join(", ", new java.util.TreeSet<>(KEYS))
                    + ")");
      }
    }
    try {
      return new MappingRules(
          assignments,
          renames,
          include,
          exclude,
          drop,
          strict,
          transforms,
          globalStep,
          optimizer,
          segments);
    } catch (IllegalArgumentException e) {
      throw error(root, e.getMessage());
    }
  }

  private List<MappingRules.Assignment> assignmentMap(Node v) {
    List<MappingRules.Assignment> out = new ArrayList<>();
    if (v instanceof MappingNode m) {
      for (NodeTuple t : m.getValue()) {
        out.add(
            assignment(
                t.getKeyNode(),
                scalar(t.getKeyNode(), "a checkpoint name"),
                scalar(t.getValueNode(), "a new name")));
      }
    } else if (v instanceof SequenceNode s) {
      for (Node pair : s.getValue()) {
        if (!(pair instanceof SequenceNode p) || p.getValue().size() != 2) {
          throw error(pair, "assignment_map list items must be [checkpoint_name, new_name] pairs");
        }
        out.add(
            assignment(
                pair,
                scalar(p.getValue().get(0), "a checkpoint name"),
                scalar(p.getValue().get(1), "a new name")));
      }
    } else {
      throw error(
          v, "assignment_map must be a mapping {'old_scope/': 'new_scope/'} or a list of pairs");
    }
    return out;
  }

  private MappingRules.Assignment assignment(Node at, String ckpt, String now) {
    if (ckpt.isEmpty() || now.isEmpty()) {
      throw error(at, "assignment_map names must not be empty");
    }
    if (!ckpt.equals("/") && ckpt.endsWith("/") != now.endsWith("/")) {
      throw error(
          at,
          "assignment_map '"
              + ckpt
              + "': '"
              + now
              + "': a scope maps to a scope, "
              + "'scope/': 'other_scope/', and a name to a name");
    }
    if (ckpt.equals("/") && !now.endsWith("/")) {
      throw error(at, "assignment_map '/': '" + now + "': the root maps to a scope ending in '/'");
    }
    return new MappingRules.Assignment(ckpt, now);
  }

  private MappingRules.Segments segments(MappingNode m) {
    checkOnly(m, Set.of("split", "join", "rules"));
    String split = field(m, "split", true);
    String join = field(m, "join", true);
    if (split.isEmpty()) {
      throw error(m, "segments split must not be empty");
    }
    List<MappingRules.SegmentRule> rules = new ArrayList<>();
    for (NodeTuple t : m.getValue()) {
      if (!scalar(t.getKeyNode(), "a key").equals("rules")) {
        continue;
      }
      for (Node item : sequence(t.getValueNode(), "segments rules")) {
        MappingNode r =
            mapping(item, "a segment rule {match: REGEX, to: REPLACEMENT, last: true|false}");
        checkOnly(r, Set.of("match", "to", "last"));
        String match = field(r, "match", true);
        String to = field(r, "to", true);
        boolean last = false;
        for (NodeTuple f : r.getValue()) {
          if (scalar(f.getKeyNode(), "a key").equals("last")) {
            last = bool(f.getValueNode(), "last");
          }
        }
        Pattern p = regex(item, match);
        checkReplacement(item, p, to);
        rules.add(new MappingRules.SegmentRule(p, to, last));
      }
    }
    return new MappingRules.Segments(split, join, rules);
  }

  /** Refuses a replacement naming a group its pattern lacks, before any name meets it. */
  private void checkReplacement(Node at, Pattern p, String to) {
    int groups = p.matcher("").groupCount();
    for (int i = 0; i < to.length(); i++) {
      char c = to.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '$') {
        if (i + 1 >= to.length()
            || !(Character.isDigit(to.charAt(i + 1)) || to.charAt(i + 1) == '{')) {
          throw error(
              at,
              "invalid replacement '"
                  + to
                  + "': '$' must be followed by a group number or {name} "
                  + "(write \\$ for a dollar sign)");
        }
        if (Character.isDigit(to.charAt(i + 1)) && to.charAt(i + 1) - '0' > groups) {
          throw error(
              at,
              "invalid replacement '"
                  + to
                  + "': group $"
                  + to.charAt(i + 1)
                  + " does not exist in '"
                  + p.pattern()
                  + "' ("
                  + groups
                  + " groups)");
        }
      }
    }
  }

  private MappingRules.Transform transform(MappingNode m) {
    String match = field(m, "match", true);
    checkOnly(m, Set.of("match", "cast", "transpose", "reshape"));
    Pattern p = regex(m, match);
    DType cast = null;
    int[] transpose = null;
    long[] reshape = null;
    for (NodeTuple t : m.getValue()) {
      String k = scalar(t.getKeyNode(), "a key");
      switch (k) {
        case "cast" -> {
          String name = scalar(t.getValueNode(), "a dtype");
          try {
            cast = DType.parse(name);
          } catch (IllegalArgumentException e) {
            throw error(t.getValueNode(), "unknown dtype '" + name + "'");
          }
        }
        case "transpose" ->
            transpose =
                sequence(t.getValueNode(), "transpose").stream()
                    .mapToInt(n -> (int) integer(n, "a dimension index"))
                    .toArray();
        case "reshape" ->
            reshape =
                sequence(t.getValueNode(), "reshape").stream()
                    .mapToLong(n -> integer(n, "a dimension size"))
                    .toArray();
        default -> {}
      }
    }
    try {
      return new MappingRules.Transform(p, cast, transpose, reshape);
    } catch (IllegalArgumentException e) {
      throw error(m, e.getMessage());
    }
  }

  private String scalar(Node n, String what) {
    if (!(n instanceof ScalarNode s)) {
      throw error(n, "expected " + what + " (a string)");
    }
    return s.getValue();
  }

  private long integer(Node n, String what) {
    String s = scalar(n, what);
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw error(n, "expected " + what + " (an integer), found '" + s + "'");
    }
  }

  private boolean bool(Node n, String key) {
    String s = scalar(n, key);
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw error(n, key + " must be true or false, found '" + s + "'");
    };
  }

  private MappingRules.Switch keepDrop(Node n, String key) {
    String s = scalar(n, key);
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "keep", "true" -> MappingRules.Switch.KEEP;
      case "drop", "false" -> MappingRules.Switch.DROP;
      default -> throw error(n, key + " must be keep or drop, found '" + s + "'");
    };
  }

  private List<Node> sequence(Node n, String key) {
    if (!(n instanceof SequenceNode s)) {
      throw error(n, key + " must be a list");
    }
    return s.getValue();
  }

  private MappingNode mapping(Node n, String what) {
    if (!(n instanceof MappingNode m)) {
      throw error(n, "expected " + what);
    }
    return m;
  }

  private String field(MappingNode m, String name, boolean required) {
    for (NodeTuple t : m.getValue()) {
      if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(name)) {
        return scalar(t.getValueNode(), name);
      }
    }
    if (required) {
      throw error(m, "missing '" + name + "'");
    }
    return null;
  }

  private void checkOnly(MappingNode m, Set<String> allowed) {
    for (NodeTuple t : m.getValue()) {
      String k = scalar(t.getKeyNode(), "a key");
      if (!allowed.contains(k)) {
        throw error(
            t.getKeyNode(),
            "unknown key '"
                + k
                + "' (expected "
                + String.join(", ", new java.util.TreeSet<>(allowed))
                + ")");
      }
    }
  }

  private List<Pattern> patterns(Node n, String key) {
    List<Pattern> out = new ArrayList<>();
    for (Node item : sequence(n, key)) {
      out.add(regex(item, scalar(item, "a regular expression")));
    }
    return out;
  }

  /** Longest regular expression a mapping file may hold; real rules are a few dozen characters. */
  public static final int MAX_REGEX_LENGTH = 1000;

  /**
   * Compiles a rule's regular expression after refusing the shapes that make Java's backtracking
   * matcher take exponential time: a repeated group whose body repeats too ({@code (a+)+}, {@code
   * ((a*)b)*}, {@code (x{2,})+}). Any such rule can be written without the nesting.
   */
  private Pattern regex(Node at, String s) {
    if (s.length() > MAX_REGEX_LENGTH) {
      throw error(
          at,
          "regular expression of "
              + s.length()
              + " characters is longer than the limit of "
              + MAX_REGEX_LENGTH);
    }
    int nested = nestedQuantifier(s);
    if (nested >= 0) {
      throw error(
          at,
          "regular expression '"
              + s
              + "' repeats a group that itself repeats (at character "
              + (nested + 1)
              + "), which can take exponential time to match; remove the inner or the outer repetition");
    }
    try {
      return Pattern.compile(s);
    } catch (PatternSyntaxException e) {
      throw error(at, "invalid regular expression '" + s + "': " + e.getDescription());
    }
  }

  /**
   * Index of the quantifier that repeats a group containing a quantifier, or -1. Escapes, character
   * classes and {@code \Q...\E} quotes are skipped; lazy and possessive suffixes count as part of
   * their quantifier. A syntax error is left for {@link Pattern#compile} to report.
   */
  static int nestedQuantifier(String re) {
    java.util.ArrayDeque<boolean[]> groups = new java.util.ArrayDeque<>();
    boolean[] top = {false};
    boolean lastClosedGroupRepeats = false;
    boolean afterGroup = false;
    int i = 0;
    int n = re.length();
    while (i < n) {
      char c = re.charAt(i);
      if (c == '\\') {
        if (i + 1 < n && re.charAt(i + 1) == 'Q') {
          int end = re.indexOf("\\E", i + 2);
          i = end < 0 ? n : end + 2;
        } else {
          i += 2;
        }
        afterGroup = false;
        continue;
      }
      if (c == '[') {
        i = skipClass(re, i);
        afterGroup = false;
        continue;
      }
      if (c == '(') {
        groups.push(top);
        top = new boolean[] {false};
        i++;
        afterGroup = false;
        continue;
      }
      if (c == ')') {
        lastClosedGroupRepeats = top[0];
        top = groups.isEmpty() ? new boolean[] {false} : groups.pop();
        // The enclosing group contains whatever repeats inside this one.
        top[0] |= lastClosedGroupRepeats;
        i++;
        afterGroup = true;
        continue;
      }
      boolean unbounded = c == '*' || c == '+' || (c == '{' && unboundedOrLarge(re, i));
      if (c == '*' || c == '+' || c == '{' || c == '?') {
        if (unbounded && afterGroup && lastClosedGroupRepeats) {
          return i;
        }
        if (unbounded) {
          top[0] = true;
        }
        if (c == '{') {
          int close = re.indexOf('}', i);
          i = close < 0 ? n : close + 1;
        } else {
          i++;
        }
        if (i < n && (re.charAt(i) == '?' || re.charAt(i) == '+')) {
          i++;
        }
        afterGroup = false;
        continue;
      }
      i++;
      afterGroup = false;
    }
    return -1;
  }

  /** Whether the {@code {m,n}} at {@code at} allows more than 10 repetitions. */
  private static boolean unboundedOrLarge(String re, int at) {
    int close = re.indexOf('}', at);
    if (close < 0) {
      return false;
    }
    String body = re.substring(at + 1, close);
    int comma = body.indexOf(',');
    try {
      if (comma < 0) {
        return Integer.parseInt(body.trim()) > 10;
      }
      String max = body.substring(comma + 1).trim();
      return max.isEmpty() || Integer.parseInt(max) > 10;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Index just past the character class starting at {@code at}. */
  private static int skipClass(String re, int at) {
    int i = at + 1;
    if (i < re.length() && re.charAt(i) == '^') {
      i++;
    }
    if (i < re.length() && re.charAt(i) == ']') {
      i++;
    }
    int depth = 1;
    while (i < re.length() && depth > 0) {
      char c = re.charAt(i);
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
      }
      i++;
    }
    return i;
  }
}
