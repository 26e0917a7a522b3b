#!/usr/bin/env bash
# Rebundle's single entry point.
#   ./submit.sh COMMAND [OPTIONS] ...     e.g. ./submit.sh inspect conf/examples/tf1-ckpt
# Builds the project on first use (and whenever a source is newer than the jar), then runs the
# command line in this JVM ("embedded"). See README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR_GLOB="$ROOT/jobs/target/rebundle-jobs-*.jar"
CLASSPATH_FILE="$ROOT/jobs/target/runtime-classpath.txt"

log() { printf 'submit.sh: %s\n' "$*" >&2; }

needs_build() {
  local jar
  jar=$(ls $JAR_GLOB 2>/dev/null | head -n 1 || true)
  [[ -z "$jar" || ! -f "$CLASSPATH_FILE" ]] && return 0
  [[ -n "$(find "$ROOT/pom.xml" "$ROOT/codec/pom.xml" "$ROOT/jobs/pom.xml" "$ROOT/codec/src/main" \
      "$ROOT/jobs/src/main" -newer "$jar" -type f -print -quit 2>/dev/null)" ]]
}

build() {
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
  touch $JAR_GLOB
}

if needs_build; then
  mkdir -p "$ROOT/jobs"
  build
fi

JAR=$(ls $JAR_GLOB | head -n 1)
CP="$JAR:$(cat "$CLASSPATH_FILE")"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Same module flags as spark-submit (pom.xml property rebundle.jvm.flags); harmless without Spark.
JVM_FLAGS=(-XX:+IgnoreUnrecognizedVMOptions -XX:TieredStopAtLevel=1 -Xshare:auto)
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
exec "$JAVA" "${JVM_FLAGS[@]}" -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" ${REBUNDLE_JAVA_OPTS:-} -cp "$CP" io.rebundle.jobs.cli.Main "$@"
