package io.rebundle.jobs.cli;

import io.rebundle.jobs.SharedSpark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  /** What a command run as a process of its own exited with, and its non-blank stderr lines. */
  record Child(int exitCode, List<String> stderr) {}

  /**
   * Runs the command line as a process of its own (this JVM's classpath and module flags, the log
   * configuration users get): for a run whose process must be gone afterwards, as a user's is (its
   * staging lease then names a dead process, which lets the next run clean up after it).
   */
  static Child runInChild(Path tmp, List<String> args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-opens")
          || arg.startsWith("-XX:+IgnoreUnrecognized")
          || arg.startsWith("-Dio.netty")) {
        command.add(arg);
      }
    }
    command.add(
        "-Dlog4j2.configurationFile=" + repo().resolve("conf/log4j2.properties").toAbsolutePath());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(args);
    Path err = Files.createTempFile(tmp, "stderr", ".txt");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(err.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the command did not finish in 180 s: " + Files.readString(err));
    }
    List<String> lines =
        Files.readAllLines(err, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    return new Child(p.exitValue(), lines);
  }

  static Path repo() {
    String root = System.getProperty("rebundle.repo.root");
    return root == null ? Path.of("..") : Path.of(root);
  }

  static String example(String name) {
    return repo().resolve("conf/examples").resolve(name).toString();
  }
}
