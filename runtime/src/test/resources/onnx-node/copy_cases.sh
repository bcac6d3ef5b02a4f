#!/usr/bin/env bash
# Copies the ONNX backend node tests (Debian package libonnx-testdata 1.12.0, Apache-2.0, from the ONNX
# project) for the operators tamp's java backend implements. Regenerate with:
#   apt-get install -y libonnx-testdata && bash copy_cases.sh
set -euo pipefail
src=/usr/share/libonnx-testdata/data/node
here="$(cd "$(dirname "$0")" && pwd)"
ops='add|sub|mul|div|pow|max|min|sum|equal|greater|less|and|or|not|sqrt|exp|log|tanh|abs|neg|reciprocal|sigmoid|relu|erf|where|identity|constant|shape|reshape|flatten|transpose|unsqueeze|squeeze|concat|slice|gather|expand|constantofshape|cast|range|reduce_mean|reduce_sum|reduce_sum_square|reduce_max|softmax|layer_normalization|matmul|gemm|round|clip|dequantizelinear'
n=0
for d in "$src"/test_*; do
  name=$(basename "$d")
  if echo "$name" | grep -Eq "^test_($ops)(_|$)" && ! echo "$name" | grep -Eq 'expanded|_opt|_seq|sequence|string|float8|bfloat16|FLOAT8|STRING|BFLOAT16|int4|uint4'; then
    rm -rf "$here/$name"; mkdir -p "$here/$name"
    cp "$d/model.onnx" "$here/$name/"
    cp -r "$d/test_data_set_0" "$here/$name/"
    n=$((n+1))
  fi
done
ls -d "$here"/test_* | xargs -n1 basename > "$here/CASES"
echo "copied $n cases"
