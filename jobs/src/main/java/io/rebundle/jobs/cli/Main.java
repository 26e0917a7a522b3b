package io.rebundle.jobs.cli;

import io.rebundle.codec.CheckpointNotFoundException;
import io.rebundle.codec.CorruptCheckpointException;
import io.rebundle.codec.UnsupportedCheckpointException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rebundle} command line. The only class that calls {@link System#exit}. */
@Command(name = "rebundle", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Migrate, remap and audit TensorFlow checkpoints at any scale, without TensorFlow.",
    subcommands = {InspectCommand.class, VerifyCommand.class, ConvertCommand.class, DiffCommand.class,
        SynthCommand.class,
        CommandLine.HelpCommand.class},
    footer = {"", "Exit codes: 0 ok, 1 findings, 2 usage, 3 corrupt or unsupported input, "
        + "4 missing file or storage error, 70 internal error."})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

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
    CommandLine cl = commandLine(factory);
    cl.setOut(out);
    cl.setErr(err);
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError e) {
      // Errors bypass picocli's handlers; still exit with the documented code and a way out.
      out.flush();
      err.println("rebundle: internal error: out of memory (" + e.getMessage() + "); give the JVM more heap, "
          + "e.g. REBUNDLE_JAVA_OPTS=-Xmx4g");
      err.flush();
      return ExitCodes.INTERNAL;
    }
  }

  static CommandLine commandLine(CommandLine.IFactory factory) {
    CommandLine cl = new CommandLine(new Main(), factory);
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      int code = exitCodeFor(ex);
      err.println("rebundle: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      if (code == ExitCodes.INTERNAL) {
        ex.printStackTrace(err);
      }
      err.flush();
      return code;
    });
    cl.setExitCodeExceptionMapper(Main::exitCodeFor);
    cl.setParameterExceptionHandler((ex, args) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("rebundle: " + ex.getMessage());
      err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
      err.flush();
      return ExitCodes.USAGE;
    });
    return cl;
  }

  /**
   * Maps an exception to the exit code the README documents, by type, walking the cause chain
   * (Spark and thread pools wrap the exception that matters): the first link of a known type
   * decides. Never by message text.
   */
  static int exitCodeFor(Throwable ex) {
    java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
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
    if (t instanceof CorruptCheckpointException || t instanceof UnsupportedCheckpointException
        || t instanceof io.rebundle.codec.MalformedBytesException) {
      return ExitCodes.BAD_INPUT;
    }
    if (t instanceof UsageException || t instanceof CommandLine.ParameterException
        || t instanceof io.rebundle.codec.LinkNotPossibleException
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

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"rebundle " + (v == null ? "dev" : v)};
    }
  }
}
