package io.rebundle.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rebundle.jobs.TestCheckpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Keeps conf/airflow/rebundle_fleet_migration.py honest without Airflow (not installable here): it
 * compiles; run against stand-ins of the two Airflow modules it imports, it builds a discover task
 * and mapped migrate tasks whose exact application_args the real command line parses; and its class
 * and jar names are what the build produces.
 */
class AirflowDagTest {
  @TempDir Path dir;

  private static final Path DAG =
      TestCheckpoints.repo().resolve("conf/airflow/rebundle_fleet_migration.py");

  /** Stand-ins that record what the DAG file builds and print it as JSON. */
  private static final String AIRFLOW_STUB =
      """
      import json
      RECORDED = []

      class _Op:
          def __init__(self, kind, kwargs):
              self.kind, self.kwargs, self.downstream = kind, kwargs, []
              RECORDED.append(self)
          def __rshift__(self, other):
              self.downstream.append(other.kwargs["task_id"])
              return other

      class DAG:
          def __init__(self, **kwargs):
              self.kwargs = kwargs
              RECORDED.append(self)
          def __enter__(self):
              return self
          def __exit__(self, *exc):
              return False

      def dump():
          out = []
          for r in RECORDED:
              if isinstance(r, DAG):
                  out.append({"kind": "dag", "dag_id": r.kwargs["dag_id"],
                              "retries": r.kwargs.get("default_args", {}).get("retries")})
              else:
                  d = dict(r.kwargs)
                  d.pop("conf", None)
                  d["kind"], d["downstream"] = r.kind, r.downstream
                  out.append(d)
          print(json.dumps(out))
      """;

  private static final String OPERATOR_STUB =
      """
      import airflow

      class _Partial:
          def __init__(self, kwargs):
              self.kwargs = kwargs
          def expand(self, **mapped):
              kwargs = dict(self.kwargs)
              kwargs["expanded"] = mapped
              return airflow._Op("mapped", kwargs)

      class SparkSubmitOperator:
          def __new__(cls, **kwargs):
              return airflow._Op("task", kwargs)
          @classmethod
          def partial(cls, **kwargs):
              return _Partial(kwargs)
      """;

  @Test
  void dagCompiles() throws Exception {
    Result r =
        python(
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            DAG.toString(),
            dir.resolve("dag.pyc").toString());
    assertEquals(0, r.code(), r.output());
  }

  @Test
  void applicationArgumentsParseWithTheRealCommandLineAndNamesMatchTheBuild() throws Exception {
    Path stubs = dir.resolve("stubs");
    Path op = stubs.resolve("airflow/providers/apache/spark/operators");
    Files.createDirectories(op);
    Files.writeString(stubs.resolve("airflow/__init__.py"), AIRFLOW_STUB);
    for (Path p = op; !p.equals(stubs.resolve("airflow")); p = p.getParent()) {
      Files.writeString(p.resolve("__init__.py"), "");
    }
    Files.writeString(op.resolve("spark_submit.py"), OPERATOR_STUB);
    Result r =
        python(
            "import sys, runpy; sys.path.insert(0, sys.argv[1]); import airflow; "
                + "runpy.run_path(sys.argv[2]); airflow.dump()",
            stubs.toString(),
            DAG.toString());
    assertEquals(0, r.code(), r.output());
    JsonNode built = new ObjectMapper().readTree(r.output());

    JsonNode dag = built.get(0);
    assertEquals("rebundle_fleet_migration", dag.get("dag_id").asText());
    assertTrue(dag.get("retries").asInt() > 0, "retries: rows are idempotent, so retrying is safe");

    JsonNode discover = built.get(1);
    JsonNode migrate = built.get(2);
    assertEquals("discover", discover.get("task_id").asText());
    assertEquals(List.of("migrate"), strings(discover.get("downstream")));
    assertEquals("mapped", migrate.get("kind").asText());
    assertTrue(migrate.get("max_active_tis_per_dag").asInt() > 0);

    String version = projectVersion();
    for (JsonNode task : List.of(discover, migrate)) {
      assertEquals(Main.class.getName(), task.get("java_class").asText());
      String jar = Path.of(task.get("application").asText()).getFileName().toString();
      assertEquals("rebundle-jobs-" + version + "-" + shadedClassifier() + ".jar", jar);
    }

    List<List<String>> all = new ArrayList<>();
    all.add(strings(discover.get("application_args")));
    JsonNode mapped = migrate.get("expanded").get("application_args");
    assertTrue(mapped.size() > 1, "one mapped task per manifest shard");
    for (JsonNode args : mapped) {
      all.add(strings(args));
    }
    assertTrue(
        all.get(0).contains("--discover") && all.get(0).contains("--write-manifest"),
        all.get(0).toString());
    for (List<String> args : all) {
      CommandLine cl = Main.commandLine(CommandLine.defaultFactory());
      CommandLine.ParseResult parsed = cl.parseArgs(args.toArray(String[]::new));
      assertTrue(parsed.hasSubcommand(), args.toString());
      assertEquals("batch", parsed.subcommand().commandSpec().name(), args.toString());
    }
    // Each shard is its own I/N of the same N, and every shard is there once.
    List<String> shards = new ArrayList<>();
    for (List<String> args : all.subList(1, all.size())) {
      String s = args.get(args.indexOf("--shard") + 1);
      BatchCommand.parseShard(s);
      shards.add(s);
    }
    for (int i = 0; i < shards.size(); i++) {
      assertEquals(i + "/" + shards.size(), shards.get(i));
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The version in the parent pom (what jobs/target/rebundle-jobs-VERSION-spark.jar carries). */
  private static String projectVersion() throws IOException {
    String pom = Files.readString(TestCheckpoints.repo().resolve("pom.xml"));
    Matcher m =
        Pattern.compile("<artifactId>rebundle-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    assertTrue(m.find(), "no version in pom.xml");
    return m.group(1);
  }

  private static String shadedClassifier() throws IOException {
    String pom = Files.readString(TestCheckpoints.repo().resolve("jobs/pom.xml"));
    Matcher m =
        Pattern.compile("<shadedClassifierName>([^<]+)</shadedClassifierName>").matcher(pom);
    assertTrue(m.find(), "no shaded jar classifier in jobs/pom.xml");
    return m.group(1);
  }

  private record Result(int code, String output) {}

  private static Result python(String code, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("python3", "-B", "-c", code));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 did not finish");
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
  }
}
