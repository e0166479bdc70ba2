#!/usr/bin/env bash
# Regenerates assets/demo-model (tiny synthetic-weight model, structure only) with the project's own code.
# Deterministic: DemoModelTest checks that the committed copy is exactly what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests package
rm -rf assets/demo-model
java -cp "target/v2a4j.jar:target/lib/*" io.github.v2a4j.synthetic.DemoModel assets/demo-model
du -sh assets/demo-model
