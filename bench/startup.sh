#!/usr/bin/env bash
# Start-up of small commands through submit.sh: median wall time and median CPU time (user + system,
# from /usr/bin/time) of N runs each, for inspect, convert (auto and --engine local), --version and
# verify of conf/examples/tf1-ckpt. CPU time is the steadier figure on a shared machine.
#   bench/startup.sh [N]        (default 11; STARTUP_SUBMIT=path/to/submit.sh to time another checkout)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
N="${1:-11}"
SUBMIT="${STARTUP_SUBMIT:-$ROOT/submit.sh}"
EXAMPLE="$ROOT/conf/examples/tf1-ckpt"
[[ -x /usr/bin/time ]] || { echo "startup.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rebundle-startup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

RUNS=0
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# row LABEL COMMAND...: "DST" in the command is replaced by a fresh output path per run.
row() {
  local label="$1" r start end walls=() cpus=() args a
  shift
  "$SUBMIT" --version >/dev/null 2>&1 || true # a build or an archive dump is not timed
  for ((r = 0; r < N; r++)); do
    args=()
    RUNS=$((RUNS + 1))
    for a in "$@"; do [[ "$a" == DST ]] && args+=("$WORK/out$RUNS/ckpt") || args+=("$a"); done
    start=$(date +%s%N)
    /usr/bin/time -o "$WORK/time" -f '%U %S' "$SUBMIT" "${args[@]}" >/dev/null 2>"$WORK/err" ||
      { cat "$WORK/err" >&2; echo "startup.sh: $label failed" >&2; exit 1; }
    end=$(date +%s%N)
    walls+=($(((end - start) / 1000000)))
    cpus+=("$(awk '{printf "%d", ($1 + $2) * 1000}' "$WORK/time")")
  done
  printf '%-36s %8s ms %8s ms\n' "$label" "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(printf '%s\n' "${cpus[@]}" | median)"
}

printf '%-36s %11s %11s   (medians of %d runs)\n' "MEASUREMENT (tf1-ckpt example)" "WALL" "CPU" "$N"
row "inspect" inspect "$EXAMPLE"
row "convert --to tf2 (auto)" convert --to tf2 "$EXAMPLE" DST
row "convert --to tf2 --engine local" convert --to tf2 --engine local "$EXAMPLE" DST
row "--version" --version
row "verify" verify "$EXAMPLE"
