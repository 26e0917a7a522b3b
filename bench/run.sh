#!/usr/bin/env bash
# Rebundle benchmark harness: one run, the same files, every tool. See README.md "Performance".
#
#   bench/run.sh                                   # 1, 4 and 8 GiB, 3 runs each
#   BENCH_SIZES="256m 1g" BENCH_RUNS=1 bench/run.sh
#
# Settings (environment):
#   BENCH_SIZES          checkpoint sizes (default "1g 4g 8g"; suffixes k, m, g; "" skips them)
#   BENCH_RUNS           runs per measurement; the table shows the median (default 3)
#   BENCH_DIR            scratch directory, wiped per size (default /tmp/rebundle-bench); results stay in it
#   BENCH_TENSORS        variables per checkpoint (default 200); BENCH_SLICED of them partitioned (default 2)
#   BENCH_DTYPES         dtypes of the synthetic checkpoints (default float32,bfloat16)
#   BENCH_SHARDS         output shards of the multi-shard convert (default 4)
#   BENCH_INDEX_TENSORS  entries of the index-only benchmark (default 1000000; 0 skips it)
#   BENCH_AUDIT_CHECKPOINTS  small checkpoints of the index-only audit (default 10000; 0 skips it)
#   BENCH_STARTUP        1 (default) or 0: the start-up rows
#   BENCH_BATCH_ROWS     small checkpoints of the batch rows (default 1000; 0 skips them)
#   BENCH_BATCH_SIZE     size of each of them (default 2m)
#   BENCH_BATCH_SEQUENTIAL  sequential `submit.sh convert` runs timed and extrapolated to BENCH_BATCH_ROWS (default 20)
#   BENCH_HEAP           heap of every Rebundle JVM (default -Xmx512m, via REBUNDLE_JAVA_OPTS)
#   BENCH_TF             auto (default) or off: TensorFlow restore+save through TensorFlow Java
#   BENCH_MVN_FLAGS      extra Maven flags for the build, e.g. -o
#   BENCH_S3             on (default) or off: the object-store rows (loopback S3 server, convert s3a->s3a
#                        vs the AWS SDK's CopyObject; request and byte counts in the log)
#   BENCH_SRC_SHARDS     data files of the second source of each size, for the default path's rows on a
#                        multi-file checkpoint (default 4; 0 skips them)
#   BENCH_ROWS           an extended regular expression: only rows whose name matches run (synth and the
#                        cp/cat baselines always do), e.g. BENCH_ROWS='default|verify|shards'
#
# Cache policy: warm for every tool. Before each timed run the harness runs `sync` (so one step's
# dirty pages are not written back on the next step's clock) and reads the input files once (so all
# tools start from the page cache). No tool fsyncs its output; outputs are deleted before each run.
# Where the harness may (root), it also drops the page cache once at the start of each size, so that
# files of earlier steps do not crowd the cache: with the cache full, every new page costs a
# reclaim, and on the 2-core VMs here `cp -r` of 8 GiB then varied from 5 s to 25 s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES="${BENCH_SIZES-1g 4g 8g}"
RUNS="${BENCH_RUNS:-3}"
DIR="${BENCH_DIR:-/tmp/rebundle-bench}"
TENSORS="${BENCH_TENSORS:-200}"
SLICED="${BENCH_SLICED:-2}"
DTYPES="${BENCH_DTYPES:-float32,bfloat16}"
SHARDS="${BENCH_SHARDS:-4}"
SRC_SHARDS="${BENCH_SRC_SHARDS:-4}"
ROWS="${BENCH_ROWS:-}"
INDEX_TENSORS="${BENCH_INDEX_TENSORS:-1000000}"
AUDIT_CHECKPOINTS="${BENCH_AUDIT_CHECKPOINTS:-10000}"
STARTUP="${BENCH_STARTUP:-1}"
BATCH_ROWS="${BENCH_BATCH_ROWS:-1000}"
BATCH_SIZE="${BENCH_BATCH_SIZE:-2m}"
BATCH_SEQ="${BENCH_BATCH_SEQUENTIAL:-20}"
HEAP="${BENCH_HEAP:--Xmx512m}"
TF="${BENCH_TF:-auto}"
SUBMIT="$ROOT/submit.sh"
export REBUNDLE_JAVA_OPTS="${REBUNDLE_JAVA_OPTS:-} $HEAP"
export TF_CPP_MIN_LOG_LEVEL=2
JAVACPP_CACHE="${JAVACPP_CACHE:-$HOME/.cache/rebundle-javacpp}"
RESULTS="$DIR/results.tsv"
LOG="$DIR/bench.log"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing: apt-get install time (Debian) to record peak RSS"

