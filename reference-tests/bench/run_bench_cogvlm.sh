#!/usr/bin/env bash
# Runs `v2a bench cogvlm` and its PyTorch twin with the same sizes, one after the other (never in parallel: the
# machine has 2 cores). Sizes: BENCH_FRAMES (8), BENCH_TOKENS (6337), BENCH_REPEATS (3). Extra args go to both.
set -euo pipefail
: "${V2A_REFERENCE_SRC:?set V2A_REFERENCE_SRC to the folder with the upstream checkouts (reference-tests/README.md)}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
frames="${BENCH_FRAMES:-8}"; tokens="${BENCH_TOKENS:-6337}"; repeats="${BENCH_REPEATS:-3}"
echo "== load: $(cat /proc/loadavg)"
echo "== v2a4j (ND4J)"
"$here/v2a" bench cogvlm --frames "$frames" --tokens "$tokens" --repeats "$repeats" "$@"
echo "== PyTorch $( /usr/bin/python3 -c 'import torch; print(torch.__version__)' ) (original modules, 2 threads)"
/usr/bin/python3 "$here/reference-tests/bench/bench_cogvlm.py" \
  --frames "$frames" --tokens "$tokens" --repeats "$repeats" "$@"
