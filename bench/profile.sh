#!/usr/bin/env bash
# Records a JFR profile of one Rebundle command (any bench/run.sh row), so the next person can see
# where the time goes. See README.md "Performance".
#
#   bench/profile.sh OUT.jfr -- verify /tmp/rebundle-bench/8g/src/ckpt
#   bench/profile.sh OUT.jfr -- convert SRC DST --to tf2 --shards 4 --no-state-file
#
# Everything after "--" is passed to submit.sh. The profile uses JFR's "profile" settings (method
# samples every 10 ms, allocation and I/O events); open it with `jfr print --events
# jdk.ExecutionSample OUT.jfr | less`, `jfr summary OUT.jfr` or JDK Mission Control.
# BENCH_HEAP (default -Xmx512m) is the heap, as in bench/run.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if (($# < 3)) || [[ "$2" != "--" ]]; then
  echo "usage: bench/profile.sh OUT.jfr -- SUBMIT_ARGS..." >&2
  exit 2
fi
OUT="$(realpath -m "$1")"
shift 2
export REBUNDLE_JAVA_OPTS="${REBUNDLE_JAVA_OPTS:-} ${BENCH_HEAP:--Xmx512m} -XX:StartFlightRecording=settings=profile,filename=$OUT,dumponexit=true"
"$ROOT/submit.sh" "$@"
echo "profile: $OUT (jfr summary $OUT)" >&2
