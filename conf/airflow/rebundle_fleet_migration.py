"""Airflow DAG: migrate a fleet of TensorFlow checkpoints with Rebundle's `batch` command.

Shape (Apache Spark provider, Airflow 2.4+):

    discover  --->  migrate[0] ... migrate[N-1]

* `discover` runs `batch --discover SOURCE_ROOT --dst-root DEST_ROOT --to tf2 --write-manifest M`:
  it lists every checkpoint under SOURCE_ROOT (model directories, SavedModels, bare prefixes) and
  writes the manifest M, one row per checkpoint, mapped to the same relative path under DEST_ROOT.
* `migrate` is one mapped task per manifest shard (`partial(...).expand(application_args=...)`):
  `batch M --shard I/N` runs every N-th row in one Spark application. Rows are idempotent (a row
  whose success record matches its source, spec and output is skipped, reading only indexes), so
  retries and reruns of the whole DAG are safe and cheap. `max_active_tis_per_dag` bounds how many
  shards run at once.

Each task is a SparkSubmitOperator running the thin application jar
(jobs/target/rebundle-jobs-<version>-spark.jar, built by `mvn package`) with main class
io.rebundle.jobs.cli.Main; the connection `REBUNDLE_SPARK_CONN` (default `spark_default`) says
where Spark runs:

* YARN: connection host `yarn`, extra `{"deploy-mode": "cluster"}`; locations hdfs://...
* Kubernetes: connection host `k8s://https://<api-server>:443`, extra
  `{"deploy-mode": "cluster", "namespace": "..."}`, and REBUNDLE_SPARK_CONF with
  `spark.kubernetes.container.image=<image with Spark 4 and the jar>`; the jar path is then a
  `local:///...` path inside the image (REBUNDLE_JAR).
* Dataproc: the same `application_args` (see `discover_args` / `migrate_args`) go into a
  DataprocSubmitJobOperator job `{"spark_job": {"main_class": MAIN_CLASS, "jar_file_uris":
  ["gs://.../rebundle-jobs-<version>-spark.jar"], "args": [...]}}`; Dataproc images include the
  gs:// connector.

Exit codes: 0 every row converted or skipped; 1 some rows failed (the report and the results log
name them; a retry redoes only those); 2 bad manifest or options (nothing ran).

tests: jobs/src/test/java/io/rebundle/jobs/batch/AirflowDagTest.java compiles this file, builds its
arguments without Airflow, and parses them with the real command line.
"""
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

# What the build produces (the test checks both against the poms and Main).
MAIN_CLASS = "io.rebundle.jobs.cli.Main"
VERSION = "0.1.0-SNAPSHOT"
JAR_NAME = f"rebundle-jobs-{VERSION}-spark.jar"

REBUNDLE_HOME = os.environ.get("REBUNDLE_HOME", "/opt/rebundle")
REBUNDLE_JAR = os.environ.get("REBUNDLE_JAR", f"{REBUNDLE_HOME}/jobs/target/{JAR_NAME}")
SPARK_CONN = os.environ.get("REBUNDLE_SPARK_CONN", "spark_default")
SOURCE_ROOT = os.environ.get("REBUNDLE_SOURCE_ROOT", "hdfs:///models")
DEST_ROOT = os.environ.get("REBUNDLE_DEST_ROOT", "hdfs:///models-tf2")
WORK_DIR = os.environ.get("REBUNDLE_WORK_DIR", "hdfs:///rebundle/fleet")
SHARDS = int(os.environ.get("REBUNDLE_SHARDS", "8"))
PARALLEL_ROWS = int(os.environ.get("REBUNDLE_PARALLEL", "16"))
MAX_ACTIVE_SHARDS = int(os.environ.get("REBUNDLE_MAX_ACTIVE_SHARDS", "4"))
SPARK_CONF = dict(
    item.split("=", 1)
    for item in os.environ.get("REBUNDLE_SPARK_CONF", "spark.executor.memory=4g").split(",")
    if "=" in item
)

MANIFEST = f"{WORK_DIR}/manifest.jsonl"


def discover_args(source_root, dest_root, manifest):
    """`batch --discover`: list the fleet and write its manifest (runs nothing else)."""
    return ["batch", "--discover", source_root, "--dst-root", dest_root, "--to", "tf2",
            "--write-manifest", manifest]


def migrate_args(manifest, shard, shards, work_dir):
    """`batch MANIFEST --shard I/N`: run one shard of the manifest, with its report and results log."""
    return ["batch", manifest, "--shard", f"{shard}/{shards}", "--parallel", str(PARALLEL_ROWS),
            "--report", f"{work_dir}/reports/shard-{shard:05d}-of-{shards:05d}.json",
            "--log-dir", f"{work_dir}/results"]


with DAG(
    dag_id="rebundle_fleet_migration",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2)},
    tags=["rebundle"],
) as dag:
    discover = SparkSubmitOperator(
        task_id="discover",
        conn_id=SPARK_CONN,
        application=REBUNDLE_JAR,
        java_class=MAIN_CLASS,
        name="rebundle-discover",
        conf=SPARK_CONF,
        application_args=discover_args(SOURCE_ROOT, DEST_ROOT, MANIFEST),
    )

    migrate = SparkSubmitOperator.partial(
        task_id="migrate",
        conn_id=SPARK_CONN,
        application=REBUNDLE_JAR,
        java_class=MAIN_CLASS,
        name="rebundle-batch",
        conf=SPARK_CONF,
        max_active_tis_per_dag=MAX_ACTIVE_SHARDS,
    ).expand(application_args=[migrate_args(MANIFEST, i, SHARDS, WORK_DIR) for i in range(SHARDS)])

    discover >> migrate
