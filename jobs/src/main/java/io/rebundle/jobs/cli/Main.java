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
        SynthCommand.class, BatchCommand.class,
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

  /** Maps an exception to the exit code the README documents. */
  static int exitCodeFor(Throwable ex) {
    if (ex instanceof CorruptCheckpointException || ex instanceof UnsupportedCheckpointException) {
      return ExitCodes.BAD_INPUT;
    }
    if (ex instanceof CheckpointNotFoundException || ex instanceof UncheckedIOException) {
      return ExitCodes.STORAGE;
    }
    if (ex instanceof UsageException || ex instanceof CommandLine.ParameterException
        || ex instanceof io.rebundle.codec.LinkNotPossibleException
        || ex instanceof io.rebundle.codec.DestinationExistsException
        || ex instanceof io.rebundle.jobs.convert.MappingFile.InvalidMappingException) {
      return ExitCodes.USAGE;
    }
    if (ex instanceof io.rebundle.codec.RebundleException) {
      return ExitCodes.BAD_INPUT;
    }
    return ExitCodes.INTERNAL;
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
