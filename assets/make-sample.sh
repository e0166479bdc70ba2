#!/bin/sh
# Regenerates assets/sample.mp4 (3 s, 25 fps, 256x144, H.264 + AAC) with the project's own VideoWriter.
# Usage (from the repository root): assets/make-sample.sh [output.mp4]
set -e
cd "$(dirname "$0")/.."
mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
java -cp "target/test-classes:target/classes:$(cat target/cp.txt)" io.github.v2a4j.io.video.MakeSampleVideo "${1:-assets/sample.mp4}"
