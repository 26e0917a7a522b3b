package io.rebundle.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.rebundle.codec.bundle.CheckpointWriter;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.Tensor;
import io.rebundle.codec.bundle.TensorShape;
import io.rebundle.codec.io.LocalFileIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * A real Spark standalone cluster on 127.0.0.1: a master and two workers (1 core, 1 GiB each), each
 * in its own JVM, started from the Maven test classpath through a {@code SPARK_HOME} that holds
 * only {@code jars/} (docs/stack-notes.md). A conversion goes through {@code submit.sh}
 * (spark-submit with the thin {@code -spark.jar}), one worker is killed with SIGKILL while the job
 * runs, the job finishes on the other, and the output is byte-identical to an embedded run of the
 * same conversion.
 *
 * <p>The cluster's {@code jars/} holds protobuf-java 3.21.9 instead of the 4.x our code is
 * generated for, as an older Spark installation would: the conversion works only because the
 * spark-submit jar carries its own relocated protobuf. Runs in failsafe (it needs the jar built at
 * {@code package}). Every process it starts is killed in {@link #stopCluster()}, by the handles
 * recorded here.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  private static final int TENSORS = 8;
  private static final int TENSOR_BYTES = 40 << 20;
  private static final Duration STARTUP = Duration.ofSeconds(60);

  /**
   * Start-up options for every JVM of the test (daemons, driver, executors): C1 only and the serial
   * collector cut the CPU the many JVM starts need on a 2-core machine; none of them changes
   * behaviour.
   */
  private static final String FAST_START = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

  private static final Pattern RUNNING_TASK =
      Pattern.compile("Running task (\\d+)\\.(\\d+) in stage");

  /** Jars of the test classpath that are ours or the test framework's, not Spark's. */
  private static final List<String> NOT_SPARK =
      List.of(
          "rebundle-",
          "picocli-",
          "protobuf-java-",
          "junit-",
          "opentest4j-",
          "apiguardian-",
          "hadoop-client-minicluster-",
          "surefire",
          "failsafe",
          "common-java5-");

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final List<ProcessHandle> started = new ArrayList<>();
  private static Path work;
  private static Path sparkHome;
  private static Path logs;
  private static int masterPort;
  private static int masterUiPort;
  private static Process[] workers;
  private static Path[] workerDirs;

  @BeforeAll
  static void startCluster() throws Exception {
    long t0 = System.nanoTime();
    Runtime.getRuntime().addShutdownHook(new Thread(StandaloneClusterIT::killAll));
    work = Path.of("target", "cluster-it").toAbsolutePath();
    deleteRecursively(work);
    logs = Files.createDirectories(work.resolve("logs"));
    sparkHome = makeSparkHome(work.resolve("spark"));

    masterPort = freePort();
    masterUiPort = freePort();
    start(
        "master",
        List.of("-Dspark.master.rest.enabled=false"),
        "org.apache.spark.deploy.master.Master",
        "--host",
        "127.0.0.1",
        "--port",
        String.valueOf(masterPort),
        "--webui-port",
        String.valueOf(masterUiPort));
    // Meanwhile, the source checkpoint: 8 tensors of 40 MiB, one per output shard.
    writeSourceCheckpoint(work.resolve("src"));
    // Workers that find no master retry only after 5-15 s: start them once it is up.
    await("the master", STARTUP, () -> masterJson().contains("\"status\" : \"ALIVE\""));
    workers = new Process[2];
    workerDirs = new Path[2];
    for (int i = 0; i < 2; i++) {
      workerDirs[i] = Files.createDirectories(work.resolve("worker-" + (i + 1)));
      workers[i] =
          start(
              "worker-" + (i + 1),
              List.of(),
              "org.apache.spark.deploy.worker.Worker",
              "--host",
              "127.0.0.1",
              "--port",
              "0",
              "--webui-port",
              String.valueOf(freePort()),
              "--cores",
              "1",
              "--memory",
              "1g",
              "--work-dir",
              workerDirs[i].toString(),
              "spark://127.0.0.1:" + masterPort);
    }
    await(
        "two workers registered with the master",
        STARTUP,
        () -> masterJson().contains("\"aliveworkers\" : 2"));
    log("cluster up and source checkpoint written in %.1f s", seconds(t0));
  }

  @AfterAll
  static void stopCluster() throws IOException {
    killAll();
    // The checkpoints are ~1 GB; the logs (and the workers' executor logs) stay for diagnosis.
    for (String d : List.of("src", "embedded", "cluster")) {
      if (work != null) {
        deleteRecursively(work.resolve(d));
      }
    }
  }

  /**
   * With both workers alive, the eight equal shard tasks split evenly between them (Scale section
   * of the README): each worker runs four, and the output equals an embedded run's.
   */
  @Test
  @Order(1)
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void splitsTheWorkEvenlyBetweenTwoWorkers() throws Exception {
    long t0 = System.nanoTime();
    Process cluster =
        submit(
            "balanced",
            Map.of("SPARK_HOME", sparkHome.toString()),
            "convert",
            "--to",
            "tf2",
            "--shards",
            String.valueOf(TENSORS),
            "src/ckpt",
            "balanced/ckpt",
            "--master",
            "spark://127.0.0.1:" + masterPort,
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.executor.extraJavaOptions=" + FAST_START,
            "--conf",
            "spark.cores.max=2",
            "--conf",
            "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf",
            "spark.scheduler.maxRegisteredResourcesWaitingTime=120s");
    assertTrue(cluster.waitFor(120, TimeUnit.SECONDS), "cluster run did not finish");
    assertEquals(
        0, cluster.exitValue(), () -> "cluster run failed:\n" + read(logs.resolve("balanced.err")));
    Set<String> ran0 = tasksRun(workerDirs[0]);
    Set<String> ran1 = tasksRun(workerDirs[1]);
    log(
        "balanced run took %.1f s: worker-1 ran %d tasks %s, worker-2 ran %d tasks %s (%d MiB each)",
        seconds(t0), ran0.size(), ran0, ran1.size(), ran1, TENSOR_BYTES >> 20);
    assertEquals(TENSORS, ran0.size() + ran1.size(), "one task per shard, none retried");
    assertTrue(Math.abs(ran0.size() - ran1.size()) <= 2, "uneven split: " + ran0 + " vs " + ran1);
    try (Stream<Path> s = Files.walk(work)) {
      s.filter(p -> p.getFileName().toString().equals("stderr")).forEach(earlierLogs::add);
    }
    deleteRecursively(work.resolve("balanced"));
  }

  @Test
  @Order(2)
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void convertsOnTwoWorkersSurvivesKilledWorkerAndMatchesEmbeddedRun() throws Exception {
    // Relative SRC and DST, resolved against the driver's working directory (not the executors').
    long t0 = System.nanoTime();
    Process embedded =
        submit(
            "embedded",
            Map.of("REBUNDLE_EMBEDDED", "1"),
            "convert",
            "--to",
            "tf2",
            "--shards",
            String.valueOf(TENSORS),
            "src/ckpt",
            "embedded/ckpt");
    assertEquals(
        0, embedded.waitFor(), () -> "embedded run failed:\n" + read(logs.resolve("embedded.err")));
    log("embedded run took %.1f s", seconds(t0));
    long t1 = System.nanoTime();

    Process cluster =
        submit(
            "cluster",
            Map.of("SPARK_HOME", sparkHome.toString()),
            "convert",
            "--to",
            "tf2",
            "--shards",
            String.valueOf(TENSORS),
            "src/ckpt",
            "cluster/ckpt",
            "--master",
            "spark://127.0.0.1:" + masterPort,
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            "spark.executor.extraJavaOptions=" + FAST_START,
            // Schedule only once both executors are up, so both take tasks from the start.
            "--conf",
            "spark.cores.max=2",
            "--conf",
            "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf",
            "spark.scheduler.maxRegisteredResourcesWaitingTime=120s");

    // The job has started once a task writes its attempt file into the staging directory.
    Path output = work.resolve("cluster");
    await(
        "a task attempt file in " + output + "/.rebundle-staging-*",
        STARTUP,
        () ->
            !cluster.isAlive()
                || stagingFiles(output)
                    .anyMatch(p -> p.getFileName().toString().startsWith("shard-")));
    assertTrue(
        cluster.isAlive(),
        () -> "cluster run ended before its tasks started:\n" + read(logs.resolve("cluster.err")));
    await(
        "tasks running on both workers' executors",
        Duration.ofSeconds(10),
        () -> !tasksRun(workerDirs[0]).isEmpty() && !tasksRun(workerDirs[1]).isEmpty());
    log("tasks running on both workers %.1f s after submit", seconds(t1));
    Set<String> beforeKill0 = tasksRun(workerDirs[0]);
    Set<String> beforeKill1 = tasksRun(workerDirs[1]);
    assertFalse(
        Files.exists(output.resolve("ckpt.index")),
        "job finished before the kill; make the checkpoint bigger");

    // SIGKILL worker 2: its executor loses its worker and exits; its running task is rerun on
    // worker 1.
    List<ProcessHandle> killedChildren = workers[1].toHandle().descendants().toList();
    assertFalse(killedChildren.isEmpty(), "worker-2 runs an executor");
    started.addAll(killedChildren);
    workers[1].destroyForcibly();
    workers[1].waitFor(10, TimeUnit.SECONDS);
    boolean finishedBeforeKill = Files.exists(output.resolve("ckpt.index"));

    long t2 = System.nanoTime();
    assertTrue(cluster.waitFor(120, TimeUnit.SECONDS), "cluster run did not finish");
    log("cluster run took %.1f s, %.1f s of it after the kill", seconds(t1), seconds(t2));
    String driverLog = read(logs.resolve("cluster.err"));
    assertEquals(0, cluster.exitValue(), () -> "cluster run failed:\n" + driverLog);
    // The driver names the application at start, for finding it in the master's UI and logs.
    assertTrue(
        Pattern.compile(
                "rebundle: Spark application app-\\S+ on spark://127\\.0\\.0\\.1:\\d+, no UI "
                    + "\\(spark\\.ui\\.enabled=false\\)")
            .matcher(driverLog)
            .find(),
        () -> "no application line:\n" + driverLog);
    assertFalse(finishedBeforeKill, "job finished before the kill took effect");
    assertTrue(
        Pattern.compile("Lost (an )?executor").matcher(driverLog).find(),
        () -> "the driver never saw the killed worker's executor go:\n" + driverLog);
    // The killed worker's executor notices its worker is gone and exits (no orphan JVM).
    await(
        "the killed worker's executor to exit",
        Duration.ofSeconds(20),
        () -> killedChildren.stream().noneMatch(ProcessHandle::isAlive));

    Set<String> all0 = tasksRun(workerDirs[0]);
    Set<String> all1 = tasksRun(workerDirs[1]);
    log(
        "before the kill worker-1 ran %s, worker-2 ran %s; in all worker-1 ran %s, worker-2 ran %s (task.attempt)",
        beforeKill0, beforeKill1, all0, all1);
    assertTrue(all0.size() > beforeKill0.size(), "the surviving worker took the rest of the work");
    Set<String> shardsDone = new TreeSet<>();
    Stream.concat(all0.stream(), all1.stream())
        .forEach(t -> shardsDone.add(t.substring(0, t.indexOf('.'))));
    assertEquals(TENSORS, shardsDone.size(), "every shard's task ran somewhere: " + shardsDone);

    assertSameFiles(work.resolve("embedded"), output);
    assertEquals(List.of(), stagingFiles(output).toList(), "staging directory removed");
  }

  @Test
  void sparkJarBundlesCodecPicocliAndRelocatedProtobufButNoSparkHadoopOrScala() throws IOException {
    Path jar = Path.of(System.getProperty("rebundle.spark.jar", "missing"));
    List<String> entries;
    try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
      entries = f.stream().map(java.util.zip.ZipEntry::getName).toList();
      assertEquals(
          "io.rebundle.jobs.cli.Main", f.getManifest().getMainAttributes().getValue("Main-Class"));
    }
    for (String banned :
        List.of(
            "org/apache/spark/",
            "org/apache/hadoop/",
            "scala/",
            "com/google/protobuf/",
            "google/protobuf/")) {
      assertEquals(
          List.of(), entries.stream().filter(e -> e.startsWith(banned)).limit(5).toList(), banned);
    }
    for (String wanted :
        List.of(
            "io/rebundle/jobs/cli/Main.class",
            "io/rebundle/codec/bundle/CheckpointReader.class",
            "picocli/CommandLine.class",
            "io/rebundle/shaded/protobuf/GeneratedMessage.class")) {
      assertTrue(entries.contains(wanted), wanted);
    }
    assertTrue(Files.size(jar) < 10 << 20, "thin: " + Files.size(jar) + " bytes");
  }

  private static void log(String format, Object... args) {
    System.out.println("StandaloneClusterIT: " + String.format(format, args));
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static void assertSameFiles(Path expectedDir, Path actualDir) throws IOException {
    List<String> expected = names(expectedDir);
    assertEquals(TENSORS + 2, expected.size(), "index, data files and state file: " + expected);
    assertEquals(expected, names(actualDir));
    for (String name : expected) {
      assertEquals(
          -1L,
          Files.mismatch(expectedDir.resolve(name), actualDir.resolve(name)),
          () -> name + " differs between the embedded and the cluster run");
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Stream<Path> stagingFiles(Path output) {
    try (Stream<Path> dirs = Files.list(output)) {
      List<Path> files = new ArrayList<>();
      for (Path d :
          dirs.filter(p -> p.getFileName().toString().startsWith(".rebundle-staging-")).toList()) {
        try (Stream<Path> s = Files.list(d)) {
          files.addAll(s.toList());
        }
      }
      return files.stream();
    } catch (IOException e) {
      return Stream.of(); // the staging directory is being created or removed
    }
  }

  /**
   * "task.attempt" of every task a worker's executors logged as running (executor stderr, INFO).
   */
  /** Executor logs of earlier applications, left out when counting the tasks of the current one. */
  private static final Set<Path> earlierLogs = new java.util.HashSet<>();

  private static Set<String> tasksRun(Path workerDir) {
    Set<String> tasks = new TreeSet<>();
    try (Stream<Path> s = Files.walk(workerDir)) {
      for (Path log :
          s.filter(p -> p.getFileName().toString().equals("stderr") && !earlierLogs.contains(p))
              .toList()) {
        Matcher m = RUNNING_TASK.matcher(read(log));
        while (m.find()) {
          tasks.add(m.group(1) + "." + m.group(2));
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // An executor directory appearing while we walk: try again on the next poll.
    }
    return tasks;
  }

  private static void writeSourceCheckpoint(Path dir) throws IOException {
    Files.createDirectories(dir);
    byte[] data = new byte[TENSOR_BYTES];
    java.nio.LongBuffer longs = java.nio.ByteBuffer.wrap(data).asLongBuffer();
    try (CheckpointWriter w =
        CheckpointWriter.create(new LocalFileIO(), dir.resolve("ckpt").toString())) {
      for (int i = 0; i < TENSORS; i++) {
        // Different bytes everywhere (a misplaced range shows), cheaper than Random on a busy
        // machine.
        SplittableRandom random = new SplittableRandom(i);
        longs.clear();
        while (longs.hasRemaining()) {
          longs.put(random.nextLong());
        }
        w.add(
            "layer_" + i + "/kernel",
            Tensor.of(DType.FLOAT, TensorShape.of(TENSOR_BYTES / 4), data));
      }
      w.finish();
    }
  }

  /** Runs submit.sh in {@code work} (relative paths), output to logs/NAME.out and logs/NAME.err. */
  private static Process submit(String name, Map<String, String> env, String... args)
      throws IOException {
    Path script = repoRoot().resolve("submit.sh");
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(logs.resolve(name + ".out").toFile())
            .redirectError(logs.resolve(name + ".err").toFile());
    pb.environment().remove("SPARK_HOME");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    // Never let the test start a Maven build of the tree it is testing: the jars come from
    // `package`.
    pb.environment().put("REBUNDLE_NO_BUILD", "1");
    pb.environment().put("REBUNDLE_JAVA_OPTS", FAST_START);
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p.toHandle());
    return p;
  }

  /** Starts a Spark daemon JVM from SPARK_HOME/jars, output to logs/NAME.log. */
  private static Process start(
      String name, List<String> jvmOptions, String mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags());
    command.add("-Xmx256m");
    command.addAll(List.of(FAST_START.split(" ")));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", sparkHome.resolve("jars") + "/*", mainClass));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(logs.resolve(name + ".log").toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", sparkHome.toString()); // workers launch executors from SPARK_HOME/jars
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    // bin/load-spark-env.sh sets this in a distribution; without it the executor launcher looks for
    // a
    // source build ("Cannot find any build directories").
    env.put("SPARK_SCALA_VERSION", "2.13");
    Process p = pb.start();
    started.add(p.toHandle());
    return p;
  }

  private static List<String> jvmFlags() {
    String flags = System.getProperty("rebundle.jvm.flags", "-XX:+IgnoreUnrecognizedVMOptions");
    return Arrays.stream(flags.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * SPARK_HOME/jars: symlinks to the Spark, Hadoop, Scala, ... jars of this test JVM's classpath,
   * and an old protobuf-java in place of ours.
   */
  private static Path makeSparkHome(Path home) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    int linked = 0;
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path jar = Path.of(entry);
      String name = jar.getFileName().toString();
      if (!name.endsWith(".jar")
          || !Files.isRegularFile(jar)
          || NOT_SPARK.stream().anyMatch(name::startsWith)
          || Files.exists(jars.resolve(name))) {
        continue;
      }
      Files.createSymbolicLink(jars.resolve(name), jar.toAbsolutePath());
      linked++;
    }
    assertTrue(
        Files.exists(jars.resolve(sparkCoreJarName())),
        "spark-core on the test classpath, linked " + linked);
    Path oldProtobuf = Path.of(System.getProperty("rebundle.old.protobuf.jar", "missing"));
    assertTrue(
        Files.isRegularFile(oldProtobuf), "old protobuf-java copied by the build: " + oldProtobuf);
    Files.createSymbolicLink(jars.resolve(oldProtobuf.getFileName()), oldProtobuf);
    return home;
  }

  private static String sparkCoreJarName() {
    return Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .map(e -> Path.of(e).getFileName().toString())
        .filter(n -> n.startsWith("spark-core_"))
        .findFirst()
        .orElse("spark-core_2.13 (not on the classpath)");
  }

  private static String masterJson() {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail(
            "Timed out after "
                + timeout.toSeconds()
                + " s waiting for "
                + what
                + "; logs in "
                + logs
                + "\n"
                + tailOfLogs());
      }
      Thread.sleep(10);
    }
  }

  private static String tailOfLogs() {
    try (Stream<Path> s = Files.list(logs)) {
      return s.sorted()
          .map(
              p -> {
                String text = read(p);
                return "== "
                    + p.getFileName()
                    + "\n"
                    + text.substring(Math.max(0, text.length() - 3000));
              })
          .collect(Collectors.joining("\n"));
    } catch (IOException e) {
      return "";
    }
  }

  /** Kills every process this class started, and their children (executors), by recorded handle. */
  private static synchronized void killAll() {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle p : started) {
      all.addAll(p.descendants().toList());
      all.add(p);
    }
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // Already gone, or not ours to wait for any longer.
      }
    }
    started.clear();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Path repoRoot() {
    return Optional.ofNullable(System.getProperty("rebundle.repo.root"))
        .map(Path::of)
        .orElse(Path.of(".."))
        .toAbsolutePath();
  }

  private static String read(Path p) {
    try {
      return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
