#!/usr/bin/env bash
# Rebundle's single entry point.
#   ./submit.sh COMMAND [OPTIONS] ...     e.g. ./submit.sh inspect conf/examples/tf1-ckpt
#   ./submit.sh convert --to tf2 SRC DST --master spark://host:7077 --conf spark.executor.memory=4g
#   bin/rebundle ... is the same launcher under the name its messages print (link it onto PATH).
# Builds the project on first use (and whenever a source is newer than the jar), then either runs
# the command line in this JVM ("embedded", Spark local[*]) or hands a Spark command to spark-submit
# with the thin application jar (jobs/target/rebundle-jobs-<version>-spark.jar). See README.md.
#
# Where a command runs:
#   embedded      no --master, or --master local / local[N] / local[*] (local[N,F] too), and no
#                 SPARK_HOME; or REBUNDLE_EMBEDDED=1; and always for the metadata-only commands
#                 (inspect, verify, help, --help, --version), which never start Spark.
#   spark-submit  any other command with a --master that is not local (spark://, yarn, k8s://, ...)
#                 or with SPARK_HOME set. `--master URL` goes to spark-submit (and is taken out of
#                 the command's arguments, so the master comes from spark-submit); every
#                 `--conf KEY=VALUE` goes to spark-submit too (and stays in the command's arguments).
#                 spark-submit's own options --deploy-mode, --jars, --packages, --repositories, --queue,
#                 --num-executors, --executor-memory, --executor-cores, --driver-memory,
#                 --driver-cores, --files, --archives, --properties-file, --name, --principal, --keytab
#                 go to spark-submit only. Embedded, --driver-memory sets the JVM's -Xmx,
#                 --properties-file replaces conf/spark-defaults.conf, and the others are ignored with
#                 a note (they mean nothing without a cluster).
#
# Environment:
#   SPARK_HOME          Spark 4.x installation used for hand-over: $SPARK_HOME/bin/spark-submit, or,
#                       when SPARK_HOME holds only jars/ (docs/stack-notes.md), `java <JVM flags> -cp
#                       "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit`. Unset: spark-submit
#                       from PATH, if any, for a non-local --master.
#   REBUNDLE_EMBEDDED   1: always run embedded, even with SPARK_HOME or a cluster --master.
#   REBUNDLE_JAVA_OPTS  extra JVM options for the embedded JVM and for the `java ... SparkSubmit` driver.
#   REBUNDLE_NO_BUILD   1: never build; fail if the jars are missing or older than the sources (CI, tests).
#   REBUNDLE_CDS        0: run embedded JVMs without the class-data sharing archive jobs/target/rebundle.jsa
#                       (made in the background on the first run after a build; see cds_dump below).
#   JAVA_HOME           the Java 17+ to run (default: java on PATH).
#   SPARK_LOCAL_IP      embedded runs default it to 127.0.0.1 (loopback only); hand-over leaves it as
#                       it is, since cluster executors must reach the driver.
#   HADOOP_CONF_DIR     a directory with core-site.xml / hdfs-site.xml: read by every command (embedded
#                       runs put it on the classpath); --conf spark.hadoop.KEY=VALUE overrides it.
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS
#                       credentials for s3a:// and gs://, found by the connectors' standard chains.
#   SPARK_SUBMIT_OPTS   JVM options of the spark-submit driver (client mode); submit.sh adds
#                       Rebundle's quiet log4j2 configuration to it.
set -euo pipefail

# The repository, wherever this script is called from and through however many symlinks
# (bin/rebundle, a link in ~/bin): Maven and the jars are found from the real file's directory.
# Bash builtins only on this path (no $(...) subshell): a command's start-up is counted in ms.
SELF="${BASH_SOURCE[0]}"
while [[ -L "$SELF" ]]; do
  LINK="$(readlink "$SELF")"
  [[ "$LINK" == /* || "$SELF" != */* ]] && SELF="$LINK" || SELF="${SELF%/*}/$LINK"
