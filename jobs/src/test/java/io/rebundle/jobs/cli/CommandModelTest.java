package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command model built per command line (Main builds picocli's model of the named command only):
 * it gives the same model and answers as the model of every command, and a fresh JVM running {@code
 * inspect} or {@code --version} loads none of Spark, Hadoop or log4j.
 */
class CommandModelTest {
  @TempDir Path dir;

  @Test
  void theTableOfCommandsMatchesTheirAnnotations() {
    for (String name : Main.COMMANDS) {
      CommandLine.Command c = Main.commandClass(name).getAnnotation(CommandLine.Command.class);
      assertEquals(name, c.name(), Main.commandClass(name).getName());
    }
    assertEquals(
        Main.COMMANDS,
        List.copyOf(Main.commandLine(CommandLine.defaultFactory()).getSubcommands().keySet()));
  }

  @Test
  void aNamedCommandGetsItsModelOnlyAndEverythingElseGetsAll() {
    assertEquals(List.of("inspect"), Main.commandsNeeded(new String[] {"inspect", "x"}));
    assertEquals(
        List.of("convert"),
        Main.commandsNeeded(new String[] {"-q", "--verbose", "convert", "--to", "tf2"}));
    for (String[] args :
        new String[][] {
          {},
          {"--help"},
          {"-V"},
          {"help", "inspect"},
          {"completion"},
          {"conver"},
          {"-qV"},
          {"@args.txt"},
          {"--", "inspect"},
          {"--quiet=true", "inspect"}
        }) {
      assertEquals(Main.COMMANDS, Main.commandsNeeded(args), String.join(" ", args));
    }
  }

  @Test
  void oneCommandsModelIsTheSameAsInTheWholeModel() {
    CommandLine all = Main.commandLine(CommandLine.defaultFactory());
    for (String name : Main.COMMANDS) {
      if (Main.commandsNeeded(new String[] {name}).size() != 1) {
        continue;
      }
      CommandLine one = Main.commandLine(CommandLine.defaultFactory(), new String[] {name});
      assertEquals(List.of(name), List.copyOf(one.getSubcommands().keySet()));
      CommandLine sub = one.getSubcommands().get(name);
      CommandLine whole = all.getSubcommands().get(name);
      assertEquals(whole.getUsageMessage(), sub.getUsageMessage(), name);
      assertEquals(
          whole.getCommandSpec().options().stream().map(o -> o.longestName()).toList(),
          sub.getCommandSpec().options().stream().map(o -> o.longestName()).toList(),
          name);
      // -q and --verbose are inherited from the root in both.
      assertTrue(sub.getCommandSpec().findOption("-q") != null, name);
      assertTrue(sub.getCommandSpec().findOption("--verbose") != null, name);
    }
  }

  @Test
  void usageErrorsAndExitCodesAreThoseOfTheWholeModel() {
    String[][] lines = {
      {"convert", "--too", "tf2", "SRC", "DST"},
      {"inspect"},
      {"-q", "inspect", CliRunner.example("tf1-ckpt"), "--nope"},
      {"verify", CliRunner.example("tf1-ckpt"), "-q"},
      {"inspect", "--verbose", dir.resolve("missing").toString()},
    };
    for (String[] args : lines) {
      String[] one = run(Main.commandLine(CommandLine.defaultFactory(), args), args);
      String[] whole = run(Main.commandLine(CommandLine.defaultFactory()), args);
      assertEquals(List.of(whole), List.of(one), String.join(" ", args));
    }
  }

  private static String[] run(CommandLine cl, String[] args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    // The stack trace of --verbose ends in this test's own frames, whose line numbers differ.
    String trace =
        err.toString().replaceAll("\tat io\\.rebundle\\.jobs\\.cli\\.CommandModelTest\\..*\n", "");
    return new String[] {Integer.toString(code), out.toString(), trace};
  }

  @Test
  void inspectInAFreshJvmLoadsNoSparkHadoopOrLog4jClass() throws Exception {
    List<String> loaded = classesLoaded("inspect", CliRunner.example("tf1-ckpt"));
    assertTrue(loaded.contains("io.rebundle.jobs.cli.InspectCommand"), "logged");
    assertEquals(List.of(), foreign(loaded), "classes loaded by inspect of a local path");
  }

  @Test
  void versionInAFreshJvmReadsVersionsWithoutStartingSparkOrHadoop() throws Exception {
    List<String> loaded = classesLoaded("--version");
    // The two version classes are loaded (to find their jars), not initialised: nothing else.
    assertEquals(
        List.of("org.apache.hadoop.util.VersionInfo", "org.apache.spark.SparkBuildInfo"),
        foreign(loaded).stream().sorted().toList());
  }

  @Test
  void picocliDoesNotLookForGroovyOrJansi() throws Exception {
    // Each lookup of a class that is not on the class path opens every jar of it (219 embedded):
    // put both classes at its end, and a lookup would load them.
    Path probes = dir.resolve("probes");
    Files.createDirectories(probes);
    javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
    for (String[] c :
        new String[][] {{"groovy.lang", "Closure"}, {"org.fusesource.jansi", "Ansi"}}) {
      Path src = probes.resolve(c[1] + ".java");
      Files.writeString(src, "package " + c[0] + "; public class " + c[1] + " {}\n");
      assertEquals(0, javac.run(null, null, null, "-d", probes.toString(), src.toString()));
    }
    extraClassPath = probes.toString();
    List<String> loaded = classesLoaded("inspect", CliRunner.example("tf1-ckpt"));
    assertTrue(loaded.contains("io.rebundle.jobs.cli.InspectCommand"), "logged");
    assertEquals(
        List.of(),
        loaded.stream().filter(c -> c.startsWith("groovy.") || c.contains("jansi")).toList());
  }

  private String extraClassPath;

  private static List<String> foreign(List<String> classes) {
    return classes.stream()
        .filter(
            c ->
                c.startsWith("org.apache.spark.")
                    || c.startsWith("org.apache.hadoop.")
                    || c.startsWith("org.apache.logging.")
                    || c.startsWith("org.slf4j.")
                    || c.startsWith("scala."))
        .toList();
  }

  /** The classes a fresh JVM running {@code Main args} loads, from its class-load log. */
  private List<String> classesLoaded(String... args) throws Exception {
    Path log = dir.resolve("classes-" + System.nanoTime() + ".log");
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + log,
                "-cp",
                System.getProperty("java.class.path")
                    + (extraClassPath == null ? "" : java.io.File.pathSeparator + extraClassPath),
                Main.class.getName()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), output);
    return Files.readAllLines(log).stream()
        .map(l -> l.replaceFirst("^\\[[^]]*\\]\\[[^]]*\\]\\[[^]]*\\] ", ""))
        .map(l -> l.split(" ", 2)[0])
        .toList();
  }
}