to_bytes() {
  local s="${1,,}" n m=1
  n="${s%[kmgt]}"
  case "$s" in *k) m=1024 ;; *m) m=$((1024 ** 2)) ;; *g) m=$((1024 ** 3)) ;; *t) m=$((1024 ** 4)) ;; esac
  echo $((n * m))
}

files_of() { ls "$1".index "$1".data-* 2>/dev/null; }
bytes_of() { cat $(files_of "$1") | wc -c; }
warm() { sync; cat $(files_of "$1") >/dev/null; }

# measure SIZE_LABEL ROW BYTES SETUP_FN -- CMD...   (SETUP_FN runs untimed before every run)
measure() {
  local size="$1" row="$2" bytes="$3" setup="$4"
  shift 5
  local r status out="$DIR/out.txt" err="$DIR/err.txt" tv="$DIR/time.txt" t0 t1 secs rss
  if [[ -n "$ROWS" && ! "$row" =~ $ROWS && "$row" != "cp -r (baseline)" && "$row" != cat* && "$row" != synth* ]]; then
    return 0
  fi
  for ((r = 1; r <= RUNS; r++)); do
    "$setup"
    t0=$(date +%s%N)
    status=0
    /usr/bin/time -v -o "$tv" "$@" >"$out" 2>"$err" || status=$?
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
    if ((status != 0)); then
      # A failure is a result too (e.g. OutOfMemoryError under the heap cap): record it, go on.
      log "FAILED (exit $status): $row: $(grep -m1 -E 'Error|Exception|rebundle:' "$err" || tail -1 "$err")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$row [FAILED exit $status]" "$r" "$bytes" "$secs" "$rss" >>"$RESULTS"
      cp "$err" "$DIR/failed-$(date +%s%N).err"
      continue
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$row" "$r" "$bytes" "$secs" "$rss" >>"$RESULTS"
    printf '%s | %s | run %d: %s s, %s KiB peak RSS\n' "$size" "$row" "$r" "$secs" "$rss" >>"$LOG"
    if [[ -n "${AFTER:-}" ]]; then "$AFTER" "$size" "$row" "$r" "$bytes" "$rss"; fi
  done
}

# Extra rows from what the job itself reports (convert --report): its copy phase.
convert_phase() {
  local size="$1" row="$2" r="$3" bytes="$4" rss="$5" copy
  copy=$(grep -o '"copy_seconds":[0-9.eE+-]*' "$DIR/report.json" | head -1 | cut -d: -f2)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$row (copy phase, as reported)" "$r" "$bytes" "$copy" "$rss" >>"$RESULTS"
}
tf_phase() {
  local size="$1" row="$2" r="$3" bytes="$4" rss="$5" t
  t=$(grep -o '"restore_save_seconds":[0-9.]*' "$DIR/out.txt" | cut -d: -f2)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$row (restore+save, in-process)" "$r" "$bytes" "$t" "$rss" >>"$RESULTS"
}

