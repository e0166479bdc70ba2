#!/bin/sh
# VAE decoder benchmark, Java (v2a bench vae) then PyTorch (bench_vae.py), back to back, never at the same time.
# The machine may be shared: the load average is printed before each run; quote it with the numbers.
# Usage (repository root, after `mvn -o -q compile`): reference-tests/bench/run_vae_bench.sh [repeats]
set -eu
: "${V2A_REFERENCE_SRC:?set V2A_REFERENCE_SRC to the folder with the upstream checkouts (reference-tests/README.md)}"
cd "$(dirname "$0")/../.."
REPEATS="${1:-3}"
CP="$(mktemp)"
mvn -o -q dependency:build-classpath -Dmdep.outputFile="$CP" >/dev/null
echo "== Java (ND4J), $(nproc) cores; load: $(uptime)"
# A fixed mmap threshold makes glibc return every freed activation buffer to the OS at once. With the default
# (dynamic) threshold, buffers below 32 MB (conv bands, oneDNN reorders) stay in malloc arenas: measured peak RSS
# 3.48 GB without it, 2.36 GB with it, same code.
MALLOC_MMAP_THRESHOLD_=1048576 java -Xmx2g -Dorg.bytedeco.javacpp.maxphysicalbytes=0 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "target/classes:$(cat "$CP")" io.github.v2a4j.cli.BenchVaeCommand --repeats "$REPEATS"
rm -f "$CP"
echo "== PyTorch, load: $(uptime)"
/usr/bin/python3 reference-tests/bench/bench_vae.py --repeats "$REPEATS"
echo "== done, load: $(uptime)"
