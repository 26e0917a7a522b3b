package io.rebundle.jobs.cli;

import io.rebundle.jobs.SharedSpark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import picocli.CommandLine;

/** Runs the command line in-process and captures what it prints. */
record CliRunner(int exitCode, String out, String err) {
  static CliRunner run(String... args) {
    return run(CommandLine.defaultFactory(), args);
  }

  /**
   * Runs with the test JVM's shared Spark context lent to {@code convert}: one context per JVM, so
   * the command must not create (and stop) its own while the shared one is active.
   */
  static CliRunner runWithSharedSpark(String... args) {
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            if (cls == ConvertCommand.class) {
              return cls.cast(
                  new ConvertCommand(
                      new io.rebundle.jobs.spark.SparkTaskEngine(SharedSpark.context())));
            }
            return CommandLine.defaultFactory().create(cls);
          }
        };
    return run(factory, args);
  }

  /**
   * Runs with the shared Spark context lent to {@code convert}, whose storage is wrapped by {@code
   * decorator} (a slow or failing one; serializable, as the tasks get it).
   */
  static CliRunner runWithSharedSparkAndStorage(
      java.util.function.UnaryOperator<io.rebundle.codec.io.FileIO> decorator, String... args) {
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            if (cls == ConvertCommand.class) {
              return cls.cast(
                  new ConvertCommand(
                      new io.rebundle.jobs.spark.SparkTaskEngine(SharedSpark.context()),
                      decorator));
            }
            return CommandLine.defaultFactory().create(cls);
          }
        };
    return run(factory, args);
  }

  /**
   * Runs with {@code io} as the storage of {@code verify} and {@code inspect} (a slow or failing
   * decorator).
   */
  static CliRunner runWithStorage(io.rebundle.codec.io.FileIO io, String... args) {
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            if (cls == VerifyCommand.class) {
              return cls.cast(new VerifyCommand(location -> io));
            }
            if (cls == InspectCommand.class) {
              return cls.cast(new InspectCommand(location -> io));
            }
            return CommandLine.defaultFactory().create(cls);
          }
        };
    return run(factory, args);
  }

  private static CliRunner run(CommandLine.IFactory factory, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), factory);
    return new CliRunner(code, out.toString(), err.toString());
  }

  static Path repo() {
    String root = System.getProperty("rebundle.repo.root");
    return root == null ? Path.of("..") : Path.of(root);
  }

  static String example(String name) {
    return repo().resolve("conf/examples").resolve(name).toString();
  }
}
