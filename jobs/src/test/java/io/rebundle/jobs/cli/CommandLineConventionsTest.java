package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.rebundle.jobs.util.BuildInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Names, help, usage errors, --version, -q/--verbose and completion, as a user sees them. */
class CommandLineConventionsTest {
  @TempDir Path dir;

  @Test
  void aMisspeltCommandIsNamedWithASuggestion() {
    CliRunner r = CliRunner.run("conver", "SRC");
    assertEquals(2, r.exitCode());
    assertEquals(
        "rebundle: Unknown command: 'conver' (did you mean convert or verify or completion?)\n"
            + "Try 'rebundle --help' for more information.\n",
        r.err());
  }

  @Test
  void anUnknownOptionIsBlamedNotTheArgumentsItDisplaced() {
    CliRunner r = CliRunner.run("convert", "--too", "tf2", "SRC", "DST");
    assertEquals(2, r.exitCode());
    assertEquals(
        "rebundle: Unknown option: '--too' (did you mean --to?)\n"
            + "Try 'rebundle convert --help' for more information.\n",
        r.err());
    assertFalse(r.err().contains("DST"), r.err());
  }

  @Test
  void messagesUseTheNameTheUserRan() {
    String before = System.getProperty(BuildInfo.PROGRAM_NAME_PROPERTY);
    System.setProperty(BuildInfo.PROGRAM_NAME_PROPERTY, "./submit.sh");
    try {
      CliRunner r = CliRunner.run("verify");
      assertEquals(2, r.exitCode());
      assertEquals(
          "rebundle: Missing required parameter: 'PATH'\nTry './submit.sh verify --help' for more "
              + "information.\n",
          r.err());
      CliRunner help = CliRunner.run("--help");
      assertTrue(help.out().startsWith("Usage: ./submit.sh "), help.out());
    } finally {
      if (before == null) {
        System.clearProperty(BuildInfo.PROGRAM_NAME_PROPERTY);
      } else {
        System.setProperty(BuildInfo.PROGRAM_NAME_PROPERTY, before);
      }
    }
  }

  @Test
  void versionNamesTheBuildAndTheSparkAndHadoopInUse() {
    CliRunner r = CliRunner.run("--version");
    assertEquals(0, r.exitCode(), r.err());
    BuildInfo b = BuildInfo.current();
    assertFalse(r.out().contains("dev"), r.out());
    assertTrue(b.version().matches("\\d+\\.\\d+\\.\\d+.*"), b.version());
    assertTrue(
        b.gitCommit().matches("[0-9a-f]{7,40}"), "git commit from the build: " + b.gitCommit());
    assertEquals(
        "rebundle "
            + b.toolVersion()
            + "\nSpark "
            + org.apache.spark.package$.MODULE$.SPARK_VERSION()
            + ", Hadoop "
            + org.apache.hadoop.util.VersionInfo.getVersion()
            + ", Java "
            + System.getProperty("java.version")
            + "\n",
        r.out());
  }

  @Test
  void everySubCommandHelpHasExamplesAndDescribedArguments() {
    for (String command :
        new String[] {"inspect", "verify", "convert", "diff", "synth", "completion"}) {
      CliRunner r = CliRunner.run(command, "--help");
      assertEquals(0, r.exitCode(), command + ": " + r.err());
      assertTrue(r.out().contains("Examples:\n  rebundle " + command), command + ":\n" + r.out());
    }
    String diff = CliRunner.run("diff", "--help").out();
    assertTrue(diff.matches("(?s).*\\n\\s+A\\s+The first checkpoint.*"), diff);
    assertTrue(diff.matches("(?s).*\\n\\s+B\\s+The second checkpoint.*"), diff);
    String convert = CliRunner.run("convert", "--help").out();
    assertTrue(
        convert.matches("(?s).*\\n\\s+DST\\s+The output: a prefix, or a model directory.*"),
        convert);
  }

  @Test
  void completionIsAGeneratedBashScriptCoveringCommandsAndOptions() {
    CliRunner r = CliRunner.run("completion");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().startsWith("#!/usr/bin/env bash"), r.out());
    assertTrue(
        r.out().contains("complete -F _complete_rebundle"),
        r.out().lines().filter(l -> l.contains("complete ")).toList().toString());
    for (String word :
        new String[] {
          "inspect", "verify", "convert", "diff", "--all-checkpoints", "--reuse-files"
        }) {
      assertTrue(r.out().contains(word), word);
    }
  }

  @Test
  void quietSilencesWarningsAndVerboseAddsStackTraces() throws Exception {
    // A model directory whose state file names a moved absolute path: the locator warns.
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    for (String suffix : new String[] {".index", ".data-00000-of-00001"}) {
      Files.copy(Path.of(CliRunner.example("tf1-ckpt") + suffix), model.resolve("ckpt-1" + suffix));
    }
    Files.writeString(
        model.resolve("checkpoint"), "model_checkpoint_path: \"/gone/elsewhere/ckpt-1\"\n");
    CliRunner loud = CliRunner.run("inspect", model.toString());
    assertEquals(0, loud.exitCode(), loud.err());
    assertTrue(loud.err().startsWith("rebundle: warning: The checkpoint state file "), loud.err());
    CliRunner quiet = CliRunner.run("-q", "inspect", model.toString());
    assertEquals("", quiet.err());
    assertEquals(loud.out(), quiet.out());
    CliRunner quietAfter = CliRunner.run("inspect", "-q", model.toString());
    assertEquals("", quietAfter.err());

    CliRunner missing = CliRunner.run("inspect", dir.resolve("nope").toString());
    assertEquals(4, missing.exitCode());
    assertEquals(1, missing.err().lines().count(), missing.err());
    CliRunner verbose = CliRunner.run("--verbose", "inspect", dir.resolve("nope").toString());
    assertEquals(4, verbose.exitCode());
    assertEquals(missing.err().lines().findFirst().get(), verbose.err().lines().findFirst().get());
    assertTrue(verbose.err().contains("\tat io.rebundle."), verbose.err());
  }

  @Test
  void aClusterThatRemovesTheApplicationExitsFourWithOneLine() {
    // What Spark's scheduler throws at a job whose context the cluster stopped.
    Exception ex =
        new org.apache.spark.SparkException(
            "Job 3 cancelled because SparkContext was shut down\n"
                + "\tat org.apache.spark.scheduler.DAGScheduler...");
    Exception wrapped = new RuntimeException("convert failed", ex);
    assertEquals(ExitCodes.STORAGE, Main.exitCodeFor(wrapped));
    assertEquals(
        "Cannot finish: the cluster removed the application (convert failed); see the cluster's and the "
            + "workers' logs",
        ClusterFailure.message(wrapped));
    assertEquals(
        ExitCodes.STORAGE,
        Main.exitCodeFor(
            new IllegalStateException("Cannot call methods on a stopped SparkContext.")));
    assertEquals(ExitCodes.INTERNAL, Main.exitCodeFor(new IllegalStateException("something else")));
  }
}
