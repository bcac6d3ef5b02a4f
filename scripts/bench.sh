#!/usr/bin/env bash
# Benchmarks, one JSON object per line on stdout (progress on stderr). Timings on a shared 2-core VM vary
# ±30%: compare figures from the same run only.
#   scripts/bench.sh [executor]   tamp java backend vs ONNX Runtime on MiniLM, batch 32 x 128 tokens
#   scripts/bench.sh mx           MX conversion and Slice-and-Scale throughput (MB/s of FP32 input)
#   scripts/bench.sh mx-table [pairs] [sentences]   MX accuracy table on MiniLM and BGE (minutes; not in "all")
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
what="${1:-all}"
cache="${TAMP_CACHE_DIR:-$root/target/cache}"
echo "== building (tests skipped) ==" >&2
mvn -B -q install -DskipTests >&2
cp_file="$root/runtime/target/bench.classpath"
mvn -B -q -pl runtime dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >&2
run() {
  java --add-modules jdk.incubator.vector -Xmx8g -Dai.djl.offline=true -Dtamp.cache.dir="$cache" \
    -cp "runtime/target/test-classes:runtime/target/classes:$(cat "$cp_file")" "$@" 2> >(grep -v 'incubator' >&2)
}
if [ "$what" = all ] || [ "$what" = executor ]; then
  run dev.tamp.runtime.bench.ExecutorBench 32 128 5
fi
if [ "$what" = all ] || [ "$what" = mx ]; then
  qcp="$root/quantizers/target/bench.classpath"
  mvn -B -q -pl quantizers dependency:build-classpath -Dmdep.outputFile="$qcp" -Dmdep.includeScope=test >&2
  java --add-modules jdk.incubator.vector -Xmx8g -cp "quantizers/target/test-classes:quantizers/target/classes:$(cat "$qcp")" \
    dev.tamp.quantizers.bench.MxThroughputBench 2> >(grep -v 'incubator' >&2)
fi
if [ "$what" = mx-table ]; then
  qcp="$root/quantizers/target/bench.classpath"
  mvn -B -q -pl quantizers dependency:build-classpath -Dmdep.outputFile="$qcp" -Dmdep.includeScope=test >&2
  java --add-modules jdk.incubator.vector -Xmx8g -Dtamp.cache.dir="$cache" -cp "quantizers/target/test-classes:quantizers/target/classes:$(cat "$qcp")" \
    dev.tamp.quantizers.bench.MxAccuracyTable "${2:-500}" "${3:-256}" 2> >(grep -v 'incubator' >&2)
fi
