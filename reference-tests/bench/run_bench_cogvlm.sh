#!/bin/sh
# CogVLM2 vision layer, adapter, decoder layer: v2a4j and the original code side by side, through the harness (bench.py; see its --help).
exec /usr/bin/python3 "$(dirname "$0")/bench.py" --stages cogvlm-vision,cogvlm-adapter,cogvlm-decoder "$@"
