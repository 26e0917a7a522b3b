package io.rebundle.jobs.cli;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import io.rebundle.jobs.util.BuildInfo;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code rebundle} command line. The only class that calls {@link System#exit}.
 *
 * <p>The commands are added in {@link #commandLine(CommandLine.IFactory, String[])}, not listed in
 * the annotation: picocli builds the model of every command it is given (reflection, annotation
 * proxies, a parser each), which was most of the start-up of a small {@code inspect}. A command
 * line that names its command ({@code [-q] [--verbose] inspect ...}) gets a model of that command
 * only; anything else (no command, a misspelt one, {@code help}, {@code completion}, {@code
 * --help}) gets all of them, so suggestions, help and completion see every command.
 */
@Command(
    name = "rebundle",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description =
        "Migrate, remap and audit TensorFlow checkpoints at any scale, without TensorFlow.",
    footer = {
      "",
      "Exit codes: 0 ok, 1 findings, 2 usage, 3 corrupt or unsupported input, "
          + "4 missing file or storage error, 70 internal error."
    })
public final class Main implements Runnable {
  static {
    // At start-up picocli looks for Groovy's Closure class (closures in annotations) and Jansi's
    // console by name; neither is on the class path, and a class that is not there is looked for
    // in every jar of it: 219 jars opened on an embedded run, 70 ms or more of a small inspect.
    // Rebundle uses neither. A value given on the command line is kept.
    for (String off :
        new String[] {"picocli.disable.closures", "org.fusesource.jansi.Ansi.disable"}) {
      if (System.getProperty(off) == null) {
        System.setProperty(off, "true");
      }
    }
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * -q: no progress, no warnings; errors still print. Accepted before or after the command name.
   */
  @CommandLine.Option(
      names = {"-q", "--quiet"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "Quiet: no progress display and no warnings (errors still print).")
  boolean quiet;

  /** --verbose: stack traces with errors, Spark's INFO logs. */
  @CommandLine.Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Verbose: stack traces with errors, Spark and Hadoop INFO logs.")
  boolean verbose;

  /** Whether -q was given to the command being run (for commands: {@code Main.quiet(spec)}). */
  static boolean quiet(CommandLine.Model.CommandSpec spec) {
    return spec.root().userObject() instanceof Main m && m.quiet;
  }

  static boolean verbose(CommandLine.Model.CommandSpec spec) {
    return spec.root().userObject() instanceof Main m && m.verbose;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command");
  }

  public static void main(String[] args) {
    // stdout is not auto-flushed: a flush per printf is a write(2) per row, which made listing a
    // million-entry index take seconds. Commands flush when done; stderr stays auto-flushed.
    PrintWriter out = new PrintWriter(System.out, false);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = run(args, out, err);
    out.flush();
    System.exit(code);
  }

  /** Runs the command line with the given streams and returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, out, err, CommandLine.defaultFactory());
  }

  /** As {@link #run(String[], PrintWriter, PrintWriter)}, with commands made by {@code factory}. */
  static int run(String[] args, PrintWriter out, PrintWriter err, CommandLine.IFactory factory) {
    CommandLine cl = commandLine(factory, args);
    cl.setOut(out);
    cl.setErr(err);
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError e) {
      // Errors bypass picocli's handlers; still exit with the documented code and a way out.
      out.flush();
      err.println(
          BuildInfo.programName()
              + ": internal error: out of memory ("
              + e.getMessage()
              + "); give the JVM more heap, "
              + "e.g. REBUNDLE_JAVA_OPTS=-Xmx4g");
      err.flush();
      return ExitCodes.INTERNAL;
    }
  }

  /** The commands, in the order help lists them. */
  static final List<String> COMMANDS =
      List.of(
          "inspect", "verify", "convert", "diff", "synth", "audit", "batch", "help", "completion");

  /** The class of a command in {@link #COMMANDS}; only the one returned is loaded. */
  static Class<?> commandClass(String name) {
    return switch (name) {
      case "inspect" -> InspectCommand.class;
      case "verify" -> VerifyCommand.class;
      case "convert" -> ConvertCommand.class;
      case "diff" -> DiffCommand.class;
      case "synth" -> SynthCommand.class;
      case "audit" -> AuditCommand.class;
      case "batch" -> BatchCommand.class;
      case "help" -> CommandLine.HelpCommand.class;
      case "completion" -> CompletionCommand.class;
      default -> throw new IllegalArgumentException("not a command: " + name);
    };
  }

  /**
   * The commands a command line needs in the model: the one it names, when it names one of those
   * that do not look at the others; otherwise all of them.
   */
  static List<String> commandsNeeded(String[] args) {
    for (String a : args) {
      if (a.equals("-q") || a.equals("--quiet") || a.equals("--verbose")) {
        continue;
      }
      if (COMMANDS.contains(a) && !a.equals("help") && !a.equals("completion")) {
        return List.of(a);
      }
      break;
    }
    return COMMANDS;
  }

  /** The whole command line, every command in the model (completion, tests). */
  static CommandLine commandLine(CommandLine.IFactory factory) {
    return commandLine(factory, COMMANDS);
  }

  /** The command line for {@code args}: see {@link #commandsNeeded}. */
  static CommandLine commandLine(CommandLine.IFactory factory, String[] args) {
    return commandLine(factory, commandsNeeded(args));
  }

  private static CommandLine commandLine(CommandLine.IFactory factory, List<String> commands) {
    CommandLine cl = new CommandLine(new Main(), factory);
    for (String name : commands) {
      cl.addSubcommand(name, commandClass(name));
    }
    // Messages and help name what the user ran (./submit.sh, rebundle), as the launcher tells us.
    cl.setCommandName(BuildInfo.programName());
    Handlers handlers = new Handlers();
    cl.setExecutionExceptionHandler(handlers);
    cl.setExitCodeExceptionMapper(handlers);
    cl.setExecutionStrategy(handlers);
    cl.setParameterExceptionHandler(handlers);
    return cl;
  }

  /**
   * What picocli calls around a command: a named class rather than lambdas, because picocli's
   * interfaces are class-file version 49, and the JVM cannot keep a lambda of an interface that old
   * in the class-data sharing archive; this class, and those interfaces, it keeps.
   */
  private static final class Handlers
      implements CommandLine.IExecutionExceptionHandler,
          CommandLine.IExitCodeExceptionMapper,
          CommandLine.IExecutionStrategy,
          CommandLine.IParameterExceptionHandler {
    @Override
    public int handleExecutionException(
        Exception ex, CommandLine commandLine, CommandLine.ParseResult parseResult) {
      PrintWriter err = commandLine.getErr();
      int code = exitCodeFor(ex);
      err.println(
          "rebundle: "
              + (ClusterFailure.isApplicationRemoved(ex)
                  ? ClusterFailure.message(ex)
                  : ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      if (code == ExitCodes.INTERNAL || verbose(commandLine.getCommandSpec())) {
        ex.printStackTrace(err);
      }
      err.flush();
      return code;
    }

    @Override
    public int getExitCode(Throwable exception) {
      return exitCodeFor(exception);
    }

    @Override
    public int execute(CommandLine.ParseResult parseResult) {
      if (parseResult.commandSpec().userObject() instanceof Main m && m.verbose) {
        Logging.verbose();
      }
      return new CommandLine.RunLast().execute(parseResult);
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("rebundle: " + usageMessage(ex));
      err.println(
          "Try '"
              + ex.getCommandLine().getCommandSpec().qualifiedName()
              + " --help' for more information.");
      err.flush();
      return ExitCodes.USAGE;
    }
  }

  /**
   * The usage error, naming the argument at fault: an unknown option rather than the positional
   * arguments it displaced ({@code --too tf2 SRC DST} is about {@code --too}, not DST), an unknown
   * command as such, with picocli's "did you mean" suggestions.
   */
  static String usageMessage(CommandLine.ParameterException ex) {
    if (!(ex instanceof CommandLine.UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) {
      return ex.getMessage();
    }
    List<String> suggestions = u.getSuggestions();
    String hint =
        suggestions.isEmpty()
            ? ""
            : " (did you mean "
                + String.join(" or ", suggestions.subList(0, Math.min(3, suggestions.size())))
                + "?)";
    CommandLine.Model.CommandSpec spec = u.getCommandLine().getCommandSpec();
    for (String a : u.getUnmatched()) {
      if (a.startsWith("-") && a.length() > 1 && !a.equals("--")) {
        return "Unknown option: '" + a + "'" + hint;
      }
    }
    if (!spec.subcommands().isEmpty() && spec.parent() == null) {
      return "Unknown command: '" + u.getUnmatched().get(0) + "'" + hint;
    }
    return "Unexpected argument: '" + u.getUnmatched().get(0) + "'" + hint;
  }

  /**
   * Maps an exception to the exit code the README documents, by type, walking the cause chain
   * (Spark and thread pools wrap the exception that matters): the first link of a known type
   * decides. Never by message text.
   */
  static int exitCodeFor(Throwable ex) {
    if (ClusterFailure.isApplicationRemoved(ex)) {
      return ExitCodes.STORAGE;
    }
    java.util.Set<Throwable> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable t = ex; t != null && seen.add(t); t = t.getCause()) {
      int code = exitCodeOfType(t);
      if (code >= 0) {
        return code;
      }
    }
    return ExitCodes.INTERNAL;
  }

  /** The exit code of one exception's own type, or -1 if its type says nothing. */
  private static int exitCodeOfType(Throwable t) {
    if (t instanceof CorruptCheckpointException
        || t instanceof UnsupportedCheckpointException
        || t instanceof io.rebundle.codec.MalformedBytesException) {
      return ExitCodes.BAD_INPUT;
    }
    if (t instanceof UsageException
        || t instanceof CommandLine.ParameterException
        || t instanceof io.rebundle.codec.LinkNotPossibleException
        || t instanceof io.rebundle.codec.DestinationExistsException
        || t instanceof io.rebundle.jobs.convert.MappingFile.InvalidMappingException
        || t instanceof java.nio.file.InvalidPathException) {
      return ExitCodes.USAGE;
    }
    if (t instanceof CheckpointNotFoundException || t instanceof UncheckedIOException) {
      return ExitCodes.STORAGE;
    }
    if (t instanceof io.rebundle.codec.RebundleException) {
      return ExitCodes.BAD_INPUT;
    }
    return -1;
  }

  /** Spark's and Hadoop's INFO logs for --verbose (conf/log4j2.properties keeps them at WARN). */
  static final class Logging {
    private Logging() {}

    static void verbose() {
      try {
        org.apache.logging.log4j.core.config.Configurator.setRootLevel(
            org.apache.logging.log4j.Level.INFO);
      } catch (LinkageError e) {
        // No log4j-core on the class path (a trimmed installation): nothing to turn up.
      }
    }
  }

  /** Version, git commit and the Spark and Hadoop versions, from the build and the class path. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      BuildInfo b = BuildInfo.current();
      return new String[] {
        "rebundle " + b.toolVersion(),
        "Spark "
            + b.sparkVersion()
            + ", Hadoop "
            + b.hadoopVersion()
            + ", Java "
            + System.getProperty("java.version")
      };
    }
  }
}
