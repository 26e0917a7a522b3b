package io.rebundle.jobs.cli;

import io.rebundle.codec.plan.MappingRules;
import io.rebundle.jobs.convert.MappingFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The {@code --preset NAME} option, as a picocli mixin for every command that takes {@code --map}:
 * a bundled mapping file instead of one of the user's ({@link MappingFile#preset}). {@code --preset
 * list} prints the presets; a command calls {@link #listed} first and returns when it is true. The
 * option is marked {@code help}, so picocli does not demand the command's other arguments with it:
 * commands check their own required arguments after {@link #listed}.
 */
public final class PresetOption {
  // help = true: '--preset list' is answered without the command's required arguments.
  @Option(
      names = "--preset",
      paramLabel = "NAME",
      help = true,
      description =
          "Bundled mapping file instead of --map (e.g. hf-bert); '--preset list' shows them.")
  String preset;

  /** Prints the preset list and returns true when {@code --preset list} was given. */
  public boolean listed(PrintWriter out) {
    if (!"list".equals(preset)) {
      return false;
    }
    Map<String, String> presets = MappingFile.presets();
    int width = presets.keySet().stream().mapToInt(String::length).max().orElse(4);
    presets.forEach((name, description) -> out.printf("%-" + width + "s  %s%n", name, description));
    out.flush();
    return true;
  }

  /**
   * The rules from {@code --map FILE} (may be null) or this preset; both at once is a usage error.
   */
  public MappingRules rules(Path mapFile) {
    return MappingFile.load(mapFile, preset);
  }

  /** The preset's name, or null. */
  public String name() {
    return preset;
  }
}
