package io.rebundle.jobs.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code completion}: prints a bash/zsh completion script generated from the command model, so it
 * always matches the options of this build.
 */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print a bash/zsh completion script for this command line.",
      "bash: source <(rebundle completion)   zsh: autoload -U +X bashcompinit && bashcompinit; "
          + "source <(rebundle completion)"
    },
    footer = {
      "",
      "Examples:",
      "  rebundle completion > ~/.local/share/bash-completion/completions/rebundle",
      "  echo 'source <(rebundle completion)' >> ~/.bashrc"
    })
public final class CompletionCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    CommandLine root = spec.root().commandLine();
    PrintWriter out = spec.commandLine().getOut();
    // The script completes the name the user runs (rebundle, or submit.sh through the launcher).
    String name = root.getCommandName().replaceFirst("^.*/", "");
    out.print(AutoComplete.bash(name, root));
    out.flush();
    return ExitCodes.OK;
  }
}
