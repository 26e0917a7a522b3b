#!/usr/bin/env bash
# Runs the JMH microbenchmarks of the codec's hot paths (bench/src/main/java/io/rebundle/bench/jmh).
#   bench/jmh.sh                      # all of them (a few minutes)
#   bench/jmh.sh Checksum -f 1 -wi 2 -i 3    # a subset, any JMH options
# BENCH_MVN_FLAGS=-o builds offline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$ROOT" && mvn -q -B -ntp ${BENCH_MVN_FLAGS:-} -Pbench -DskipTests package)
exec java -cp "$ROOT/bench/target/classes:$(cat "$ROOT/bench/target/bench-classpath.txt")" org.openjdk.jmh.Main "$@"
