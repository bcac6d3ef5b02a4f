#!/usr/bin/env bash
# The tamp demo on the bundled all-MiniLM-L6-v2 (from Maven Central): builds tamp if needed, inspects the
# model, converts it to a reproducible .tpk, embeds text, makes an MXINT8 anchor, slices it to MXINT4 without
# the FP32 weights, and measures both against FP32; then AWQ W4 (calibrated on the bundled corpus) gated by
# `tamp verify` with thresholds, as a CI job would.
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
echo "== tamp convert minilm (twice: the bytes must be identical) =="
./tamp convert minilm -o "$out/minilm.tpk"
./tamp convert minilm -o "$out/minilm-again.tpk"
if cmp -s "$out/minilm.tpk" "$out/minilm-again.tpk"; then
  echo "identical: $(sha256sum "$out/minilm.tpk" | cut -c1-16)…"
else
  echo "demo: conversions differ" >&2; exit 1
fi

echo
echo "== tamp run $out/minilm.tpk (the pack carries graph and tokenizer) =="
./tamp run "$out/minilm.tpk" --text "The cat sat on the mat." --text "A feline rested on the rug."

echo
echo "== tamp mx minilm --format mxint8 (anchor), then mx-slice to mxint4 from the codes alone =="
./tamp mx minilm --format mxint8 -o "$out/minilm-mxint8.tpk" | tail -2
./tamp mx-slice "$out/minilm-mxint8.tpk" --to mxint4 -o "$out/minilm-mxint4.tpk" | tail -2

echo
echo "== tamp eval vs FP32 (64 held-out sentences, 200 KJV→WEB pairs) =="
for f in mxint8 mxint4; do
  echo "-- $f"
  ./tamp eval "$out/minilm-$f.tpk" --reference minilm --sentences 64 --pairs 200
done

echo
echo "== tamp quantize minilm --method awq (W4 g128), then tamp verify with thresholds (exit 1 if not met) =="
./tamp quantize minilm --method awq --samples 64 -o "$out/minilm-awq-w4g128.tpk" | tail -2
echo "== tamp pack for this host's vector width =="
./tamp pack "$out/minilm-awq-w4g128.tpk" --device host -o "$out/minilm-awq-w4g128-host.tpk"
./tamp verify "$out/minilm-awq-w4g128-host.tpk" --reference minilm --sentences 64 --pairs 200 --min-cosine 0.95 --min-recall 0.93
