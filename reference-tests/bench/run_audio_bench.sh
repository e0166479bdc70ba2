#!/bin/sh
# inverse mel + Griffin-Lim: v2a4j and the original code side by side, through the harness (bench.py; see its --help).
exec /usr/bin/python3 "$(dirname "$0")/bench.py" --stages audio "$@"
