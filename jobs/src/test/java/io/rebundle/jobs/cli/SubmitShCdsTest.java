package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * submit.sh's class-data sharing archive, on a copy of the launcher whose jars are this build's
 * classes and class path: the archive is dumped in the background on first use, it is a static
 * archive that holds picocli (the JVM maps it with {@code -Xshare:on} and loads picocli and the
 * command from it), it is refreshed when the jar changes, REBUNDLE_CDS=0 and a class path with
 * HADOOP_CONF_DIR in front go without it, a broken archive is harmless, and concurrent first runs
 * all succeed with one archive left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SubmitShCdsTest {
  @TempDir static Path root;
  private Path target;
  private Path jar;
  private Path archive;

  @BeforeAll
  void launcherWithThisBuildsJars() throws Exception {
    Path repo = CliRunner.repo().toAbsolutePath();
    Files.copy(repo.resolve("submit.sh"), root.resolve("submit.sh"));
    root.resolve("submit.sh").toFile().setExecutable(true);
    Files.createDirectories(root.resolve("conf/examples"));
    for (String f : List.of("log4j2.properties", "spark-defaults.conf")) {
      Files.copy(repo.resolve("conf").resolve(f), root.resolve("conf").resolve(f));
    }
    for (String f : List.of("tf1-ckpt.index", "tf1-ckpt.data-00000-of-00001")) {
      Files.copy(
          repo.resolve("conf/examples").resolve(f), root.resolve("conf/examples").resolve(f));
    }
    target = Files.createDirectories(root.resolve("jobs/target"));
    jar = target.resolve("rebundle-jobs-0.0.0-test.jar");
    archive = target.resolve("rebundle.jsa");
    // The class path as the build writes it, with class directories made jars (CDS maps jars).
    Path jobsClasses =
        Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    copyOrJar(jobsClasses, jar);
    List<String> cp = new ArrayList<>();
    int n = 0;
    for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path p = Path.of(e);
      if (p.equals(jobsClasses) || !Files.exists(p)) {
        continue;
      }
      if (Files.isDirectory(p)) {
        if (!Files.exists(p.resolve("io/rebundle/codec"))) {
          continue; // test classes: not part of a run
        }
        Path made = target.resolve("dep-" + n++ + ".jar");
        copyOrJar(p, made);
        p = made;
      }
      cp.add(p.toString());
    }
    Files.writeString(target.resolve("runtime-classpath.txt"), String.join(":", cp));
    Files.writeString(target.resolve("jvm-flags.txt"), "-XX:+IgnoreUnrecognizedVMOptions\n");
    Files.writeString(target.resolve("rebundle-jobs-0.0.0-test-spark.jar"), "");
    Files.writeString(target.resolve("build.stamp"), "");
  }

  @Test
  @Order(1)
  void theFirstRunDumpsAStaticArchiveThatHoldsPicocliAndTheCommand() throws Exception {
    Run first = submit(Map.of(), "inspect", example());
    assertEquals(0, first.code, first.err);
    assertTrue(first.out.contains("scoped/c  float32"), first.out);
    awaitArchive();
    Path log = root.resolve("shared.log");
    Run shared =
        submit(Map.of("REBUNDLE_JAVA_OPTS", "-Xshare:on " + classLog(log)), "inspect", example());
    // -Xshare:on: a JVM that cannot map the archive does not start.
    assertEquals(0, shared.code, shared.err);
    assertEquals(first.out, shared.out);
    List<String> lines = Files.readAllLines(log);
    assertTrue(lines.contains("picocli.CommandLine source: shared objects file"), sample(lines));
    assertTrue(
        lines.contains("io.rebundle.jobs.cli.InspectCommand source: shared objects file"),
        sample(lines));
    assertEquals(List.of(), fromJars(lines), "classes inspect loaded from jars, not the archive");
    // Mapped where it was made for, not relocated at every start (Java 17 updates' default).
    Path cds = root.resolve("cds.log");
    Run mapped = submit(Map.of("REBUNDLE_JAVA_OPTS", "-Xlog:cds=info:file=" + cds), "--version");
    assertEquals(0, mapped.code, mapped.err);
    String cdsLog = Files.readString(cds);
    assertTrue(cdsLog.contains("Opened archive " + archive), cdsLog);
    assertFalse(cdsLog.contains("ArchiveRelocationMode == 1"), cdsLog);
  }

  @Test
  @Order(2)
  void withoutTheArchiveClassesComeFromTheJars() throws Exception {
    awaitArchive();
    Path off = root.resolve("off.log");
    Run r = submit(Map.of("REBUNDLE_CDS", "0", "REBUNDLE_JAVA_OPTS", classLog(off)), "--version");
    assertEquals(0, r.code, r.err);
    assertTrue(fromJars(Files.readAllLines(off)).contains("picocli.CommandLine"), r.out);
    // A class path with HADOOP_CONF_DIR in front is not the archive's: the run goes without it.
    Path conf = Files.createDirectories(root.resolve("hadoop-conf"));
    Path hadoop = root.resolve("hadoop.log");
    Run h =
        submit(
            Map.of("HADOOP_CONF_DIR", conf.toString(), "REBUNDLE_JAVA_OPTS", classLog(hadoop)),
            "inspect",
            example());
    assertEquals(0, h.code, h.err);
    assertTrue(fromJars(Files.readAllLines(hadoop)).contains("picocli.CommandLine"), h.err);
  }

  @Test
  @Order(3)
  void aNewerJarMakesANewArchive() throws Exception {
    awaitArchive();
    FileTime before = Files.getLastModifiedTime(archive);
    Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(2)));
    Thread.sleep(2100);
    Path log = root.resolve("stale.log");
    Run r = submit(Map.of("REBUNDLE_JAVA_OPTS", classLog(log)), "inspect", example());
    assertEquals(0, r.code, r.err);
    // The stale archive is not given to the JVM (it would refuse it anyway): classes from jars.
    assertTrue(fromJars(Files.readAllLines(log)).contains("picocli.CommandLine"), r.err);
    awaitArchive();
    assertTrue(Files.getLastModifiedTime(archive).compareTo(before) > 0, "archive remade");
    assertFalse(Files.getLastModifiedTime(jar).compareTo(Files.getLastModifiedTime(archive)) > 0);
    Run shared = submit(Map.of("REBUNDLE_JAVA_OPTS", "-Xshare:on"), "verify", example());
    assertEquals(0, shared.code, shared.err);
  }

  @Test
  @Order(4)
  void aBrokenArchiveIsHarmless() throws Exception {
    awaitArchive();
    Files.delete(archive);
    Files.write(archive, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    Run r = submit(Map.of(), "inspect", example());
    assertEquals(0, r.code, r.err);
    assertTrue(r.out.contains("scoped/c  float32"), r.out);
    assertEquals("", r.err);
  }

  @Test
  @Order(5)
  void concurrentFirstRunsAllSucceedWithOneArchiveLeft() throws Exception {
    Files.deleteIfExists(archive);
    List<Process> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      runs.add(start(Map.of(), "inspect", example()));
    }
    for (Process p : runs) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains("scoped/c  float32"), out);
    }
    awaitArchive();
    try (Stream<Path> s = Files.list(target)) {
      assertEquals(
          List.of("rebundle.jsa"),
          s.map(p -> p.getFileName().toString()).filter(n -> n.contains("jsa")).toList());
    }
    Run shared = submit(Map.of("REBUNDLE_JAVA_OPTS", "-Xshare:on"), "inspect", example());
    assertEquals(0, shared.code, shared.err);
  }

  private String example() {
    return root.resolve("conf/examples/tf1-ckpt").toString();
  }

  private static String classLog(Path log) {
    return "-Xlog:class+load=info:file=" + log + ":none";
  }

  private static List<String> fromJars(List<String> classLog) {
    return classLog.stream()
        .filter(l -> l.contains(" source: file:") || l.contains(" source: jar:"))
        .map(l -> l.substring(0, l.indexOf(' ')))
        .toList();
  }

  private static String sample(List<String> lines) {
    return lines.stream()
        .filter(l -> l.startsWith("picocli.") || l.contains("rebundle"))
        .limit(5)
        .toList()
        .toString();
  }

  /** Waits for the background dump: the archive present and no dump holding the lock. */
  private void awaitArchive() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (System.nanoTime() < deadline) {
      if (Files.exists(archive) && !Files.exists(target.resolve("rebundle.jsa.lock"))) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("no archive " + archive + " after 4 minutes");
  }

  private record Run(int code, String out, String err) {}

  private Run submit(Map<String, String> env, String... args) throws Exception {
    Path err = Files.createTempFile(root, "err", ".txt");
    Process p = start(env, err, args);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "submit.sh did not finish");
    return new Run(p.exitValue(), out, Files.readString(err));
  }

  private Process start(Map<String, String> env, String... args) throws IOException {
    return start(env, null, args);
  }

  private Process start(Map<String, String> env, Path err, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("bash", root.resolve("submit.sh").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
    if (err == null) {
      pb.redirectErrorStream(true);
    } else {
      pb.redirectError(err.toFile());
    }
    pb.environment().keySet().removeIf(k -> k.startsWith("REBUNDLE_") || k.equals("SPARK_HOME"));
    pb.environment().remove("HADOOP_CONF_DIR");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("REBUNDLE_NO_BUILD", "1");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Copies a jar, or writes a jar of a class directory. */
  private static void copyOrJar(Path from, Path to) throws IOException {
    if (!Files.isDirectory(from)) {
      Files.copy(from, to);
      return;
    }
    try (OutputStream o = Files.newOutputStream(to);
        JarOutputStream jar = new JarOutputStream(o);
        Stream<Path> files = Files.walk(from)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        jar.putNextEntry(new JarEntry(from.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, jar);
        jar.closeEntry();
      }
    }
  }
}