done
[[ "$SELF" == */* ]] && SELF_DIR="${SELF%/*}" || SELF_DIR=.
# cd -P and back (CDPATH off, cd's own output dropped) in this shell: the physical directory; in
# a subshell if the working directory cannot be returned to (removed, or no longer searchable).
if [[ -d "$PWD" && -x "$PWD" ]]; then
  CALLER_DIR="$PWD"
  CDPATH='' cd -P -- "${SELF_DIR:-/}" >/dev/null
  ROOT="$PWD"
  cd -- "$CALLER_DIR"
else
  ROOT="$(CDPATH='' cd -P -- "${SELF_DIR:-/}" >/dev/null && pwd -P)"
fi
# The name messages print ("Try './submit.sh --help'"): what the user typed, or the launcher's name.
PROGRAM_NAME="${REBUNDLE_PROGRAM_NAME:-$0}"
TARGET="$ROOT/jobs/target"
CLASSPATH_FILE="$TARGET/runtime-classpath.txt"
JVM_FLAGS_FILE="$TARGET/jvm-flags.txt"
MAIN_CLASS=io.rebundle.jobs.cli.Main

log() { printf '%s: %s\n' "$PROGRAM_NAME" "$*" >&2; }

# The normal jar (embedded runs), not the -spark one or any other classified jar: into MAIN_JAR.
main_jar() {
  local f
  MAIN_JAR=""
  for f in "$TARGET"/rebundle-jobs-*.jar; do
    case "$f" in
      *-spark.jar | *-sources.jar | *-javadoc.jar | *-tests.jar) ;;
      *) [[ -f "$f" ]] && { MAIN_JAR="$f"; return; } ;;
    esac
  done
}

# The thin application jar for spark-submit: into SPARK_JAR.
spark_jar() {
  local f
  SPARK_JAR=""
  for f in "$TARGET"/rebundle-jobs-*-spark.jar; do
    [[ -f "$f" ]] && { SPARK_JAR="$f"; return; }
  done
}

# Written when a build succeeds: a source newer than it means the jars are out of date.
BUILD_STAMP="$TARGET/build.stamp"

# Whether any file of the build's inputs (poms, main sources, launcher files) is newer than FILE.
# Bash's own globbing and -nt, no find or other process: a few ms for the whole tree.
sources_newer_than() {
  local f
  local had_globstar=0 had_nullglob=0
  shopt -q globstar && had_globstar=1
  shopt -q nullglob && had_nullglob=1
  shopt -s globstar nullglob
  local newer=1
  for f in "$ROOT/pom.xml" "$ROOT/codec/pom.xml" "$ROOT/jobs/pom.xml" "$ROOT"/codec/src/main/** \
      "$ROOT"/jobs/src/main/** "$ROOT"/jobs/src/launcher/**; do
    if [[ -f "$f" && "$f" -nt "$1" ]]; then
      newer=0
      break
    fi
  done
  ((had_globstar)) || shopt -u globstar
  ((had_nullglob)) || shopt -u nullglob
  return "$newer"
}

needs_build() {
  local jar spark
  main_jar
  spark_jar
  jar="$MAIN_JAR"
  spark="$SPARK_JAR"
  [[ -z "$jar" || -z "$spark" || ! -f "$CLASSPATH_FILE" || ! -f "$JVM_FLAGS_FILE" ]] && return 0
  # A build from before the stamp existed (or by mvn directly): compare with the jar as before.
  local stamp="$BUILD_STAMP"
  [[ -f "$stamp" && ! "$jar" -nt "$stamp" ]] || stamp="$jar"
  sources_newer_than "$stamp"
}

build() {
  if [[ "${REBUNDLE_NO_BUILD:-0}" == 1 ]]; then
    log "the jars in $TARGET are missing or older than the sources, and REBUNDLE_NO_BUILD=1; run: mvn -B -ntp -DskipTests package"
    exit 70
  fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to build Rebundle; install Maven 3.8+ and Java 17"; exit 2; }
  log "building Rebundle (first use or sources changed)..."
  if ! (cd "$ROOT" && mvn -q -B -ntp -DskipTests package >"$ROOT/jobs/target-build.log" 2>&1); then
    cat "$ROOT/jobs/target-build.log" >&2
    log "build failed"
    exit 70
  fi
  rm -f "$ROOT/jobs/target-build.log"
  # maven-jar-plugin keeps an up-to-date jar's old mtime; without this a change that leaves the
  # classes alone (a pom edit) would make every later call rebuild.
  local jar
  main_jar
  spark_jar
  for jar in "$MAIN_JAR" "$SPARK_JAR"; do
    [[ -n "$jar" ]] && touch "$jar"
  done
  touch "$BUILD_STAMP"
  rm -f "$CDS_ARCHIVE"
}

# Class-data sharing (AppCDS): a static archive of every class representative runs load (the JDK's,
# Rebundle's, picocli's, Jackson's, Spark's, Hadoop's), mapped at start-up instead of found in the
# jars, parsed and verified again (README, Performance). Static, not dynamic
# (-XX:ArchiveClassesAtExit): Java 17's dynamic archive refuses classes older than class file
# version 50, such as all of picocli, and the static one keeps them. Java 17 has no
# -XX:+AutoCreateSharedArchive (JDK 19): training runs of inspect, verify, convert (both engines)
# and --version of the example each write the list of classes they load
# (-XX:DumpLoadedClassList), and -Xshare:dump makes the archive of their union; in the background,
# on the first run after a build or when the archive is older than the jars, until then runs go
# without it. The JVM checks the archive against the class path (and the jars' sizes and times)
# and ignores one that does not match; a class path with HADOOP_CONF_DIR in front is not the one it
# was made for, so such runs keep the JDK's own archive. -Xlog:cds*=off keeps its notes off stdout.
# ArchiveRelocationMode=0: map the archive at the address it was made for (and relocate it only if
# that address is taken), which is what Java 17 did until its updates made "always relocate" the
# default; relocating all ~80 MB at every start cost ~50 ms here, more than a third of a JVM's
# start-up. REBUNDLE_CDS=0: never.
CDS_ARCHIVE="$TARGET/rebundle.jsa"
CDS_FLAGS=(-Xlog:cds*=off -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0)

cds_current() {
  [[ -f "$CDS_ARCHIVE" && ! "$1" -nt "$CDS_ARCHIVE" && ! "$CLASSPATH_FILE" -nt "$CDS_ARCHIVE" ]]
}

# The training runs of cds_dump, one command line each (EXAMPLE: the example, OUT: a fresh output).
CDS_TRAINING=(
  "inspect EXAMPLE"
  "inspect --json EXAMPLE"
  "verify EXAMPLE"
  "convert --engine local --to tf2 --json EXAMPLE OUT"
  "convert --engine spark --to tf2 --json EXAMPLE OUT"
  "--version"
)

# Dumps the archive (CP, JVM flags as arguments): into a temporary file, renamed into place, so a
# concurrent run never maps half an archive; one dump at a time (a lock directory). A training run
# that fails only leaves its classes out; a failed dump leaves no archive (runs go without).
cds_dump() {
  local cp="$1"
  shift
  local lock="$TARGET/rebundle.jsa.lock" tmp scratch line word n=0 args
  mkdir "$lock" 2>/dev/null || return 0
  tmp="$CDS_ARCHIVE.$$.tmp"
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/rebundle-cds.XXXXXX") || { rmdir "$lock"; return 0; }
  for line in "${CDS_TRAINING[@]}"; do
    n=$((n + 1))
    args=()
    for word in $line; do
      case "$word" in
        EXAMPLE) args+=("$ROOT/conf/examples/tf1-ckpt") ;;
        OUT) args+=("$scratch/out$n/ckpt") ;;
        *) args+=("$word") ;;
      esac
    done
    "$JAVA" "$@" -Xshare:off -XX:DumpLoadedClassList="$scratch/$n.classlist" \
      -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" \
      -Drebundle.spark.defaults="$ROOT/conf/spark-defaults.conf" -cp "$cp" "$MAIN_CLASS" \
      "${args[@]}" >/dev/null 2>&1 || true
  done
  # The union, each class once, in the order first seen (a class list names supertypes first);
  # the archive, then one run that must map it with this class path before it replaces the old one.
  if compgen -G "$scratch/*.classlist" >/dev/null &&
    awk 'NF && !seen[$0]++' "$scratch"/*.classlist >"$scratch/all.classlist" &&
    "$JAVA" "$@" -Xshare:dump -XX:SharedClassListFile="$scratch/all.classlist" \
      -XX:SharedArchiveFile="$tmp" -cp "$cp" >/dev/null 2>&1 && [[ -s "$tmp" ]] &&
    "$JAVA" "$@" -Xshare:on "${CDS_FLAGS[@]}" -XX:SharedArchiveFile="$tmp" -cp "$cp" -version \
      >/dev/null 2>&1; then
    mv -f "$tmp" "$CDS_ARCHIVE"
  fi
  rm -rf "$tmp" "$scratch"
  rmdir "$lock"
}

# local, local[4], local[*], local[4,2] (retries): Spark in this JVM, no cluster.
is_local_master() {
  [[ "$1" =~ ^local(\[([0-9]+|\*)(,[0-9]+)?\])?$ ]]
}

# Split the arguments: the command, --master (out), --conf (copied for spark-submit), spark-submit's
# own options (out, for spark-submit).
COMMAND=""
MASTER=""
APP_ARGS=()
SUBMIT_CONF=()
SUBMIT_OPTS=()
MASTER_AT=-1
DRIVER_MEMORY=""
PROPERTIES_FILE=""
IGNORED_EMBEDDED=()
is_submit_option() {
  case "$1" in
    --deploy-mode | --jars | --packages | --repositories | --exclude-packages | --queue | --num-executors | \
      --executor-memory | --executor-cores | --driver-memory | --driver-cores | --total-executor-cores | \
      --files | --archives | --py-files | --properties-file | --name | --principal | --keytab | \
      --driver-class-path | --driver-java-options | --driver-library-path) return 0 ;;
  esac
  return 1
}
submit_option() { # NAME VALUE
  SUBMIT_OPTS+=("$1" "$2")
  case "$1" in
    --driver-memory) DRIVER_MEMORY="$2" ;;
    --properties-file) PROPERTIES_FILE="$2" ;;
    *) IGNORED_EMBEDDED+=("$1") ;;
  esac
}
args=("$@")
i=0
while ((i < ${#args[@]})); do
  a="${args[i]}"
  case "$a" in
    --)
      APP_ARGS+=("${args[@]:i}")
      break
      ;;
    --master)
      if ((i + 1 < ${#args[@]})); then
        MASTER="${args[i + 1]}"
        MASTER_AT=${#APP_ARGS[@]}
        i=$((i + 2))
        continue
      fi
      APP_ARGS+=("$a") # no value: let the command line report it
      ;;
    --master=*)
      MASTER="${a#--master=}"
      MASTER_AT=${#APP_ARGS[@]}
      ;;
    --conf)
      APP_ARGS+=("$a")
      if ((i + 1 < ${#args[@]})); then
        SUBMIT_CONF+=(--conf "${args[i + 1]}")
        APP_ARGS+=("${args[i + 1]}")
        i=$((i + 2))
        continue
      fi
      ;;
    --conf=*)
      APP_ARGS+=("$a")
      SUBMIT_CONF+=(--conf "${a#--conf=}")
      ;;
    --*=*)
      if is_submit_option "${a%%=*}"; then
        submit_option "${a%%=*}" "${a#*=}"
      else
        [[ -z "$COMMAND" && "$a" != -* ]] && COMMAND="$a"
        APP_ARGS+=("$a")
      fi
      ;;
    *)
      if is_submit_option "$a"; then
        if ((i + 1 < ${#args[@]})); then
          submit_option "$a" "${args[i + 1]}"
          i=$((i + 2))
          continue
        fi
        log "$a needs a value (it is a spark-submit option)"
        exit 2
      fi
      [[ -z "$COMMAND" && "$a" != -* ]] && COMMAND="$a"
      APP_ARGS+=("$a")
      ;;
  esac
  i=$((i + 1))
done

hand_over() {
  [[ "${REBUNDLE_EMBEDDED:-0}" == 1 ]] && return 1
  case "$COMMAND" in
    "" | inspect | verify | help) return 1 ;; # metadata only: never start Spark (docs/architecture.md)
  esac
  [[ -n "${SPARK_HOME:-}" ]] && return 0
  [[ -n "$MASTER" ]] && ! is_local_master "$MASTER"
}

# Spark's --deploy-mode cluster runs the driver on the cluster: without one there is nothing to do.
for ((k = 0; k < ${#SUBMIT_OPTS[@]}; k += 2)); do
  if [[ "${SUBMIT_OPTS[k]}" == --deploy-mode && "${SUBMIT_OPTS[k + 1]}" == cluster ]] && ! hand_over; then
    log "--deploy-mode cluster needs a cluster: give --master (yarn, k8s://..., spark://...) and SPARK_HOME or spark-submit on PATH"
    exit 2
  fi
done

if needs_build; then
  mkdir -p "$ROOT/jobs"
  build
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if ! hand_over; then
  # Embedded: the CLI and Spark local[*] in this JVM, from the resolved classpath; arguments as given.
  main_jar
  read -r RUNTIME_CP <"$CLASSPATH_FILE" || true # one line, without a trailing newline too
  CP="$MAIN_JAR:$RUNTIME_CP"
  # Cloud storage (README "Cloud storage"): the gs:// (hadoop-gcp) and s3a:// (hadoop-aws + modular
  # AWS SDK v2) connectors are on the resolved classpath already. Like spark-submit, put
  # HADOOP_CONF_DIR (core-site.xml, hdfs-site.xml) first so Spark's Hadoop configuration sees it too.
  [[ -n "${HADOOP_CONF_DIR:-}" && -d "$HADOOP_CONF_DIR" ]] && CP="$HADOOP_CONF_DIR:$CP"
  # Same module flags as spark-submit (pom.xml property rebundle.jvm.flags); harmless without Spark.
  JVM_FLAGS=(-XX:+IgnoreUnrecognizedVMOptions -XX:TieredStopAtLevel=1 -Xshare:auto)
  export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
  [[ -n "$DRIVER_MEMORY" ]] && JVM_FLAGS+=("-Xmx$DRIVER_MEMORY")
  if ((${#IGNORED_EMBEDDED[@]} > 0)); then
    log "note: ${IGNORED_EMBEDDED[*]} ignored: running embedded (local[*], no cluster); give --master to use a cluster"
  fi
  # Embedded runs take the arguments without spark-submit's options (a command would reject them),
  # --master where it was given.
  EMBEDDED_ARGS=("${APP_ARGS[@]}")
  if ((MASTER_AT >= 0)); then
    EMBEDDED_ARGS=("${APP_ARGS[@]:0:MASTER_AT}" --master "$MASTER" "${APP_ARGS[@]:MASTER_AT}")
  fi
  if [[ "${REBUNDLE_CDS:-1}" != 0 && "$CP" == "$MAIN_JAR:"* ]]; then
    if cds_current "$MAIN_JAR"; then
      JVM_FLAGS+=("${CDS_FLAGS[@]}" -XX:SharedArchiveFile="$CDS_ARCHIVE")
    elif [[ -w "$TARGET" ]]; then
      # A lock left by a dump that was killed (older than 10 minutes) no longer holds.
      if [[ -d "$TARGET/rebundle.jsa.lock" && -n "$(find "$TARGET/rebundle.jsa.lock" -maxdepth 0 -mmin +10 2>/dev/null)" ]]; then
        rmdir "$TARGET/rebundle.jsa.lock" 2>/dev/null || true
      fi
      # First use after a build (or a jar newer than the archive): make it in the background.
      (cds_dump "$CP" "${JVM_FLAGS[@]}" </dev/null >/dev/null 2>&1 &)
    fi
  fi
  # shellcheck disable=SC2086 # REBUNDLE_JAVA_OPTS: options, split on purpose
  exec "$JAVA" "${JVM_FLAGS[@]}" -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" \
    -Drebundle.spark.defaults="${PROPERTIES_FILE:-$ROOT/conf/spark-defaults.conf}" \
    -Drebundle.program.name="$PROGRAM_NAME" ${REBUNDLE_JAVA_OPTS:-} -cp "$CP" "$MAIN_CLASS" "${EMBEDDED_ARGS[@]}"
fi

# Hand-over to spark-submit with the thin jar (Spark, Hadoop and Scala come from the installation).
SUBMIT=()
if [[ -n "${SPARK_HOME:-}" && -x "$SPARK_HOME/bin/spark-submit" ]]; then
  SUBMIT=("$SPARK_HOME/bin/spark-submit")
elif [[ -n "${SPARK_HOME:-}" ]] && compgen -G "$SPARK_HOME/jars/*.jar" >/dev/null; then
  # A SPARK_HOME with only jars/: what bin/spark-submit would run, with the same JVM flags.
  read -r -a SPARK_JVM_FLAGS <"$JVM_FLAGS_FILE"
  SUBMIT_CP="$SPARK_HOME/jars/*"
  CONF_DIR="${SPARK_CONF_DIR:-$SPARK_HOME/conf}"
  [[ -d "$CONF_DIR" ]] && SUBMIT_CP="$CONF_DIR:$SUBMIT_CP"
  SUBMIT=("$JAVA" "${SPARK_JVM_FLAGS[@]}" -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties")
  # shellcheck disable=SC2206 # options, split on purpose as in the embedded path
  SUBMIT+=(${REBUNDLE_JAVA_OPTS:-} -cp "$SUBMIT_CP" org.apache.spark.deploy.SparkSubmit)
elif [[ -n "${SPARK_HOME:-}" ]]; then
  log "SPARK_HOME=$SPARK_HOME has neither bin/spark-submit nor jars/*.jar; point it at a Spark 4.x installation, or unset it (or set REBUNDLE_EMBEDDED=1) to run embedded"
  exit 2
elif command -v spark-submit >/dev/null; then
  SUBMIT=(spark-submit)
else
  log "--master $MASTER needs spark-submit, and none was found: set SPARK_HOME to a Spark 4.x installation (or a directory with the Spark jars in jars/), put spark-submit on PATH, or set REBUNDLE_EMBEDDED=1 to run the driver in this JVM"
  exit 2
fi
case " ${SPARK_SUBMIT_OPTS:-} " in
  *log4j2.configurationFile*) ;;
  *) export SPARK_SUBMIT_OPTS="-Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties${SPARK_SUBMIT_OPTS:+ $SPARK_SUBMIT_OPTS}" ;;
esac
# Client mode: the driver prints the name the user ran (a name with spaces falls back to the default).
[[ "$PROGRAM_NAME" != *" "* ]] && export SPARK_SUBMIT_OPTS="$SPARK_SUBMIT_OPTS -Drebundle.program.name=$PROGRAM_NAME"
MASTER_ARGS=()
[[ -n "$MASTER" ]] && MASTER_ARGS=(--master "$MASTER")
# The application jar: on Kubernetes, REBUNDLE_APP_JAR=local:///opt/rebundle/rebundle-jobs-spark.jar names
# the copy baked into the image (README "Kubernetes"); otherwise spark-submit ships ours.
spark_jar
APP_JAR="${REBUNDLE_APP_JAR:-$SPARK_JAR}"
exec "${SUBMIT[@]}" "${MASTER_ARGS[@]}" "${SUBMIT_CONF[@]}" "${SUBMIT_OPTS[@]}" --class "$MAIN_CLASS" "$APP_JAR" "${APP_ARGS[@]}"
