#!/bin/sh
# Runs `v2a bench unet` (Java, ND4J) and then bench_unet.py (the original K4 UNet on PyTorch) back to back, with the
# same sizes, and prints both RESULT lines. Never both at once: each needs the whole machine (Java ~5 GB, PyTorch
# ~10+ GB). Extra arguments go to both (e.g. --repeats 1 --batches 1).
#
#   reference-tests/bench/run_unet_bench.sh [--repeats N] [--batches 1,2]
#
# Needs `mvn -o -q compile` done and V2A_REFERENCE_SRC (the upstream checkouts) for the Python side.
set -eu
: "${V2A_REFERENCE_SRC:?set V2A_REFERENCE_SRC to the folder with the upstream checkouts (reference-tests/README.md)}"
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cp_file=target/bench-classpath.txt
[ -f "$cp_file" ] || mvn -o -q dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
echo "== Java (ND4J) ==  load: $(cat /proc/loadavg)"
# The launcher's allocator setting (see `v2a`): freed activations go back to the OS at once, which lowers the peak
# RSS and costs some speed in page faults on fresh buffers (README, Performance).
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576} java -Xmx2g -Dorg.bytedeco.javacpp.maxphysicalbytes=0 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:$(cat "$cp_file")" io.github.v2a4j.cli.BenchUnetCommand "$@" 2>&1 | tee target/bench-unet-java.txt
echo "== PyTorch (original K4 UNet) ==  load: $(cat /proc/loadavg)"
/usr/bin/python3 reference-tests/bench/bench_unet.py "$@" 2>&1 \
  | tee target/bench-unet-torch.txt
grep -h '^RESULT' target/bench-unet-java.txt target/bench-unet-torch.txt
