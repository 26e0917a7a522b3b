"""Example Airflow DAG: migrate a fleet of TF1 model directories to TF2 with Rebundle.

One task per model directory, run through ./submit.sh on a Spark cluster (or embedded when
REBUNDLE_MASTER is empty). Reruns are idempotent: a model whose output already verifies is skipped,
and a half-written output never exists (Rebundle writes the index last), so a retried task simply
converts again with --overwrite.

Exit codes mapped to Airflow outcomes: 0 success; 3 (corrupt or unsupported input) and 2 (usage)
fail without retry; 4 (storage) and 70 (internal) fail and are retried.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.operators.python import PythonOperator

import os
import subprocess

REBUNDLE = os.environ.get("REBUNDLE_HOME", "/opt/rebundle") + "/submit.sh"
MASTER = os.environ.get("REBUNDLE_MASTER", "yarn")
MODELS = [  # source model directory -> output prefix
    ("hdfs:///models/ranker/v7", "hdfs:///models-tf2/ranker/v7/ckpt-1"),
    ("hdfs:///models/bert-base/2021-04", "hdfs:///models-tf2/bert-base/2021-04/ckpt-1"),
]


def run(args):
    return subprocess.run([REBUNDLE, *args], capture_output=True, text=True)


def migrate(source, destination, **_):
    done = run(["verify", "--json", destination])
    if done.returncode == 0:
        print(f"{destination} already converted and verified; skipping")
        return
    master = ["--master", MASTER] if MASTER else []
    result = run(["convert", "--to", "tf2", "--overwrite", "--report", "/tmp/rebundle-report.json",
                  *master, source, destination])
    print(result.stdout)
    if result.returncode in (2, 3):
        raise AirflowFailException(result.stderr)  # bad input: retrying cannot help
    result.check_returncode()


with DAG(
    dag_id="rebundle_fleet_migration",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    max_active_tasks=4,
) as dag:
    for i, (src, dst) in enumerate(MODELS):
        PythonOperator(task_id=f"migrate_{i}", python_callable=migrate,
                       op_kwargs={"source": src, "destination": dst})