# Empties the page cache (root only; a no-op otherwise), after writing back what is dirty.
drop_caches() {
  sync
  if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

machine() {
  echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu:      $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory:   $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "disk:     $(df -h "$DIR" | awk 'NR == 2 { print $1 " (" $2 ", " $4 " free)" }'), $(findmnt -no FSTYPE,OPTIONS -T "$DIR" 2>/dev/null | cut -c1-60)"
  echo "kernel:   $(uname -r); vm.dirty_ratio $(cat /proc/sys/vm/dirty_ratio 2>/dev/null || echo ?)"
  echo "java:     $(java -version 2>&1 | head -1)"
  echo "jvm heap: $HEAP (every Rebundle process)"
  echo "settings: sizes [$SIZES], runs $RUNS, tensors $TENSORS ($SLICED sliced, $DTYPES), shards $SHARDS"
  echo "cache:    warm (sync, then inputs read once, before every run); no tool fsyncs"
}

# ---------------------------------------------------------------------------------------------
mkdir -p "$DIR"
: >"$RESULTS"
: >"$LOG"
log "building (submit.sh jar and the bench module)..."
(cd "$ROOT" && mvn -q -B -ntp ${BENCH_MVN_FLAGS:-} -Pbench -DskipTests package) >"$DIR/build.log" 2>&1 \
  || { cat "$DIR/build.log" >&2; die "build failed"; }
BENCH_CP="$ROOT/bench/target/classes:$(cat "$ROOT/bench/target/bench-classpath.txt")"
# submit.sh dumps its class-data sharing archive in the background on the first run after a build;
# make it now and wait for it, so that no timed row competes with the dump or runs without it.
"$SUBMIT" --version >/dev/null 2>&1 || die "submit.sh does not run (see $DIR/build.log)"
for ((i = 0; i < 300; i++)); do
  [[ -d "$ROOT/jobs/target/rebundle.jsa.lock" ]] || break
  sleep 1
done
TF_CMD=(java -Dorg.bytedeco.javacpp.cachedir="$JAVACPP_CACHE" -cp "$BENCH_CP" io.rebundle.bench.TfRestoreSave)
machine | tee "$DIR/machine.txt" >&2

if [[ "$TF" != off ]]; then
  rm -rf "$DIR/probe"
  if ! "${TF_CMD[@]}" "$ROOT/conf/examples/tf1-ckpt" "$DIR/probe/ckpt" >/dev/null 2>"$DIR/tf-probe.log"; then
    log "TensorFlow Java does not run here (see $DIR/tf-probe.log): no TensorFlow rows"
    TF=off
  fi
fi

for SIZE in $SIZES; do
  BYTES=$(to_bytes "$SIZE")
  D="$DIR/$SIZE"
  rm -rf "$D"
  mkdir -p "$D"
  need=$((BYTES * 4 / 1024))
  avail=$(df -k --output=avail "$DIR" | tail -1)
  ((avail > need)) || die "not enough disk under $DIR for $SIZE: need ~$((need / 1048576)) GiB (4x the size)"
  SRC="$D/src/ckpt"
  drop_caches

  log "$SIZE: synth (tf1 source, $TENSORS tensors)"
  clean_synth() { rm -rf "$D/src"; sync; }
  measure "$SIZE" "synth --format tf1 (generate)" "$BYTES" clean_synth -- \
    "$SUBMIT" synth "$SRC" --format tf1 --size "$SIZE" --tensors "$TENSORS" --sliced "$SLICED" \
    --dtypes "$DTYPES" --seed 1 --no-state-file
  DATA=$(bytes_of "$SRC")

  log "$SIZE: baselines (cp -r, cat)"
  prep_cp() { rm -rf "$D/cp"; warm "$SRC"; }
  measure "$SIZE" "cp -r (baseline)" "$DATA" prep_cp -- cp -r "$D/src" "$D/cp"
  rm -rf "$D/cp"
  prep_read() { warm "$SRC"; }
  measure "$SIZE" "cat > /dev/null (read baseline)" "$DATA" prep_read -- sh -c "cat $(files_of "$SRC" | tr '\n' ' ') >/dev/null"

  if [[ "$TF" != off ]]; then
    log "$SIZE: TensorFlow restore+save"
    prep_tf() { rm -rf "$D/tf"; warm "$SRC"; }
    AFTER=tf_phase measure "$SIZE" "tensorflow RestoreV2+SaveV2" "$DATA" prep_tf -- "${TF_CMD[@]}" "$SRC" "$D/tf/ckpt"
    rm -rf "$D/tf"
  fi

  log "$SIZE: convert"
  prep_tf2() { rm -rf "$D/tf2"; warm "$SRC"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf2, 1 shard" "$DATA" prep_tf2 -- \
    "$SUBMIT" convert "$SRC" "$D/tf2/ckpt" --to tf2 --shards 1 --no-state-file --report "$DIR/report.json"
  # The two engines on the same job (the row above is --engine auto): where the crossover is.
  AFTER=convert_phase measure "$SIZE" "convert --to tf2, 1 shard, --engine local" "$DATA" prep_tf2 -- \
    "$SUBMIT" convert "$SRC" "$D/tf2/ckpt" --to tf2 --shards 1 --no-state-file --engine local --report "$DIR/report.json"
  AFTER=convert_phase measure "$SIZE" "convert --to tf2, 1 shard, --engine spark" "$DATA" prep_tf2 -- \
    "$SUBMIT" convert "$SRC" "$D/tf2/ckpt" --to tf2 --shards 1 --no-state-file --engine spark --report "$DIR/report.json"
  prep_tf2n() { rm -rf "$D/tf2n"; warm "$SRC"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf2, $SHARDS shards" "$DATA" prep_tf2n -- \
    "$SUBMIT" convert "$SRC" "$D/tf2n/ckpt" --to tf2 --shards "$SHARDS" --no-state-file --report "$DIR/report.json"
  rm -rf "$D/tf2n"
  # The default: no layout asked, so --reuse-files auto copies the source's files whole, each
  # tensor's CRC checked while the kernel copies (README "Fast paths").
  prep_def() { rm -rf "$D/def"; warm "$SRC"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf2 (default: whole files, CRC-checked)" "$DATA" prep_def -- \
    "$SUBMIT" convert "$SRC" "$D/def/ckpt" --to tf2 --no-state-file --report "$DIR/report.json"
  rm -rf "$D/def"
  prep_link() { rm -rf "$D/link"; warm "$SRC"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf2 --link" "$DATA" prep_link -- \
    "$SUBMIT" convert "$SRC" "$D/link/ckpt" --to tf2 --link --no-state-file --report "$DIR/report.json"
  rm -rf "$D/link"
  prep_whole() { rm -rf "$D/whole"; warm "$SRC"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf2, whole-file copy" "$DATA" prep_whole -- \
    "$SUBMIT" convert "$SRC" "$D/whole/ckpt" --to tf2 --reuse-files copy --no-state-file --report "$DIR/report.json"
  rm -rf "$D/whole"
  prep_back() { rm -rf "$D/back"; warm "$D/tf2/ckpt"; }
  AFTER=convert_phase measure "$SIZE" "convert --to tf1 (back), 1 shard" "$DATA" prep_back -- \
    "$SUBMIT" convert "$D/tf2/ckpt" "$D/back/ckpt" --to tf1 --shards 1 --no-state-file --report "$DIR/report.json"
  rm -rf "$D/back" "$D/tf2"

  log "$SIZE: verify"
  measure "$SIZE" "verify" "$DATA" prep_read -- "$SUBMIT" verify "$SRC"
  log "$SIZE: audit (statistics, CRC, fingerprint of every tensor)"
  prep_audit() { rm -rf "$D/audit"; warm "$SRC"; }
  measure "$SIZE" "audit (stats + CRC + fingerprint, Parquet out)" "$DATA" prep_audit -- \
    "$SUBMIT" audit "$(dirname "$SRC")" --out "$D/audit" --fail-on error
  rm -rf "$D/audit"

  if [[ "${BENCH_S3:-on}" != off ]]; then
    # Object store: a loopback S3 server (s3proxy) in one JVM; convert s3a->s3a through the CLI vs
    # the AWS SDK's server-side CopyObject of the same objects, in the same run (S3CopyBench).
    log "$SIZE: object store (loopback S3): convert s3a->s3a vs AWS SDK CopyObject"
    read -r -a S3_JVM_FLAGS <"$ROOT/jobs/target/jvm-flags.txt"
    S3_CP="$ROOT/jobs/target/test-classes:$ROOT/jobs/target/classes:$(cat "$ROOT/jobs/target/test-classpath.txt")"
    for ((r = 1; r <= RUNS; r++)); do
      if ! AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 SPARK_LOCAL_IP=127.0.0.1 \
          java "${S3_JVM_FLAGS[@]}" $HEAP -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" \
          -cp "$S3_CP" io.rebundle.jobs.io.S3CopyBench "$SRC" >"$D/s3.tsv" 2>"$D/s3.err"; then
        log "FAILED: object-store rows: $(grep -m1 -E 'rebundle:|Exception' "$D/s3.err" || tail -1 "$D/s3.err")"
        break
      fi
      while IFS=$'\t' read -r row secs detail; do
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$SIZE" "$row" "$r" "$DATA" "$secs" 0 >>"$RESULTS"
        printf '%s | %s | run %d: %s s; %s\n' "$SIZE" "$row" "$r" "$secs" "$detail" >>"$LOG"
        log "$row: $secs s; $detail"
      done <"$D/s3.tsv"
    done
  fi
  if ((SRC_SHARDS > 1)); then
    # The same checkpoint in SRC_SHARDS data files (its own size label and cp baseline): the default
    # path copies them whole in parallel; streamed convert into 1 shard and into SHARDS.
    rm -rf "$D/src"
    drop_caches
    L="$SIZE/${SRC_SHARDS}f"
    SRCN="$D/srcn/ckpt"
    log "$L: synth (the same tf1 source in $SRC_SHARDS files)"
    REBUNDLE_JAVA_OPTS="$HEAP" "$SUBMIT" synth "$SRCN" --format tf1 --size "$SIZE" --tensors "$TENSORS" \
      --sliced "$SLICED" --dtypes "$DTYPES" --seed 1 --shards "$SRC_SHARDS" --no-state-file -q >/dev/null
    DATAN=$(bytes_of "$SRCN")
    prep_cpn() { rm -rf "$D/cpn"; warm "$SRCN"; }
    measure "$L" "cp -r (baseline)" "$DATAN" prep_cpn -- cp -r "$D/srcn" "$D/cpn"
    rm -rf "$D/cpn"
    prep_defn() { rm -rf "$D/defn"; warm "$SRCN"; }
    AFTER=convert_phase measure "$L" "convert --to tf2 (default: whole files, CRC-checked)" "$DATAN" prep_defn -- \
      "$SUBMIT" convert "$SRCN" "$D/defn/ckpt" --to tf2 --no-state-file --report "$DIR/report.json"
    AFTER=convert_phase measure "$L" "convert --to tf2, 1 shard" "$DATAN" prep_defn -- \
      "$SUBMIT" convert "$SRCN" "$D/defn/ckpt" --to tf2 --shards 1 --no-state-file --report "$DIR/report.json"
    AFTER=convert_phase measure "$L" "convert --to tf2, $SHARDS shards" "$DATAN" prep_defn -- \
      "$SUBMIT" convert "$SRCN" "$D/defn/ckpt" --to tf2 --shards "$SHARDS" --no-state-file --report "$DIR/report.json"
    rm -rf "$D/defn"
    prep_readn() { warm "$SRCN"; }
    measure "$L" "cat > /dev/null (read baseline)" "$DATAN" prep_readn -- sh -c "cat $(files_of "$SRCN" | tr '\n' ' ') >/dev/null"
    measure "$L" "verify" "$DATAN" prep_readn -- "$SUBMIT" verify "$SRCN"
  fi
  rm -rf "$D"
done

if ((INDEX_TENSORS > 0)); then
  log "index: synth with $INDEX_TENSORS tensors, then inspect"
  I="$DIR/index/ckpt"
  rm -rf "$DIR/index"
  REBUNDLE_JAVA_OPTS="" "$SUBMIT" synth "$I" --format tf1 --size $((INDEX_TENSORS * 64)) --tensors "$INDEX_TENSORS" \
    --seed 1 --no-state-file >/dev/null
  IDX=$(wc -c <"$I.index")
  warm_index() { sync; cat "$I.index" >/dev/null; }
  measure index "inspect --json, $INDEX_TENSORS entries" "$IDX" warm_index -- "$SUBMIT" inspect --json "$I"
  measure index "inspect (table), $INDEX_TENSORS entries" "$IDX" warm_index -- "$SUBMIT" inspect "$I"
  rm -rf "$DIR/index"
fi

if ((AUDIT_CHECKPOINTS > 0)); then
  log "audit: $AUDIT_CHECKPOINTS small checkpoints, index only (--no-stats)"
  A="$DIR/many"
  rm -rf "$A"
  REBUNDLE_JAVA_OPTS="" "$SUBMIT" synth "$A/seed/ckpt" --format tf2 --size 65536 --tensors 20 --seed 1 \
    --no-state-file >/dev/null
  for ((i = 0; i < AUDIT_CHECKPOINTS; i++)); do
    d="$A/lake/team$((i % 100))/model$i"
    mkdir -p "$d"
    cp "$A/seed/ckpt.index" "$d/ckpt-1.index"
    cp "$A/seed/ckpt.data-00000-of-00001" "$d/ckpt-1.data-00000-of-00001"
  done
  IDXS=$(cat "$A"/lake/*/*/ckpt-1.index | wc -c)
  warm_many() { rm -rf "$A/out"; sync; cat "$A"/lake/*/*/ckpt-1.index >/dev/null; }
  measure many "audit --no-stats, $AUDIT_CHECKPOINTS checkpoints (index bytes)" "$IDXS" warm_many -- \
    "$SUBMIT" audit "$A/lake" --out "$A/out" --no-stats
  measure many "find (listing baseline), $AUDIT_CHECKPOINTS checkpoints" "$IDXS" warm_many -- \
    sh -c "find '$A/lake' -name '*.index' | wc -l >/dev/null"
  rm -rf "$A"
fi

if ((STARTUP)); then
log "start-up: convert of the tiny conf/examples/tf1-ckpt"
EX="$ROOT/conf/examples/tf1-ckpt"
prep_start() { rm -rf "$DIR/startup"; warm "$EX"; }
measure startup "convert --to tf2 (12-byte example, end to end)" 12 prep_start -- \
  "$SUBMIT" convert "$EX" "$DIR/startup/ckpt" --to tf2 --no-state-file
measure startup "convert example --engine local" 12 prep_start -- \
  "$SUBMIT" convert "$EX" "$DIR/startup/ckpt" --to tf2 --no-state-file --engine local
measure startup "convert example --engine spark" 12 prep_start -- \
  "$SUBMIT" convert "$EX" "$DIR/startup/ckpt" --to tf2 --no-state-file --engine spark
measure startup "inspect (example, end to end)" 12 prep_start -- "$SUBMIT" inspect "$EX"
rm -rf "$DIR/startup" "$DIR/probe"
fi

# Fleets (README "Fleet migrations"): BATCH_ROWS model directories of BATCH_SIZE each (copies of one
# synthetic TF1 checkpoint) in one `batch`; its rerun with every row done (reads indexes and success
# records only); and BATCH_SEQ sequential `submit.sh convert` runs, extrapolated to BATCH_ROWS.
if ((BATCH_ROWS > 0)); then
  B="$DIR/batch"
  log "batch: $BATCH_ROWS model directories of $BATCH_SIZE"
  rm -rf "$B"
  mkdir -p "$B/fleet"
  REBUNDLE_JAVA_OPTS="" "$SUBMIT" synth "$B/one/ckpt-1" --format tf1 --size "$BATCH_SIZE" --tensors 20 --seed 3 \
    >/dev/null
  : >"$B/fleet.jsonl"
  for ((i = 0; i < BATCH_ROWS; i++)); do
    m=$(printf 'm%05d' "$i")
    mkdir -p "$B/fleet/$m"
    cp "$B/one/"* "$B/fleet/$m/"
    printf '{"src": "%s", "dst": "%s/", "to": "tf2"}\n' "$B/fleet/$m" "$B/out/$m" >>"$B/fleet.jsonl"
  done
  ONE=$(bytes_of "$B/one/ckpt-1")
  prep_batch() { rm -rf "$B/out"; sync; }
  measure batch "batch, $BATCH_ROWS checkpoints of $BATCH_SIZE (first run)" $((ONE * BATCH_ROWS)) prep_batch -- \
    "$SUBMIT" batch "$B/fleet.jsonl" --report "$B/report.json"
  grep -q "\"converted\" : $BATCH_ROWS" "$B/report.json" || die "batch did not convert every row: $B/report.json"
  rows_done() { sync; }
  measure batch "batch rerun, all $BATCH_ROWS rows already done" $((ONE * BATCH_ROWS)) rows_done -- \
    "$SUBMIT" batch "$B/fleet.jsonl" --report "$B/rerun.json"
  grep -q "\"skipped\" : $BATCH_ROWS" "$B/rerun.json" || die "the rerun did not skip every row: $B/rerun.json"
  cat >"$B/sequential.sh" <<SEQ
#!/usr/bin/env bash
set -e
for ((i = 0; i < $BATCH_SEQ; i++)); do
  m=\$(printf 'm%05d' "\$i")
  "$SUBMIT" convert "$B/fleet/\$m" "$B/seq/\$m/" --to tf2 >/dev/null
done
SEQ
  chmod +x "$B/sequential.sh"
  prep_seq() { rm -rf "$B/seq"; sync; }
  extrapolate() {
    local size="$1" row="$2" r="$3" bytes="$4" rss="$5" t
    t=$(tail -1 "$RESULTS" | cut -f5)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$BATCH_SEQ sequential converts, extrapolated to $BATCH_ROWS" "$r" \
      $((ONE * BATCH_ROWS)) "$(awk -v t="$t" 'BEGIN { printf "%.3f", t * '"$BATCH_ROWS"' / '"$BATCH_SEQ"' }')" "$rss" \
      >>"$RESULTS"
  }
  AFTER=extrapolate measure batch "$BATCH_SEQ sequential submit.sh convert runs" $((ONE * BATCH_SEQ)) prep_seq -- \
    "$B/sequential.sh"
  rm -rf "$B/fleet" "$B/out" "$B/seq"
fi

# ---------------------------------------------------------------------------------------------
# The table: per size, median time per row; GB/s = bytes / median (10^9 bytes); ratios to the
# cp -r and TensorFlow medians of the same size; peak RSS = the largest of the runs.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
{
  echo
  machine
  echo
  printf '%-8s %-58s %10s %8s %8s %8s %10s\n' SIZE MEASUREMENT "TIME s" "GB/s" "x cp" "x TF" "PEAK RSS"
  for size in $(cut -f1 "$RESULTS" | awk '!seen[$0]++'); do
    cp_t=$(awk -F'\t' -v s="$size" '$1 == s && $2 == "cp -r (baseline)" { print $5 }' "$RESULTS" | median)
    tf_t=$(awk -F'\t' -v s="$size" '$1 == s && $2 == "tensorflow RestoreV2+SaveV2" { print $5 }' "$RESULTS" | median)
    awk -F'\t' -v s="$size" '$1 == s && !seen[$2]++ { print $2 }' "$RESULTS" | while IFS= read -r row; do
      t=$(awk -F'\t' -v s="$size" -v r="$row" '$1 == s && $2 == r { print $5 }' "$RESULTS" | median)
      b=$(awk -F'\t' -v s="$size" -v r="$row" '$1 == s && $2 == r { print $4; exit }' "$RESULTS")
      rss=$(awk -F'\t' -v s="$size" -v r="$row" '$1 == s && $2 == r && $6 > m { m = $6 } END { print m + 0 }' "$RESULTS")
      awk -v size="$size" -v row="$row" -v t="$t" -v b="$b" -v c="${cp_t:-}" -v f="${tf_t:-}" -v rss="$rss" 'BEGIN {
        gbs = (t > 0 && b > 1000000) ? sprintf("%.2f", b / t / 1e9) : "-"
        xc = (c != "" && c > 0 && size != "index" && size != "startup") ? sprintf("%.2f", t / c) : "-"
        xf = (f != "" && f > 0 && size != "index" && size != "startup") ? sprintf("%.2f", t / f) : "-"
        printf "%-8s %-58s %10.2f %8s %8s %8s %7.0f MiB\n", size, row, t, gbs, xc, xf, rss / 1024
      }'
    done
  done
  echo
  if ((BATCH_ROWS > 0)); then
    bt=$(awk -F'\t' '$1 == "batch" && $2 ~ /first run/ { print $5 }' "$RESULTS" | median)
    rt=$(awk -F'\t' '$1 == "batch" && $2 ~ /rerun/ { print $5 }' "$RESULTS" | median)
    st=$(awk -F'\t' '$1 == "batch" && $2 ~ /extrapolated/ { print $5 }' "$RESULTS" | median)
    awk -v b="$bt" -v r="$rt" -v s="$st" 'BEGIN { if (b > 0) printf "batch: %.1fx faster than sequential converts (extrapolated); rerun %.1f%% of the first run\n", s / b, 100 * r / b }'
  fi
  echo "TIME: median of $RUNS run(s), wall clock, whole process unless the row says otherwise."
  echo "x cp, x TF: that time over the cp -r / TensorFlow median of the same size (lower is better)."
} | tee "$DIR/table.txt"
log "results: $DIR/table.txt, raw runs: $RESULTS, per-run log: $LOG"
