#!/bin/sh
# Image->audio benchmark (inverse mel + 32 Griffin-Lim iterations, 512 x 1184 = 12 s): Java (v2a bench audio) then
# PyTorch (bench_audio.py, 2 threads), back to back, never at the same time; prints both medians, the ratio
# Java/PyTorch and each process's peak RSS (/usr/bin/time -v). The machine may be shared: quote the load with the
# numbers. Usage (repository root, after `mvn -o -q compile`): reference-tests/bench/run_audio_bench.sh [repeats] [frames]
set -eu
cd "$(dirname "$0")/../.."
REPEATS="${1:-3}"
FRAMES="${2:-1184}"
TAB="$(printf '\t')"
CP="$(mktemp)"; JOUT="$(mktemp)"; POUT="$(mktemp)"
trap 'rm -f "$CP" "$JOUT" "$POUT"' EXIT
mvn -o -q dependency:build-classpath -Dmdep.outputFile="$CP" >/dev/null
echo "== Java, $(nproc) cores; load: $(cat /proc/loadavg)"
/usr/bin/time -v java -Xmx1g -cp "target/classes:$(cat "$CP")" io.github.v2a4j.cli.BenchAudioCommand \
    --repeats "$REPEATS" --frames "$FRAMES" >"$JOUT" 2>&1
grep -v "^$TAB" "$JOUT"
echo "== PyTorch, load: $(cat /proc/loadavg)"
/usr/bin/time -v /usr/bin/python3 reference-tests/bench/bench_audio.py --repeats "$REPEATS" --frames "$FRAMES" >"$POUT" 2>&1
grep -v "^$TAB" "$POUT"
J="$(grep '^median' "$JOUT" | awk '{print $2}')"
P="$(grep '^median' "$POUT" | awk '{print $2}')"
JR="$(grep 'Maximum resident' "$JOUT" | awk '{print $6}')"
PR="$(grep 'Maximum resident' "$POUT" | awk '{print $6}')"
echo "== summary: Java median ${J} s, PyTorch median ${P} s, ratio Java/PyTorch $(echo "$J $P" | awk '{printf "%.2f", $1/$2}')," \
     "peak RSS (time -v) Java $((JR / 1024)) MB, PyTorch $((PR / 1024)) MB; load: $(cat /proc/loadavg)"
