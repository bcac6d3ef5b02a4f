#!/usr/bin/env bash
# The tamp demo on the bundled all-MiniLM-L6-v2 (from Maven Central): builds tamp if needed, then shows
# what tamp sees in the model and converts it to a verified, reproducible .tpk pack.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
if [ ! -f cli/target/tamp.jar ] || [ "${1:-}" = "--build" ]; then
  echo "== building tamp (mvn package, tests skipped) ==" >&2
  mvn -B -q package -DskipTests
fi
out="${DEMO_OUT:-$root/target/demo}"
mkdir -p "$out"

echo "== tamp inspect minilm =="
./tamp inspect minilm

echo
echo "== tamp convert minilm -o $out/minilm.tpk (twice: the bytes must be identical) =="
./tamp convert minilm -o "$out/minilm.tpk"
./tamp convert minilm -o "$out/minilm-again.tpk"
if cmp -s "$out/minilm.tpk" "$out/minilm-again.tpk"; then
  echo "identical: $(sha256sum "$out/minilm.tpk" | cut -c1-16)…"
else
  echo "demo: conversions differ" >&2; exit 1
fi

echo
echo "== tamp inspect $out/minilm.tpk --json (summary) =="
./tamp inspect "$out/minilm.tpk" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("format","architecture","parameters","bytes")})' 2>/dev/null \
  || ./tamp inspect "$out/minilm.tpk" --json | head -20
